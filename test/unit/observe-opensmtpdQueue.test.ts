import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { disabledRouteIds, parseSmtpctlQueue } from "../../src/observe/opensmtpdQueue.js";

// Captured from the real container (OpenSMTPD 7.6.0) while relaying at encrypt to a receiver without
// STARTTLS, one message to two recipients: one envelope being tried, one deferred.
const queue = readFileSync(new URL("../fixtures/logs/opensmtpd-7.6-show-queue.txt", import.meta.url), "utf8");
const routes = readFileSync(new URL("../fixtures/logs/opensmtpd-7.6-show-routes.txt", import.meta.url), "utf8");

describe("parseSmtpctlQueue", () => {
  it("reads one entry per envelope: both recipients of one message share its message id", () => {
    const envelopes = parseSmtpctlQueue(queue);
    expect(envelopes.map((envelope) => envelope.recipient)).toEqual(["bob@iroco.test", "dan@ecole.test"]);
    for (const envelope of envelopes) {
      expect(envelope.envelopeId.startsWith(envelope.messageId)).toBe(true);
      expect(envelope).toMatchObject({ source: "inet4", agent: "mta", flags: ["auth"], sender: "alice@infomaniak.test" });
      expect(envelope.destination).toBe(envelope.recipient);
    }
    expect(new Set(envelopes.map((envelope) => envelope.messageId)).size).toBe(1);
  });

  it("tells the envelope being tried from the deferred one, which carries the try's error", () => {
    const [tried, deferred] = parseSmtpctlQueue(queue);
    expect(tried).toMatchObject({ runState: "inflight", error: "" });
    expect(deferred).toMatchObject({ runState: "pending", retries: 1, error: "Network error on destination MXs" });
    expect(deferred!.runStateSeconds).toBeGreaterThan(0);
  });

  it("keeps an error text holding the separator whole", () => {
    const line = queue.split("\n")[1]!;
    const [envelope] = parseSmtpctlQueue(`${line}|and more`);
    expect(envelope!.error).toBe("Network error on destination MXs|and more");
  });

  it("reads the empty address of a bounce as empty", () => {
    const bounce = queue.split("\n")[1]!.replace("|alice@infomaniak.test|", "|@|");
    expect(parseSmtpctlQueue(bounce)[0]!.sender).toBe("");
  });

  it("an empty output is an empty queue; anything else that is not an envelope is an error naming the line", () => {
    expect(parseSmtpctlQueue("")).toEqual([]);
    expect(() => parseSmtpctlQueue(`${queue}smtpctl: connect: /var/run/smtpd.sock: Connection refused\n`)).toThrow(/line 3: .* fields/);
    expect(() => parseSmtpctlQueue(queue.replace("|pending|", "|sleeping|"))).toThrow(/line 2: unknown run state "sleeping"/);
  });
});

describe("disabledRouteIds", () => {
  it("names the route a failed session disabled (flag D)", () => {
    expect(disabledRouteIds(routes)).toEqual(["1"]);
  });

  it("leaves a route without the flag out, and an empty list is no route", () => {
    expect(disabledRouteIds(routes.replace(" ND-- ", " N--- "))).toEqual([]);
    expect(disabledRouteIds("")).toEqual([]);
  });

  it("refuses a line that is not a route", () => {
    expect(() => disabledRouteIds("smtpctl: command failed\n")).toThrow(/line 1: not a route/);
  });
});

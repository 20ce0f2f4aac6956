/**
 * events: as a scenario writes them: what changes between delivery
 * attempts, in time order, each mistake placed at its file, line and field.
 */
import { describe, expect, it } from "vitest";
import { scenarioTextLoader } from "./helpers/scenarioText.js";
import { applyDnsChange, describeEvent } from "../../src/scenario/events.js";
import { DEFAULT_DNS_SETTINGS } from "../../src/scenario/dnsDefaults.js";

const { errorOf, only } = scenarioTextLoader("case.yaml");
const delivered = "expect: { outcome: delivered, transport: tls }\n";

describe("events", () => {
  it("come after attempt 1, then each after the next attempt, and the attempts follow them", () => {
    const scenario = only(`name: x\nevents:\n  - receiver: stop\n  - receiver: start\n${delivered}`);
    expect(scenario.events).toEqual([
      { after: 1, receiver: "stop" },
      { after: 2, receiver: "start" },
    ]);
    expect(scenario.attempts).toBe(3);
  });

  it("may happen before Alice submits (after: 0) and several after one attempt", () => {
    const scenario = only(
      `name: x\nevents:\n  - { after: 0, receiver: stop }\n  - { after: 1, receiver: { postconf: { smtpd_tls_security_level: none } } }\n  - { after: 1, receiver: start }\n${delivered}`,
    );
    expect(scenario.events?.map((event) => event.after)).toEqual([0, 1, 1]);
    expect(scenario.attempts).toBe(2);
    expect(scenario.events?.[1]?.receiver).toEqual({ postconf: { smtpd_tls_security_level: "none" } });
  });

  it("a scenario without events has none, and one attempt", () => {
    const scenario = only(`name: x\n${delivered}`);
    expect(scenario).not.toHaveProperty("events");
    expect(scenario.attempts).toBe(1);
  });

  it("take each kind of change", () => {
    const scenario = only(
      [
        "name: x",
        "attempts: 5",
        "events:",
        "  - { after: 0, resolver: down }",
        "  - resolver: up",
        "  - dns: { tlsa: auto, mtaSts: { mode: enforce } }",
        "  - { sender: restart, wire: strip-starttls }",
        "  - receiver: { certificate: expired, certificateKey: ecdsa }",
        delivered,
      ].join("\n"),
    );
    expect(scenario.events).toEqual([
      { after: 0, resolver: "down" },
      { after: 1, resolver: "up" },
      { after: 2, dns: { tlsa: "auto", mtaSts: { mode: "enforce" } } },
      { after: 3, sender: "restart", wire: "strip-starttls" },
      { after: 4, receiver: { certificate: "expired", certificateKey: "ecdsa" } },
    ]);
  });

  it("refuse an event that changes nothing, or an unknown change, at the event", () => {
    expect(errorOf(`name: x\nevents:\n  - after: 1\n${delivered}`)).toBe("case.yaml:3:5: events[0]: name what changes: sender, receiver, dns, wire or resolver");
    expect(errorOf(`name: x\nevents:\n  - { receiver: stop, weather: rain }\n${delivered}`)).toBe("case.yaml:3:23: events[0].weather: unknown key (allowed here: after, sender, receiver, dns, wire, resolver)");
  });

  it("never stop the sender: a stopped sender makes no attempt to follow", () => {
    expect(errorOf(`name: x\nevents:\n  - sender: stop\n${delivered}`)).toBe("case.yaml:3:13: events[0].sender: restart (a stopped sender would make no attempt to follow), or a change: certificate, postconf");
  });

  it("leave an attempt after the last change, in time order", () => {
    expect(errorOf(`name: x\nattempts: 2\nevents:\n  - { after: 2, receiver: stop }\n${delivered}`)).toBe(
      "case.yaml:4:14: events[0].after: after attempt 2, no attempt is left to show the change (attempts: 2); set attempts to at least 3",
    );
    expect(errorOf(`name: x\nevents:\n  - { after: 2, receiver: stop }\n  - { after: 1, receiver: start }\n${delivered}`)).toBe(
      "case.yaml:4:14: events[1].after: events are listed in time order: this one comes after attempt 1, the one before it after attempt 2",
    );
  });

  it("start only what was stopped, and bring up only a resolver that is down", () => {
    expect(errorOf(`name: x\nevents:\n  - receiver: start\n${delivered}`)).toBe(
      "case.yaml:3:15: events[0].receiver: the receiver's Postfix is not stopped here: stop it in an earlier event",
    );
    expect(errorOf(`name: x\nevents:\n  - resolver: up\n${delivered}`)).toBe("case.yaml:3:15: events[0].resolver: the resolver is not down here: take it down in an earlier event");
    expect(errorOf(`name: x\nevents:\n  - receiver: stop\n  - receiver: stop\n${delivered}`)).toBe("case.yaml:4:15: events[1].receiver: the receiver's Postfix is already stopped here");
  });

  it("check a changed main.cf setting like the scenario's own", () => {
    expect(errorOf(`name: x\nevents:\n  - receiver: { postconf: { smtpd_tls_security_level: sometimes } }\n${delivered}`)).toMatch(
      /^case\.yaml:3:55: events\[0\]\.receiver\.postconf\.smtpd_tls_security_level: /,
    );
  });
});

describe("expect.attempts", () => {
  it("lists the attempts with their status and reason", () => {
    const scenario = only(
      `name: x\nevents:\n  - receiver: start\nattempts: 2\nevents:\n  - { after: 0, receiver: stop }\n  - { after: 1, receiver: start }\nexpect:\n  outcome: delivered\n  transport: tls\n  attempts: [{ status: deferred, reason: "/lost connection|refused/" }, { status: sent }]\n`.replace(
        "events:\n  - receiver: start\n",
        "",
      ),
    );
    expect(scenario.expect.attempts).toEqual([
      { status: "deferred", reason: { kind: "regex", source: "lost connection|refused", flags: "" } },
      { status: "sent" },
    ]);
  });

  it("needs a scenario that follows more than one attempt, and no more than it follows", () => {
    expect(errorOf("name: x\nexpect: { outcome: delivered, transport: tls, attempts: [{ status: sent }] }\n")).toBe(
      "case.yaml:2:47: expect.attempts: the scenario follows one attempt: set attempts to 2 or more, or add events, to judge attempts",
    );
    expect(errorOf("name: x\nattempts: 2\nexpect: { outcome: delivered, transport: tls, attempts: [{ status: deferred }, { status: deferred }, { status: sent }] }\n")).toBe(
      "case.yaml:3:47: expect.attempts: lists 3 attempts, but the scenario follows at most 2 (attempts: 2)",
    );
  });
});

describe("the words of an event", () => {
  it("say what changed, for every report", () => {
    expect(describeEvent({ after: 1, receiver: "start" })).toEqual(["Bob's provider starts Postfix"]);
    expect(describeEvent({ after: 1, resolver: "down", dns: { tlsa: "auto" } })).toEqual(["the resolver goes down", "DNS republished: TLSA auto"]);
    expect(describeEvent({ after: 2, receiver: { postconf: { smtpd_tls_security_level: "none" } } })).toEqual([
      "Bob's provider changes main.cf while mail waits: smtpd_tls_security_level = none",
    ]);
  });

  it("a DNS change keeps what it does not name", () => {
    expect(applyDnsChange({ ...DEFAULT_DNS_SETTINGS, tlsa: "wrong", mtaSts: { mode: "enforce", mx: ["mx.iroco.test"] } }, { tlsa: "auto", mtaSts: { mode: "testing" } })).toEqual({
      ...DEFAULT_DNS_SETTINGS,
      tlsa: "auto",
      mtaSts: { mode: "testing", mx: ["mx.iroco.test"] },
    });
  });
});

/**
 * expect.attempts against the sender's status lines, attempt by attempt,
 * and the words every report prints for them.
 */
import { describe, expect, it } from "vitest";
import { judge } from "../../src/judge/judge.js";
import { riskFlags } from "../../src/judge/flags.js";
import { expectedAttempts, observedAttempts } from "../../src/report/attempts.js";
import type { DeliveryAttempt, Observation } from "../../src/observe/types.js";
import type { Expectation, Scenario } from "../../src/scenario/types.js";
import { loadScenarioText } from "../../src/scenario/load.js";

const refused: DeliveryAttempt = {
  number: 1,
  after: [],
  status: "deferred",
  detail: "TLS is required, but was not offered by host mx.iroco.test[172.18.0.4]",
  line: "2026-12-01T21:00:00.000000+00:00 smtp.infomaniak.test postfix/smtp[120]: 4F1A2: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.4]:25, delay=0.1, delays=0.05/0/0.04/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.iroco.test[172.18.0.4])",
};
const sent: DeliveryAttempt = {
  number: 2,
  after: ["Bob's provider changes main.cf while mail waits: smtpd_tls_security_level = may"],
  status: "sent",
  detail: "250 2.0.0 Ok: queued as 9C0D1",
  transport: "tls",
  line: "2026-12-01T21:00:02.000000+00:00 smtp.infomaniak.test postfix/smtp[121]: 4F1A2: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.4]:25, delay=2.1, delays=2/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9C0D1)",
};
const deliveredAfterTheChange: Observation = { outcome: "delivered", transport: "tls", attempts: [refused, sent], evidence: [] };
const expectation = (attempts: Expectation["attempts"]): Expectation => ({ outcome: "delivered", transport: "tls", ...(attempts && { attempts }) });

describe("judge: expect.attempts", () => {
  it("passes when each attempt has the listed status and reason", () => {
    const verdict = judge(expectation([{ status: "deferred", reason: { kind: "substring", text: "TLS is required" } }, { status: "sent" }]), deliveredAfterTheChange);
    expect(verdict).toEqual({ passed: true, differences: [] });
  });

  it("fails on attempts.<n>.status or .reason, naming what Postfix said", () => {
    expect(judge(expectation([{ status: "sent" }, { status: "sent" }]), deliveredAfterTheChange).differences).toEqual([
      { field: "attempts.1.status", expected: "sent", observed: `deferred: ${refused.detail}` },
    ]);
    expect(judge(expectation([{ status: "deferred", reason: { kind: "substring", text: "Connection refused" } }, { status: "sent" }]), deliveredAfterTheChange).differences).toEqual([
      { field: "attempts.1.reason", expected: "contains “Connection refused”", observed: refused.detail },
    ]);
  });

  it("fails on the count alone when there were not as many attempts", () => {
    expect(judge(expectation([{ status: "sent" }]), deliveredAfterTheChange).differences).toEqual([
      { field: "attempts", expected: "1 attempt: sent", observed: "2 attempts: deferred, sent" },
    ]);
  });

  it("says so when no attempt was followed", () => {
    expect(judge({ outcome: "rejected", attempts: [{ status: "deferred" }] }, { outcome: "rejected", reason: "554 5.7.1 Relay access denied", evidence: [] }).differences).toEqual([
      { field: "attempts", expected: "1 attempt: deferred", observed: "none: the message was refused before any attempt" },
    ]);
  });
});

describe("the attempts in words", () => {
  it("show each change before the attempt it preceded", () => {
    expect(observedAttempts({ ...deliveredAfterTheChange, eventsNotApplied: ["after attempt 2: Bob's provider stops Postfix (its queue stays on disk)"] })).toEqual([
      `attempt 1: deferred: ${refused.detail}`,
      "then: Bob's provider changes main.cf while mail waits: smtpd_tls_security_level = may",
      "attempt 2: sent over TLS: 250 2.0.0 Ok: queued as 9C0D1",
      "not applied, the message had settled: after attempt 2: Bob's provider stops Postfix (its queue stays on disk)",
    ]);
    expect(observedAttempts({ outcome: "delivered", transport: "tls", evidence: [] })).toEqual([]);
    // A retry Postfix made on its own while the change was under way is shown, and not counted as an attempt.
    const meanwhile = { ...sent, meanwhile: ["deferred: lost connection with mx.iroco.test[172.18.0.4] while receiving the initial server greeting"] };
    expect(observedAttempts({ ...deliveredAfterTheChange, attempts: [refused, meanwhile] }).slice(1)).toEqual([
      "then: Bob's provider changes main.cf while mail waits: smtpd_tls_security_level = may",
      "meanwhile, Postfix retried on its own: deferred: lost connection with mx.iroco.test[172.18.0.4] while receiving the initial server greeting",
      "attempt 2: sent over TLS: 250 2.0.0 Ok: queued as 9C0D1",
    ]);
    expect(judge(expectation([{ status: "deferred" }, { status: "sent" }]), { ...deliveredAfterTheChange, attempts: [refused, meanwhile] }).passed).toBe(true);
    expect(expectedAttempts(expectation([{ status: "deferred", reason: { kind: "regex", source: "refused", flags: "i" } }, { status: "sent" }]))).toEqual([
      "attempts: deferred (/refused/i), sent",
    ]);
  });
});

describe("flags after events", () => {
  it("flag a message that waited through a change and then crossed in clear text", () => {
    const [scenario] = loadScenarioText("name: x\nevents:\n  - receiver: { postconf: { smtpd_tls_security_level: none } }\nexpect: { outcome: delivered, transport: plaintext }\n", "case.yaml") as [Scenario];
    const inClear: Observation = { outcome: "delivered", transport: "plaintext", attempts: [refused, { ...sent, transport: "plaintext", after: ["Bob's provider changes main.cf while mail waits: smtpd_tls_security_level = none"] }], evidence: [] };
    expect(riskFlags(scenario, inClear)).toEqual([
      "the message waited in the queue while the world changed (Bob's provider changes main.cf while mail waits: smtpd_tls_security_level = none), and then crossed in clear text",
    ]);
    expect(riskFlags(scenario, deliveredAfterTheChange)).toEqual([]);
  });
});

describe("explain: attempt by attempt", () => {
  it("lists the planned events, what was expected and what each attempt said", async () => {
    const { explainResult } = await import("../../src/report/explain.js");
    const [scenario] = loadScenarioText(
      "name: x\nevents:\n  - { after: 0, receiver: stop }\n  - { after: 1, receiver: start }\nexpect: { outcome: delivered, transport: tls, attempts: [{ status: deferred }, { status: sent }] }\n",
      "case.yaml",
    ) as [Scenario];
    const observation: Observation = { ...deliveredAfterTheChange, attempts: [{ ...refused, after: ["Bob's provider stops Postfix (its queue stays on disk)"] }, { ...sent, after: ["Bob's provider starts Postfix"] }] };
    const text = explainResult({ scenario, observation, verdict: { passed: true, differences: [] }, durationMs: 1 });
    const section = text.slice(text.indexOf("Attempt by attempt"), text.indexOf("Verdict:"));
    expect(section.split("\n").slice(1).filter((line) => line !== "").filter((line) => !/^\d+\. /.test(line))).toEqual([
      "  planned before Alice submits: Bob's provider stops Postfix (its queue stays on disk)",
      "  planned after attempt 1: Bob's provider starts Postfix",
      "  expected: attempts: deferred, sent",
      "  before: Bob's provider stops Postfix (its queue stays on disk)",
      `  attempt 1: deferred: ${refused.detail}`,
      "  then: Bob's provider starts Postfix",
      "  attempt 2: sent over TLS: 250 2.0.0 Ok: queued as 9C0D1",
    ]);
  });
});

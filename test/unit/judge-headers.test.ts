/**
 * expect.headers against the header fields read back from the stored copy
 * (or the message a bounce returned): names in any case, values matched as
 * the scenario wrote them, a missing field observed as "none".
 */
import { describe, expect, it } from "vitest";
import { judge } from "../../src/judge/judge.js";
import type { Observation } from "../../src/observe/types.js";
import type { Expectation, TextMatcher } from "../../src/scenario/types.js";

const substring = (text: string): TextMatcher => ({ kind: "substring", text });
const regex = (source: string, flags = ""): TextMatcher => ({ kind: "regex", source, flags });

// As Postfix 3.10 delivered it in clear text: the stored copy carries the header Alice's client wrote.
const waived: Observation = { outcome: "delivered", transport: "plaintext", headers: { "TLS-Required": "No" }, evidence: [] };
const plaintext = (headers: Record<string, TextMatcher>): Expectation => ({ outcome: "delivered", transport: "plaintext", headers });

describe("judge: expect.headers", () => {
  it("passes when the stored copy carries the field with a matching value, whatever the case of either name", () => {
    expect(judge(plaintext({ "TLS-Required": substring("No") }), waived).passed).toBe(true);
    expect(judge(plaintext({ "tls-required": regex("^no$", "i") }), waived).passed).toBe(true);
    expect(judge(plaintext({ "TLS-REQUIRED": substring("No") }), { ...waived, headers: { "Tls-Required": "No" } }).passed).toBe(true);
  });

  it("fails on headers.<name> when the value does not match, case-sensitively for a substring", () => {
    expect(judge(plaintext({ "TLS-Required": substring("no") }), waived)).toEqual({
      passed: false,
      differences: [{ field: "headers.TLS-Required", expected: "contains “no”", observed: "No" }],
    });
  });

  it("observes a field the copy does not carry as none", () => {
    expect(judge(plaintext({ "TLS-Required": substring("No") }), { ...waived, headers: {} })).toEqual({
      passed: false,
      differences: [{ field: "headers.TLS-Required", expected: "contains “No”", observed: "none" }],
    });
  });

  it("judges every expected field, each on its own name", () => {
    const differences = judge(plaintext({ "TLS-Required": substring("Yes"), "X-Note": substring("a") }), waived).differences;
    expect(differences.map((difference) => difference.field)).toEqual(["headers.TLS-Required", "headers.X-Note"]);
  });

  it("judges a bounce against the headers of the message it returned", () => {
    const bounced: Observation = { outcome: "bounced", reason: "530 5.7.0 Must issue a STARTTLS command first", headers: { "TLS-Required": "No" }, evidence: [] };
    expect(judge({ outcome: "bounced", headers: { "TLS-Required": substring("No") } }, bounced).passed).toBe(true);
    expect(judge({ outcome: "bounced", headers: { "TLS-Required": substring("No") } }, { ...bounced, headers: undefined }).differences).toEqual([
      { field: "headers.TLS-Required", expected: "contains “No”", observed: "none" },
    ]);
  });

  it("reports only the outcome when the message was not delivered as expected", () => {
    const deferred: Observation = { outcome: "deferred", reason: "TLS is required, but was not offered by host mx.iroco.test[172.20.0.5]", evidence: [] };
    expect(judge(plaintext({ "TLS-Required": substring("No") }), deferred).differences.map((difference) => difference.field)).toEqual(["outcome"]);
  });
});

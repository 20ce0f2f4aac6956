import { describe, expect, it } from "vitest";
import { riskFlags } from "../../src/judge/flags.js";
import type { Observation } from "../../src/observe/types.js";
import { scenario } from "./report-fixtures.js";

const plaintext: Observation = { outcome: "delivered", transport: "plaintext", evidence: [] };
const withTesting = { ...scenario("x", "f.yaml", { outcome: "delivered", transport: "plaintext" }), dns: { zone: "signed" as const, tlsa: "auto" as const, mtaSts: { mode: "testing" as const } } };

describe("riskFlags", () => {
  it("flags clear text to a domain whose MTA-STS policy is only in testing mode", () => {
    expect(riskFlags(withTesting, plaintext)).toEqual([expect.stringContaining("MTA-STS policy, but in testing mode")]);
    expect(riskFlags(withTesting, { ...plaintext, transport: "tls" })).toEqual([]);
  });

  it("flags a downgrade the attacker got away with, and a body the attacker read", () => {
    const base = scenario("x", "f.yaml", { outcome: "delivered", transport: "plaintext" });
    const tampered = { id: 1, mode: "strip-starttls" as const, transcript: { events: [{ kind: "tampered" as const, from: "server" as const, what: "removed STARTTLS", at: 1 }], plaintextBody: true, sawStarttlsOffer: false, sawStarttlsCommand: false } };
    const stripped: Observation = { ...plaintext, wire: { mode: "strip-starttls", plaintextBody: true, attackerReadBody: false, hops: [tampered] } };
    expect(riskFlags(base, stripped)).toEqual([expect.stringContaining("downgraded")]);
    const read: Observation = { outcome: "delivered", transport: "tls", evidence: [], wire: { mode: "mitm", plaintextBody: false, attackerReadBody: true, hops: [] } };
    expect(riskFlags(base, read)).toEqual([expect.stringContaining("attacker on the wire read the message")]);
    expect(riskFlags(base, { outcome: "delivered", transport: "tls", evidence: [] })).toEqual([]);
  });
});

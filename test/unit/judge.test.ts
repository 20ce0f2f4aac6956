import { describe, expect, it } from "vitest";
import { judge } from "../../src/judge/judge.js";
import { describeMatcher, matchText } from "../../src/judge/matchText.js";
import type { Observation, WireObservation } from "../../src/observe/types.js";
import { observeWire } from "../../src/observe/wire.js";
import type { Expectation, TextMatcher, WireMode } from "../../src/scenario/types.js";
import { replay } from "./helpers/wireFixtures.js";

// Texts from test/fixtures/logs/sender-sample.log.
const TLS_REQUIRED = "TLS is required, but was not offered by host mx.iroco.test[172.18.0.3]";
const MUST_STARTTLS =
  "host mx.iroco.test[172.18.0.3] said: 530 5.7.0 Must issue a STARTTLS command first (in reply to MAIL FROM command)";

const substring = (text: string): TextMatcher => ({ kind: "substring", text });
const regex = (source: string, flags = ""): TextMatcher => ({ kind: "regex", source, flags });

const overTls: Observation = {
  outcome: "delivered",
  transport: "tls",
  tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "trusted", peerName: "mx.iroco.test" },
  evidence: [],
};
const inPlaintext: Observation = { outcome: "delivered", transport: "plaintext", evidence: [] };
const deferred: Observation = { outcome: "deferred", reason: TLS_REQUIRED, evidence: [] };
const bounced: Observation = { outcome: "bounced", reason: MUST_STARTTLS, evidence: [] };
const rejected: Observation = { outcome: "rejected", reason: "554 5.7.1 <bob@elsewhere.example>: Relay access denied", evidence: [] };

const pass = { passed: true, differences: [] };

describe("judge: the outcome must be equal", () => {
  it("passes delivered = delivered", () => {
    expect(judge({ outcome: "delivered", transport: "tls" }, overTls)).toEqual(pass);
  });

  it("fails a deferral expected to be delivered, reporting only the outcome, with the observed reason", () => {
    const expectation: Expectation = { outcome: "delivered", transport: "tls", tls: { version: "TLSv1.3", trust: "trusted" } };
    expect(judge(expectation, deferred)).toEqual({
      passed: false,
      differences: [{ field: "outcome", expected: "delivered", observed: `deferred: ${TLS_REQUIRED}` }],
    });
  });

  it("fails a delivery expected to be deferred, without a reason difference piled on", () => {
    expect(judge({ outcome: "deferred", reason: substring("TLS is required") }, overTls)).toEqual({
      passed: false,
      differences: [{ field: "outcome", expected: "deferred", observed: "delivered" }],
    });
  });

  it("fails bounced vs deferred", () => {
    expect(judge({ outcome: "bounced" }, deferred).differences).toEqual([
      { field: "outcome", expected: "bounced", observed: `deferred: ${TLS_REQUIRED}` },
    ]);
  });
});

describe("judge: delivered — the transport must be equal", () => {
  it("passes plaintext = plaintext", () => {
    expect(judge({ outcome: "delivered", transport: "plaintext" }, inPlaintext)).toEqual(pass);
  });

  it("fails TLS expected, plaintext observed", () => {
    expect(judge({ outcome: "delivered", transport: "tls" }, inPlaintext).differences).toEqual([
      { field: "transport", expected: "tls", observed: "plaintext" },
    ]);
  });

  it("fails plaintext expected, TLS observed", () => {
    expect(judge({ outcome: "delivered", transport: "plaintext" }, overTls).differences).toEqual([
      { field: "transport", expected: "plaintext", observed: "tls" },
    ]);
  });

  it("fails when the transport could not be observed: observed 'none'", () => {
    const unknown: Observation = { outcome: "delivered", evidence: [] };
    expect(judge({ outcome: "delivered", transport: "tls" }, unknown).differences).toEqual([
      { field: "transport", expected: "tls", observed: "none" },
    ]);
  });
});

describe("judge: delivered over TLS — each given tls field must hold", () => {
  it("passes when version, trust, peerName and cipher all hold", () => {
    const expectation: Expectation = {
      outcome: "delivered",
      transport: "tls",
      tls: { version: "TLSv1.3", trust: "trusted", peerName: "mx.iroco.test", cipher: regex("AES_256_GCM") },
    };
    expect(judge(expectation, overTls)).toEqual(pass);
  });

  it("version must be exact: TLSv1.2 is not TLSv1.3, and 'TLSv1' is not a prefix match", () => {
    expect(judge({ outcome: "delivered", transport: "tls", tls: { version: "TLSv1.2" } }, overTls).differences).toEqual([
      { field: "tls.version", expected: "TLSv1.2", observed: "TLSv1.3" },
    ]);
    expect(judge({ outcome: "delivered", transport: "tls", tls: { version: "TLSv1" } }, overTls).passed).toBe(false);
  });

  it("trust must be exact: trusted is not verified", () => {
    expect(judge({ outcome: "delivered", transport: "tls", tls: { trust: "verified" } }, overTls).differences).toEqual([
      { field: "tls.trust", expected: "verified", observed: "trusted" },
    ]);
  });

  it("peerName is compared case-insensitively, but exactly", () => {
    expect(judge({ outcome: "delivered", transport: "tls", tls: { peerName: "MX.Iroco.Test" } }, overTls)).toEqual(pass);
    expect(judge({ outcome: "delivered", transport: "tls", tls: { peerName: "iroco.test" } }, overTls).differences).toEqual([
      { field: "tls.peerName", expected: "iroco.test", observed: "mx.iroco.test" },
    ]);
  });

  it("peerName fails with 'none' when the log did not show the certificate", () => {
    const noCert: Observation = { ...overTls, tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "trusted" } };
    expect(judge({ outcome: "delivered", transport: "tls", tls: { peerName: "mx.iroco.test" } }, noCert).differences).toEqual([
      { field: "tls.peerName", expected: "mx.iroco.test", observed: "none" },
    ]);
  });

  it("cipher is matched by its TextMatcher: substring passes, a wrong regex fails", () => {
    expect(judge({ outcome: "delivered", transport: "tls", tls: { cipher: substring("AES_256") } }, overTls)).toEqual(pass);
    expect(judge({ outcome: "delivered", transport: "tls", tls: { cipher: regex("CHACHA20") } }, overTls).differences).toEqual([
      { field: "tls.cipher", expected: "matches /CHACHA20/", observed: "TLS_AES_256_GCM_SHA384" },
    ]);
  });

  it("expected TLS fields with plaintext observed: the transport, and each field as 'none'", () => {
    const expectation: Expectation = {
      outcome: "delivered",
      transport: "tls",
      tls: { version: "TLSv1.3", trust: "trusted", peerName: "mx.iroco.test", cipher: substring("AES") },
    };
    expect(judge(expectation, inPlaintext).differences).toEqual([
      { field: "transport", expected: "tls", observed: "plaintext" },
      { field: "tls.version", expected: "TLSv1.3", observed: "none" },
      { field: "tls.trust", expected: "trusted", observed: "none" },
      { field: "tls.peerName", expected: "mx.iroco.test", observed: "none" },
      { field: "tls.cipher", expected: "contains “AES”", observed: "none" },
    ]);
  });

  it("reports every field that differs, not only the first", () => {
    const expectation: Expectation = { outcome: "delivered", transport: "tls", tls: { version: "TLSv1.2", trust: "verified" } };
    expect(judge(expectation, overTls).differences.map((d) => d.field)).toEqual(["tls.version", "tls.trust"]);
  });
});

describe("judge: deferred, bounced, rejected — the reason must match", () => {
  it("passes a deferral whose reason contains the substring", () => {
    expect(judge({ outcome: "deferred", reason: substring("TLS is required, but was not offered") }, deferred)).toEqual(pass);
  });

  it("passes without a reason expectation, whatever the reason", () => {
    expect(judge({ outcome: "deferred" }, deferred)).toEqual(pass);
  });

  it("fails a wrong substring, showing the observed reason", () => {
    expect(judge({ outcome: "deferred", reason: substring("Server certificate not verified") }, deferred)).toEqual({
      passed: false,
      differences: [{ field: "reason", expected: "contains “Server certificate not verified”", observed: TLS_REQUIRED }],
    });
  });

  it("the substring is case-sensitive", () => {
    expect(judge({ outcome: "deferred", reason: substring("tls is required") }, deferred).passed).toBe(false);
  });

  it("passes a bounce whose reason matches the regex", () => {
    expect(judge({ outcome: "bounced", reason: regex("530 5\\.7\\.0 must issue", "i") }, bounced)).toEqual(pass);
  });

  it("fails a regex that does not match", () => {
    expect(judge({ outcome: "bounced", reason: regex("^5\\.7\\.1") }, bounced).differences).toEqual([
      { field: "reason", expected: "matches /^5\\.7\\.1/", observed: MUST_STARTTLS },
    ]);
  });

  it("passes and fails a rejection by its reason", () => {
    expect(judge({ outcome: "rejected", reason: substring("Relay access denied") }, rejected)).toEqual(pass);
    expect(judge({ outcome: "rejected", reason: regex("5\\.7\\.0") }, rejected).passed).toBe(false);
  });

  it("fails with observed 'none' when no reason was observed", () => {
    const silent: Observation = { outcome: "deferred", evidence: [] };
    expect(judge({ outcome: "deferred", reason: substring("TLS is required") }, silent).differences).toEqual([
      { field: "reason", expected: "contains “TLS is required”", observed: "none" },
    ]);
  });
});

describe("matchText and describeMatcher", () => {
  it("substring: case-sensitive includes", () => {
    expect(matchText(substring("required"), TLS_REQUIRED)).toBe(true);
    expect(matchText(substring("Required"), TLS_REQUIRED)).toBe(false);
  });

  it("regex: compiled with its flags, matched anywhere; stateful flags do not carry over", () => {
    const m = regex("must issue", "gi");
    expect(matchText(m, MUST_STARTTLS)).toBe(true);
    expect(matchText(m, MUST_STARTTLS)).toBe(true);
    expect(matchText(regex("^TLS is"), TLS_REQUIRED)).toBe(true);
  });

  it("an invalid regex is a clear error", () => {
    expect(() => matchText(regex("("), "x")).toThrow(/invalid regex \/\(\//);
  });

  it("describes matchers for humans", () => {
    expect(describeMatcher(substring("TLS is required"))).toBe("contains “TLS is required”");
    expect(describeMatcher(regex("5\\.7\\.\\d", "i"))).toBe("matches /5\\.7\\.\\d/i");
  });
});

describe("judge: the wire — what crossed the port-25 hop", () => {
  // Real hops: the streams recorded on a port-25 hop (test/fixtures/wire), read as the harness reads the wire.
  const seen = (name: string, mode: WireMode = "pass"): WireObservation => observeWire(mode, [{ id: 1, mode, transcript: replay(name) }], []);
  const encryptedHop = seen("starttls-tls13.json");
  const readableHop = seen("plaintext.json");
  const noConnection = observeWire("pass", [], []);
  const relayedOverTls: Observation = { ...overTls, relayedBy: "sender" };
  const relayedInPlaintext: Observation = { ...inPlaintext, relayedBy: "sender" };

  it("reads the recorded hops as the judge needs them", () => {
    expect([encryptedHop.plaintextBody, readableHop.plaintextBody, noConnection.hops.length]).toEqual([false, true, 0]);
  });

  it("a TLS delivery must not have crossed readable, even when the scenario does not say", () => {
    const expectTls: Expectation = { outcome: "delivered", transport: "tls" };
    expect(judge(expectTls, { ...relayedOverTls, wire: encryptedHop })).toEqual(pass);
    expect(judge(expectTls, { ...relayedOverTls, wire: readableHop })).toEqual({
      passed: false,
      differences: [{ field: "wire.plaintextBody", expected: "false", observed: "true" }],
    });
  });

  it("a plaintext delivery must have crossed readable", () => {
    const expectPlain: Expectation = { outcome: "delivered", transport: "plaintext" };
    expect(judge(expectPlain, { ...relayedInPlaintext, wire: readableHop })).toEqual(pass);
    expect(judge(expectPlain, { ...relayedInPlaintext, wire: encryptedHop }).differences).toEqual([
      { field: "wire.plaintextBody", expected: "true", observed: "false" },
    ]);
  });

  it("fails a relayed delivery the wire saw no connection of: the transport check would otherwise pass on nothing", () => {
    const expectTls: Expectation = { outcome: "delivered", transport: "tls" };
    expect(judge(expectTls, { ...relayedOverTls, wire: noConnection })).toEqual({
      passed: false,
      differences: [{ field: "wire.connections", expected: "the relayed connection", observed: "none: the wire cannot vouch for the transport" }],
    });
    expect(judge({ ...expectTls, wire: { plaintextBody: false } }, { ...relayedOverTls }).differences.map((d) => d.field)).toEqual(["wire.connections"]);
  });

  it("holds a delivery nobody relayed (Alice straight to Bob's provider) to no wire: it never crossed the hop", () => {
    expect(judge({ outcome: "delivered", transport: "plaintext" }, { ...inPlaintext, wire: noConnection })).toEqual(pass);
  });

  it("derives nothing when the transport already differs: one difference, not two", () => {
    expect(judge({ outcome: "delivered", transport: "tls" }, { ...relayedInPlaintext, wire: readableHop }).differences).toEqual([
      { field: "transport", expected: "tls", observed: "plaintext" },
    ]);
  });

  it("derives nothing when no wire observed the hop (a library user's own observation)", () => {
    expect(judge({ outcome: "delivered", transport: "tls" }, overTls)).toEqual(pass);
  });

  it("checks attackerReadBody and injectionDiscarded when the scenario names them", () => {
    const mitm = { ...relayedOverTls, wire: { ...encryptedHop, mode: "mitm" as const, attackerReadBody: true } };
    expect(judge({ outcome: "delivered", transport: "tls", wire: { attackerReadBody: true } }, mitm)).toEqual(pass);
    expect(judge({ outcome: "delivered", transport: "tls", wire: { attackerReadBody: false } }, mitm).differences).toEqual([
      { field: "wire.attackerReadBody", expected: "false", observed: "true" },
    ]);
    const injected = { ...relayedOverTls, wire: { ...encryptedHop, mode: "inject" as const, injection: { command: "RSET", discarded: true } } };
    expect(judge({ outcome: "delivered", transport: "tls", wire: { injectionDiscarded: true } }, injected)).toEqual(pass);
    expect(judge({ outcome: "delivered", transport: "tls", wire: { injectionDiscarded: true } }, { ...relayedOverTls, wire: encryptedHop }).differences).toEqual([
      { field: "wire.injectionDiscarded", expected: "true", observed: "none" },
    ]);
  });

  it("checks a deferred message's wire too, when named", () => {
    expect(judge({ outcome: "deferred", wire: { plaintextBody: false } }, { ...deferred, wire: readableHop }).differences).toEqual([
      { field: "wire.plaintextBody", expected: "false", observed: "true" },
    ]);
  });
});

describe("judge: the key exchange — expected, and agreed on by the log and the wire", () => {
  // Key exchanges as the sending Postfix 3.7 logged them in test/fixtures/logs/sender-keyexchange.log,
  // and as Postfix 3.10 logs them (DESIGN.md, "The next world").
  const loggedAs = (keyExchange: string, wireSaw?: string): Observation => ({
    ...overTls,
    tls: { ...overTls.tls!, keyExchange },
    ...(wireSaw !== undefined && { wire: { mode: "pass", plaintextBody: false, attackerReadBody: false, hops: [], keyExchange: wireSaw } }),
  });
  const expecting = (keyExchange: string): Expectation => ({ outcome: "delivered", transport: "tls", tls: { keyExchange } });

  it("passes whatever the spelling: case, OpenSSL's and NIST's curve names, Postfix's ECDHE (curve)", () => {
    expect(judge(expecting("x25519"), loggedAs("X25519", "x25519"))).toEqual(pass);
    expect(judge(expecting("X25519MLKEM768"), loggedAs("X25519MLKEM768", "X25519MLKEM768"))).toEqual(pass);
    expect(judge(expecting("P-256"), loggedAs("ECDHE (prime256v1)", "secp256r1"))).toEqual(pass);
    expect(judge(expecting("secp384r1"), loggedAs("ECDHE (secp384r1)", "secp384r1"))).toEqual(pass);
  });

  it("fails on tls.keyExchange when the group is another, or unknown", () => {
    expect(judge(expecting("secp384r1"), loggedAs("X25519", "x25519")).differences).toEqual([
      { field: "tls.keyExchange", expected: "secp384r1", observed: "X25519" },
    ]);
    // A hybrid is not its classical half.
    expect(judge(expecting("X25519MLKEM768"), loggedAs("x25519", "x25519")).differences).toEqual([
      { field: "tls.keyExchange", expected: "X25519MLKEM768", observed: "x25519" },
    ]);
    expect(judge(expecting("x25519"), overTls).differences).toEqual([{ field: "tls.keyExchange", expected: "x25519", observed: "none" }]);
  });

  it("fails when the log and the wire disagree, naming both, even when the scenario expects no group", () => {
    const disagreeing = loggedAs("X25519MLKEM768", "x25519");
    const difference = {
      field: "tls.keyExchange",
      expected: "the sender's log and the wire to name the same group",
      observed: "the sender's log says X25519MLKEM768, the wire's handshake shows x25519",
    };
    expect(judge({ outcome: "delivered", transport: "tls" }, disagreeing)).toEqual({ passed: false, differences: [difference] });
    expect(judge(expecting("X25519MLKEM768"), disagreeing).differences).toEqual([difference]);
  });

  it("TLS 1.2: Postfix logs no group, so the wire's reading of the ServerKeyExchange is judged, and named", () => {
    const tls12: Observation = {
      ...overTls,
      tls: { version: "TLSv1.2", cipher: "ECDHE-RSA-AES256-GCM-SHA384", trust: "verified" },
      wire: { mode: "pass", plaintextBody: false, attackerReadBody: false, hops: [], keyExchange: "secp256r1" },
    };
    expect(judge(expecting("prime256v1"), tls12)).toEqual(pass);
    expect(judge(expecting("x25519"), tls12).differences).toEqual([
      { field: "tls.keyExchange", expected: "x25519", observed: "secp256r1 (read by the wire; the sender's log names no group)" },
    ]);
  });

  it("has nothing to cross-check when one witness is silent (TLS 1.2 with anonymous DH: Postfix logs no group)", () => {
    expect(judge({ outcome: "delivered", transport: "tls" }, loggedAs("X25519"))).toEqual(pass);
    const wireOnly: Observation = { ...overTls, wire: { mode: "pass", plaintextBody: false, attackerReadBody: false, hops: [], keyExchange: "x25519" } };
    expect(judge({ outcome: "delivered", transport: "tls" }, wireOnly)).toEqual(pass);
  });
});

describe("judge: a trust no sending MTA judged", () => {
  // Alice's client handed the message straight to Bob's provider: only the Received header speaks, and it names no trust.
  const straightToTheReceiver: Observation = { ...overTls, tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "unknown" } };

  it("fails an expected trust, saying why it is unknown", () => {
    expect(judge({ outcome: "delivered", transport: "tls", tls: { trust: "verified" } }, straightToTheReceiver)).toEqual({
      passed: false,
      differences: [
        { field: "tls.trust", expected: "verified", observed: "unknown (no sending MTA judged the certificate: the message was not relayed)" },
      ],
    });
  });

  it("still judges what the header did say", () => {
    expect(judge({ outcome: "delivered", transport: "tls", tls: { version: "TLSv1.3" } }, straightToTheReceiver)).toEqual(pass);
  });
});

import { describe, expect, it } from "vitest";
import type { WireObservation } from "../../src/observe/types.js";
import { observeWire, wireEvidence } from "../../src/observe/wire.js";
import type { TlsHandshakeEvent, Transcript, WireTranscript } from "../../src/wire/transcript.js";

function hop(id: number, transcript: Partial<Transcript>): WireTranscript {
  return {
    id,
    mode: "pass",
    transcript: { events: [], plaintextBody: false, sawStarttlsOffer: true, sawStarttlsCommand: true, ...transcript },
  };
}

// smtpd's end-of-session counts (Postfix 3.7), after an inject scenario over TLS, and from a vulnerable server.
const DISCARDED = "Nov 28 01:10:00 mx postfix/smtpd[140]: disconnect from unknown[172.19.0.4] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7";
const EXECUTED = "Nov 28 01:10:00 mx postfix/smtpd[140]: disconnect from unknown[172.19.0.4] ehlo=2 starttls=1 rset=1 mail=1 rcpt=1 data=1 quit=1 commands=8";

/** The lines of the wire's evidence; every one of them but the injection verdict is the wire's own. */
const wireLines = (observation: WireObservation, stillOpen = 0): string[] =>
  wireEvidence(observation, stillOpen).map((item) => {
    expect(item.source).toBe("wire");
    return item.line;
  });

describe("observeWire", () => {
  it("the body crossed readable when it did on any connection (a retry in clear text after a failed handshake)", () => {
    const observed = observeWire("fail-handshake", [hop(1, {}), hop(2, { plaintextBody: true })], []);
    expect(observed).toMatchObject({ mode: "fail-handshake", plaintextBody: true, attackerReadBody: false });
    expect(observed.hops.map((h) => h.id)).toEqual([1, 2]);
  });

  it("no connection at all: nothing crossed", () => {
    expect(observeWire("pass", [], [])).toEqual({ mode: "pass", plaintextBody: false, attackerReadBody: false, hops: [] });
  });

  it("mitm: the attacker read the body, a passive listener did not", () => {
    expect(observeWire("mitm", [hop(1, { attackerReadBody: true })], [])).toMatchObject({ plaintextBody: false, attackerReadBody: true });
  });

  it("inject: discarded when the receiver's count of executed commands has no RSET", () => {
    const injected = [hop(1, { injected: "RSET" })];
    expect(observeWire("inject", injected, [DISCARDED]).injection).toEqual({
      command: "RSET",
      discarded: true,
      evidence: "receiver's smtpd executed ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7: no rset, the injected RSET was discarded",
    });
    expect(observeWire("inject", injected, [EXECUTED]).injection).toMatchObject({ command: "RSET", discarded: false });
    // No end of session logged: nothing proves the command was discarded.
    expect(observeWire("inject", injected, ["Nov 28 mx postfix/smtpd[140]: connect from wire"]).injection).toEqual({ command: "RSET", discarded: false });
    expect(observeWire("pass", [hop(1, {})], [EXECUTED]).injection).toBeUndefined();
  });
});

describe("observeWire: the key exchange", () => {
  const serverHello = (keyExchange?: string): TlsHandshakeEvent => ({
    kind: "tls-handshake", from: "server", message: "ServerHello", messages: ["ServerHello"], recordBytes: 90, at: 1,
    ...(keyExchange !== undefined && { keyExchange }),
  });
  const serverKeyExchange: TlsHandshakeEvent = {
    kind: "tls-handshake", from: "server", message: "other", messages: ["ServerKeyExchange"], keyExchange: "secp256r1", recordBytes: 300, at: 2,
  };

  it("is the group of the last connection whose handshake named one, with its evidence line", () => {
    const hops = [hop(1, { events: [serverHello("secp384r1")] }), hop(2, { events: [serverHello("X25519MLKEM768")] }), hop(3, { plaintextBody: true })];
    const observed = observeWire("pass", hops, []);
    expect(observed.keyExchange).toBe("X25519MLKEM768");
    expect(wireLines(observed)).toContain("wire: connection 2: key exchange X25519MLKEM768 (the ServerHello's key_share)");
  });

  it("TLS 1.2: from the ServerKeyExchange; none when no handshake showed a group", () => {
    const tls12 = observeWire("pass", [hop(1, { events: [serverHello(), serverKeyExchange] })], []);
    expect(tls12.keyExchange).toBe("secp256r1");
    expect(wireLines(tls12)).toContain("wire: connection 1: key exchange secp256r1 (the ServerKeyExchange)");
    expect(observeWire("pass", [hop(1, { events: [serverHello()] })], []).keyExchange).toBeUndefined();
    const sameRecord: TlsHandshakeEvent = { ...serverHello(), messages: ["ServerHello", "Certificate", "ServerKeyExchange"], keyExchange: "x25519" };
    expect(wireLines(observeWire("pass", [hop(4, { events: [sameRecord] })], []))).toContain(
      "wire: connection 4: key exchange x25519 (the ServerKeyExchange)",
    );
  });
});

describe("wireEvidence", () => {
  it("says how many connections, whether the body was readable, and what the attacker did", () => {
    const tampered = hop(3, { events: [{ kind: "tampered", from: "server", what: "removed STARTTLS from the EHLO reply", at: 1 }], plaintextBody: true });
    const lines = wireLines(observeWire("strip-starttls", [tampered], []));
    expect(lines).toEqual([
      "wire (strip-starttls): 1 connection on the port-25 hop; message readable by an eavesdropper: yes",
      "wire: connection 3: removed STARTTLS from the EHLO reply",
    ]);
    expect(wireLines(observeWire("pass", [], []), 2)).toContain("wire: 2 connection(s) still open when the transcripts were read");
  });

  it("credits the injection verdict to the receiver's log, which it was read from", () => {
    const injected = observeWire("inject", [hop(1, { injected: "RSET" })], [DISCARDED]);
    expect(wireEvidence(injected, 0).at(-1)).toEqual({
      source: "receiver-log",
      line: "receiver's smtpd executed ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7: no rset, the injected RSET was discarded",
    });
    const unknown = wireEvidence(observeWire("inject", [hop(1, { injected: "RSET" })], []), 0).at(-1);
    expect(unknown?.source).toBe("wire");
    expect(unknown?.line).toContain("whether it executed the injected RSET is unknown");
  });
});

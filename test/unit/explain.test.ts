/**
 * `starttls-lab explain` as a lesson: results built around real transcripts,
 * replayed from the recorded byte streams in test/fixtures/wire through the
 * wire's own HopRecorder (or crafted with it, for the attacker modes).
 */
import { describe, expect, it } from "vitest";
import { explainResult } from "../../src/report/explain.js";
import { logEvidence, statement, type DnsEvidence, type Evidence } from "../../src/observe/evidence.js";
import type { Observation, WireObservation } from "../../src/observe/types.js";
import type { ScenarioResult } from "../../src/core/result.js";
import type { Expectation, Scenario, WireMode } from "../../src/scenario/types.js";
import { TAMPERED_CLIENT_HELLO, TAMPERED_EHLO } from "../../src/wire/proxy.js";
import { HopRecorder } from "../../src/wire/recorder.js";
import type { Direction, Transcript, WireTranscript } from "../../src/wire/transcript.js";
import { feed, loadChunks, MARKER, replay, type Chunk } from "./helpers/wireFixtures.js";
import { scenario as fixtureScenario } from "./report-fixtures.js";

const text = (from: Direction, ...lines: string[]): Chunk => ({ from, data: Buffer.from(lines.map((l) => `${l}\r\n`).join("")) });

const GREETING = text("server", "220 mx.iroco.test ESMTP starttls-lab");
const EHLO = text("client", "EHLO smtp.infomaniak.test");
const EHLO_REPLY_WITHOUT_STARTTLS = text(
  "server",
  "250-mx.iroco.test",
  "250-PIPELINING",
  "250-SIZE 10240000",
  "250-ENHANCEDSTATUSCODES",
  "250-8BITMIME",
  "250 SMTPUTF8",
);
/** Everything after the EHLO reply of a plaintext session, Postfix-style (MAIL, RCPT, DATA pipelined). */
const PLAINTEXT_REST: Chunk[] = [
  text("client", "MAIL FROM:<alice@infomaniak.test>", "RCPT TO:<bob@iroco.test>", "DATA"),
  text("server", "250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"),
  text("client", "From: Alice <alice@infomaniak.test>", "To: Bob <bob@iroco.test>", "Subject: Hello Bob", "", "Hello Bob,", `the marker of this message is ${MARKER}.`, "."),
  text("server", "250 2.0.0 Ok: queued as 4XyZ1a2B3c"),
  text("client", "QUIT"),
  text("server", "221 2.0.0 Bye"),
];

/** strip-starttls as the proxy records it: the tampered note, then the EHLO reply as the client got it. */
function strippedTranscript(): Transcript {
  const recorder = new HopRecorder();
  feed(recorder, [GREETING, EHLO]);
  recorder.tampered("server", TAMPERED_EHLO);
  feed(recorder, [EHLO_REPLY_WITHOUT_STARTTLS, ...PLAINTEXT_REST]);
  recorder.close("client");
  recorder.close("server");
  return recorder.transcript(MARKER);
}

/** fail-handshake as the proxy records it: the real STARTTLS capture up to the ClientHello, then both closed. */
function failedHandshakeTranscript(): Transcript {
  const chunks = loadChunks("starttls-tls13.json");
  const helloIndex = chunks.findIndex((chunk) => chunk.from === "client" && chunk.data[0] === 0x16);
  const recorder = new HopRecorder();
  feed(recorder, chunks.slice(0, helloIndex + 1));
  recorder.tampered("client", TAMPERED_CLIENT_HELLO);
  recorder.close("client");
  recorder.close("server");
  return recorder.transcript(MARKER);
}

function wire(mode: WireMode, ...transcripts: Transcript[]): WireObservation {
  const hops: WireTranscript[] = transcripts.map((transcript, i) => ({ id: i + 1, mode, transcript }));
  return {
    mode,
    plaintextBody: transcripts.some((t) => t.plaintextBody),
    attackerReadBody: transcripts.some((t) => t.attackerReadBody === true),
    hops,
  };
}

function scenario(name: string, expect: Expectation, mode: WireMode = "pass"): Scenario {
  return { ...fixtureScenario(name, "scenarios/lesson.yaml", expect), wire: mode };
}

function result(s: Scenario, observation: Observation): ScenarioResult {
  return { scenario: s, observation, verdict: { passed: true, differences: [] }, durationMs: 400 };
}

const FINGERPRINT =
  "CD:20:B0:2D:FC:70:8A:13:3D:56:44:99:DF:4B:17:0C:BE:D7:BC:01:12:92:7F:3F:FA:A7:67:42:A7:34:74:69";
const PKEY =
  "35:12:C3:95:84:FE:8F:19:B7:A3:50:8D:0E:E4:05:9C:3D:5E:AB:B4:31:BF:BB:4D:CE:54:8D:C9:7C:D5:40:9E";
const LOG = {
  messageId: logEvidence("sender", "Nov 27 22:47:19 smtp postfix/cleanup[111]: 0CDCF178411: message-id=<m1.1795819638894@infomaniak.test>"),
  peerCert: logEvidence("sender", `Nov 27 22:47:19 smtp postfix/smtp[112]: mx.iroco.test[172.18.0.3]:25: subject_CN=mx.iroco.test, issuer_CN=starttls-lab test CA, fingerprint=${FINGERPRINT}, pkey_fingerprint=${PKEY}`),
  trusted: logEvidence(
    "sender",
    "Nov 27 22:47:19 smtp postfix/smtp[112]: Trusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
  ),
  sent: logEvidence(
    "sender",
    "Nov 27 22:47:19 smtp postfix/smtp[112]: 0CDCF178411: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.11, delays=0.02/0.02/0.05/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 2426C178491)",
  ),
  stored: logEvidence(
    "receiver",
    "Nov 27 22:47:19 mx postfix/lmtp[110]: 2426C178491: to=<bob@iroco.test>, relay=mx.iroco.test[private/dovecot-lmtp], delay=0.07, delays=0.01/0.01/0.02/0.02, dsn=2.0.0, status=sent (250 2.0.0 <bob@iroco.test> WFjvCncICmtvAAAA4McfTA Saved)",
  ),
  inboxTls: statement("mailbox", "bob@iroco.test's inbox: Received: from smtp.infomaniak.test by mx.iroco.test with ESMTPS"),
  inboxPlain: statement("mailbox", "bob@iroco.test's inbox: Received: from smtp.infomaniak.test by mx.iroco.test with ESMTP"),
};

function tls13Result(): ScenarioResult {
  return result(scenario("may to may delivers over TLS 1.3", { outcome: "delivered", transport: "tls" }), {
    outcome: "delivered",
    transport: "tls",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "trusted", peerName: "mx.iroco.test" },
    wire: wire("pass", replay("starttls-tls13.json")),
    evidence: [LOG.messageId, LOG.peerCert, LOG.trusted, LOG.sent, LOG.stored, LOG.inboxTls],
  });
}

function plaintextResult(): ScenarioResult {
  return result(scenario("may to none delivers in plaintext", { outcome: "delivered", transport: "plaintext" }), {
    outcome: "delivered",
    transport: "plaintext",
    wire: wire("pass", replay("plaintext.json")),
    evidence: [LOG.messageId, LOG.sent, LOG.stored, LOG.inboxPlain],
  });
}

/** The dialogue part of the text (section 3), to assert on what the wire showed. */
function wirePart(out: string): string {
  const start = out.indexOf("On the wire between the providers (port 25)");
  expect(start).toBeGreaterThanOrEqual(0);
  const end = out.indexOf("\n4. ", start);
  return out.slice(start, end < 0 ? undefined : end);
}

/** The text with every run of white space as one space, for phrases a note may wrap. */
const flat = (text: string): string => text.replace(/\s+/g, " ");

function eavesdropperPart(out: string): string {
  const start = out.indexOf("What an eavesdropper could read:");
  expect(start).toBeGreaterThanOrEqual(0);
  return out.slice(start, out.indexOf("What the servers logged", start));
}

describe("explainResult: the STARTTLS session over TLS 1.3 (recorded stream)", () => {
  const out = explainResult(tls13Result());
  const dialogue = wirePart(out);

  it("numbers its sections in the lesson's order", () => {
    const titles = [...out.matchAll(/^(\d+)\. (.*)$/gm)].map((m) => `${m[1]}. ${m[2]!.split(" ").slice(0, 4).join(" ")}`);
    expect(titles).toEqual([
      "1. The world was set",
      "2. Alice's client submitted alice@infomaniak.test",
      "3. On the wire between",
      "4. The certificate Bob's provider",
      "5. What an eavesdropper could",
      "6. What the servers logged,",
      "7. Verdict:",
    ]);
  });

  it("explains the notation once and prints the real dialogue in it", () => {
    expect(dialogue).toContain("How to read it:");
    expect(dialogue).toMatch(/^ {5}-> +a line Alice's provider \(the SMTP client\) sent$/m);
    expect(dialogue).toMatch(/^ {4}<- +a line Bob's provider \(the SMTP server\) sent$/m);
    expect(dialogue).toMatch(/^ {4}« +a note for you, not part of the dialogue$/m);
    expect(dialogue.match(/How to read it/g)).toHaveLength(1);
    expect(dialogue).toContain("  Connection 1\n");
    expect(dialogue).toMatch(/^ {4}<- {2}220 mx\.iroco\.test ESMTP starttls-lab +« Bob's provider greets/m);
    expect(dialogue).toMatch(/^ {5}-> EHLO smtp\.infomaniak\.test +« Alice's provider says hello/m);
    expect(dialogue).toMatch(/^ {4}<- {2}250-STARTTLS +« the server offers STARTTLS$/m);
    expect(dialogue).toMatch(/^ {5}-> STARTTLS +« Alice's provider takes the offer$/m);
    expect(dialogue).toMatch(/^ {4}<- {2}220 2\.0\.0 Ready to start TLS +« the server agrees: clear text ends/m);
  });

  it("marks where the clear text ends, then reads the hellos", () => {
    const divider = dialogue.indexOf("---- from here on: encrypted (TLS) ----");
    expect(divider).toBeGreaterThan(dialogue.indexOf("220 2.0.0 Ready to start TLS"));
    const hello = dialogue.indexOf("TLS ClientHello: SNI mx.iroco.test; offers TLSv1.3, TLSv1.2");
    expect(hello).toBeGreaterThan(divider);
    expect(dialogue).toContain("TLS ServerHello: TLSv1.3, ");
    // The recorded ServerHello's key_share carries group 0x001d.
    expect(dialogue).toMatch(/TLS ServerHello: TLSv1\.3, TLS_\w+, key exchange x25519/);
    expect(flat(dialogue)).toContain("in TLS 1.3 the rest is encrypted, the certificate too");
    expect(flat(dialogue)).toContain("still readable: the name Alice's provider asks for (SNI) and the TLS versions it offers");
  });

  it("sums the encrypted records up in one line, and shows no SMTP line after the switch", () => {
    expect(dialogue).toMatch(/<-> \d+ records, [\d.]+ (kB|bytes) the eavesdropper cannot read/);
    expect(dialogue.match(/the eavesdropper cannot read/g)).toHaveLength(1);
    const afterDivider = dialogue.slice(dialogue.indexOf("---- from here on"));
    expect(afterDivider).not.toMatch(/MAIL FROM|RCPT TO|message itself/);
  });

  it("keeps lines under 100 columns, except raw log lines and the kept-together TLS gloss", () => {
    const logLines = new Set(tls13Result().observation!.evidence.map((item) => `  ${item.line}`));
    const long = out.split("\n").filter((line) => line.length > 100 && !logLines.has(line) && !line.includes("STARTTLS taken"));
    expect(long).toEqual([]);
  });

  it("names the certificate presented and how the sender judged it", () => {
    expect(out).toContain('The scenario gave Bob\'s provider the "valid" certificate (rsa key).');
    expect(out).toContain("Alice's provider asked for the name mx.iroco.test (SNI)");
    expect(out).toContain("Bob's provider presented a certificate for mx.iroco.test, issued by starttls-lab test CA");
    expect(out).toContain("(fingerprint CD:20:B0:2D:FC:70:8A:13…)");
    expect(flat(out)).toContain(
      "Alice's provider judged it Trusted: the certificate chains to a trusted CA, but its name was not checked at this security level.",
    );
    expect(flat(out)).toContain("The session: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384, key exchange X25519, to mx.iroco.test.");
  });

  it("concludes that the eavesdropper could not read the body", () => {
    const seen = eavesdropperPart(out);
    expect(seen).toContain("the commands sent in clear text: EHLO, STARTTLS");
    expect(seen).toContain("SNI mx.iroco.test");
    expect(seen).not.toContain("the envelope:");
    expect(flat(seen)).toContain("the version and cipher chosen (TLSv1.3 with TLS_AES_256_GCM_SHA384)");
    expect(seen).toMatch(/In short: the eavesdropper saw only the EHLO and STARTTLS exchange/);
    expect(seen.replace(/\s+/g, " ")).toContain("could not read the body, nor the envelope");
  });

  it("keeps the log lines with their glosses, and the verdict", () => {
    expect(out).toMatch(
      /Trusted TLS connection established to mx\.iroco\.test\[[\d.]+\]:25: TLSv1\.3 with cipher \S+.*\n\s+↳ STARTTLS taken: TLSv1\.3 with \S+\. Trusted = the certificate chains to a trusted CA/,
    );
    expect(out).toContain("↳ stored in the mailbox by Dovecot (LMTP)");
    expect(out).toContain("PASS: real Postfix did what the scenario expects.");
  });
});

describe("explainResult: a plaintext session (recorded stream)", () => {
  const out = explainResult(plaintextResult());
  const dialogue = wirePart(out);

  it("glosses the missing offer and the envelope, and collapses the message into one line", () => {
    expect(flat(dialogue)).toMatch(/250 SMTPUTF8 « no STARTTLS in the reply: a `may` sender goes on in clear text, one that requires TLS gives up /);
    expect(dialogue).not.toContain("the attacker");
    expect(dialogue).not.toContain("---- from here on");
    expect(dialogue).toMatch(/-> MAIL FROM:<alice@infomaniak\.test> +« the envelope's sender, readable/);
    expect(flat(dialogue)).toContain(
      "-> (the message itself: 3 header lines, 2 body lines) « in clear text: the eavesdropper could read the whole message, headers and body",
    );
    expect(dialogue).not.toContain(MARKER);
    expect(dialogue).toMatch(/<- {2}250 2\.0\.0 Ok: queued as 4XyZ1a2B3c +« Bob's provider accepted the message/);
  });

  it("says the whole message was readable", () => {
    const seen = eavesdropperPart(out);
    expect(seen).toContain("the envelope: MAIL FROM:<alice@infomaniak.test>, RCPT TO:<bob@iroco.test>");
    expect(seen).toContain("the whole message, headers and body");
    expect(seen).toContain("In short: the whole message was readable by anyone on the wire");
  });

  it("says no TLS handshake took place, so there was no certificate to judge", () => {
    expect(out).toContain("No TLS handshake took place on the hop");
    expect(out).not.toContain("judged it Trusted");
  });
});

describe("explainResult: attacker modes", () => {
  it("strip-starttls: flags the attacker's change and the missing offer it caused", () => {
    const out = explainResult(
      result(scenario("the wire strips STARTTLS", { outcome: "delivered", transport: "plaintext" }, "strip-starttls"), {
        outcome: "delivered",
        transport: "plaintext",
        wire: wire("strip-starttls", strippedTranscript()),
        evidence: [LOG.messageId, LOG.sent, LOG.stored, LOG.inboxPlain],
      }),
    );
    const dialogue = wirePart(out);
    expect(dialogue).toContain("removes STARTTLS from the server's EHLO reply");
    expect(dialogue).toMatch(/^ {4} !! +the attacker on the wire changed the dialogue here$/m);
    expect(dialogue).not.toContain("<->");
    const flagged = dialogue.indexOf(" !! the attacker removed STARTTLS from the EHLO reply");
    expect(flagged).toBeGreaterThan(dialogue.indexOf("EHLO smtp.infomaniak.test"));
    expect(flat(dialogue.slice(flagged))).toContain("the attacker's doing: what Alice's provider received is not what Bob's provider sent");
    expect(flat(dialogue)).toContain("no STARTTLS in the reply: a `may` sender goes on in clear text, one that requires TLS gives up (the attacker removed the offer)");
    const seen = eavesdropperPart(out);
    expect(seen).toContain("In short: the whole message was readable");
    expect(flat(seen)).toContain("the attacker on the wire changed the dialogue: it removed STARTTLS from the EHLO reply");
  });

  it("fail-handshake then a plaintext retry: two connections, the withheld ClientHello flagged", () => {
    const retry = strippedTranscript();
    retry.events = retry.events.filter((e) => e.kind !== "tampered");
    const out = explainResult(
      result(scenario("the wire breaks the handshake", { outcome: "delivered", transport: "plaintext" }, "fail-handshake"), {
        outcome: "delivered",
        transport: "plaintext",
        wire: wire("fail-handshake", failedHandshakeTranscript(), retry),
        evidence: [LOG.messageId, LOG.sent, LOG.stored, LOG.inboxPlain],
      }),
    );
    const dialogue = wirePart(out);
    const first = dialogue.indexOf("  Connection 1\n");
    const second = dialogue.indexOf("  Connection 2\n");
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    const one = dialogue.slice(first, second);
    expect(one).toContain("TLS ClientHello: SNI mx.iroco.test");
    expect(one).toContain(" !! the attacker withheld the ClientHello and closed both connections");
    expect(one).not.toContain("ServerHello");
    expect(one).toContain("(closes its side of the connection)");
    expect(out).toContain("No TLS session was established");
    expect(eavesdropperPart(out)).toContain("Over these 2 connections");
    expect(flat(eavesdropperPart(out))).toContain("(SNI mx.iroco.test), the TLS versions offered (TLSv1.3, TLSv1.2)");
    expect(eavesdropperPart(out)).not.toContain("cipher chosen");
    expect(eavesdropperPart(out)).toContain("In short: the whole message was readable");
  });

  it("fail-handshake alone: the message stays queued, and the eavesdropper got no further than the ClientHello", () => {
    const reason = "Cannot start TLS: handshake failure";
    const out = explainResult(
      result(scenario("the wire breaks the handshake, encrypt", { outcome: "deferred" }, "fail-handshake"), {
        outcome: "deferred",
        reason,
        wire: wire("fail-handshake", failedHandshakeTranscript()),
        evidence: [
          logEvidence(
            "sender",
            `Nov 27 22:50:03 smtp postfix/smtp[512]: 4C1E2178100: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.05, delays=0.01/0.02/0.02/0, dsn=4.7.5, status=deferred (${reason})`,
          ),
        ],
      }),
    );
    expect(flat(out)).toContain(`No TLS session was established: the logs show no judgement of a certificate. Postfix's reason: ${reason}`);
    const seen = flat(eavesdropperPart(out));
    expect(seen).not.toContain("the envelope:");
    expect(seen).toContain(
      "In short: the eavesdropper saw only the EHLO and STARTTLS exchange and the start of the TLS handshake, nothing past it: it could not read the body, nor the envelope.",
    );
  });

  it("mitm: lines inside TLS are marked as read by the attacker, and so is the body", () => {
    const tls = replay("starttls-tls13.json");
    const at = 0;
    // The recorder does not decrypt: the lines the attacker read inside TLS are written by hand.
    const inside: Transcript = {
      ...tls,
      attackerReadBody: true,
      events: [
        ...tls.events.filter((e) => e.kind !== "closed"),
        { kind: "smtp", from: "client", line: "EHLO smtp.infomaniak.test", decrypted: true, at },
        { kind: "smtp", from: "server", line: "250 mx.iroco.test", decrypted: true, at },
        { kind: "smtp", from: "client", line: "MAIL FROM:<alice@infomaniak.test>", decrypted: true, at },
        { kind: "smtp", from: "server", line: "250 2.1.0 Ok", decrypted: true, at },
        { kind: "smtp", from: "client", line: "DATA", decrypted: true, at },
        { kind: "smtp", from: "server", line: "354 End data with <CR><LF>.<CR><LF>", decrypted: true, at },
        { kind: "smtp", from: "client", line: "Subject: Hello Bob", decrypted: true, at },
        { kind: "smtp", from: "client", line: "", decrypted: true, at },
        { kind: "smtp", from: "client", line: `the marker of this message is ${MARKER}.`, decrypted: true, at },
        { kind: "smtp", from: "client", line: ".", decrypted: true, at },
        { kind: "smtp", from: "server", line: "250 2.0.0 Ok: queued as 4XyZ1a2B3c", decrypted: true, at },
      ],
    };
    const out = explainResult(
      result(scenario("a man in the middle", { outcome: "delivered", transport: "tls" }, "mitm"), {
        outcome: "delivered",
        transport: "tls",
        wire: wire("mitm", inside),
        evidence: [LOG.messageId, LOG.sent, LOG.stored, LOG.inboxTls],
      }),
    );
    const dialogue = wirePart(out);
    expect(dialogue).toMatch(/^ {4} ~> <~ +lines inside TLS that the attacker read/m);
    expect(flat(dialogue)).toContain(" ~> EHLO smtp.infomaniak.test « read by the attacker, who terminated TLS itself");
    expect(flat(dialogue)).toContain(" ~> MAIL FROM:<alice@infomaniak.test> « the envelope's sender, read by the attacker");
    expect(flat(dialogue)).toContain(
      " ~> (the message itself: 1 header line, 1 body line) « read by the attacker, who terminated TLS itself: the whole message, body included",
    );
    expect(dialogue).toMatch(/^ {4}<~ {2}250 2\.0\.0 Ok: queued as 4XyZ1a2B3c/m);
    const seen = eavesdropperPart(out);
    expect(seen).toContain("In short: the attacker read everything");
    expect(seen).toContain("A passive eavesdropper");
  });
});

describe("explainResult: nothing crossed the port-25 hop", () => {
  it("refused at submission: says so, and skips the wire's dialogue, the certificate and the eavesdropper", () => {
    const reason = "530 5.7.0 Must issue a STARTTLS command first";
    const s: Scenario = {
      ...scenario("plain submission is refused", { outcome: "rejected" }),
      message: { ...scenario("x", { outcome: "rejected" }).message, via: { provider: "sender", port: 25, auth: false } },
    };
    const out = explainResult(
      result(s, { outcome: "rejected", reason, evidence: [statement("submission", `sender port 25 refused MAIL FROM: ${reason}`)] }),
    );
    expect(out).toContain("3. On the wire between the providers (port 25):");
    expect(out).toContain("Nothing crossed the port-25 hop: the message was refused at submission");
    expect(out).not.toContain("How to read it");
    expect(out).not.toContain("Connection 1");
    expect(out).not.toContain("What an eavesdropper could read");
    expect(out).not.toContain("The certificate Bob's provider presented");
    expect(out).toContain("4. What the servers logged, in order:");
    expect(out).toContain("↳ the server answered the client with an error: nothing was queued");
    expect(out).toContain("5. Verdict:");
  });

  it("an older result without the wire's recording: says the dialogue cannot be shown, keeps the rest", () => {
    const older = tls13Result();
    const { wire: _dropped, ...observation } = older.observation!;
    const out = explainResult({ ...older, observation });
    expect(out).toContain("This result holds no recording of the port-25 hop");
    expect(out).not.toContain("What an eavesdropper could read");
    expect(out).toContain("Alice's provider judged it Trusted");
    expect(out).not.toContain("(SNI)");
  });

  it("a harness error: nothing observed", () => {
    const out = explainResult({
      scenario: scenario("the world died", { outcome: "delivered", transport: "tls" }),
      verdict: { passed: false, differences: [] },
      error: "timed out after 30 s",
      durationMs: 30_000,
    });
    expect(out).toContain("(nothing observed: timed out after 30 s)");
    expect(out).toContain("FAIL (harness): timed out after 30 s");
  });
});

describe("explainResult: reads what each witness said from its evidence record", () => {
  /** The part of the lesson under "What the servers logged". */
  const logPart = (out: string): string => out.slice(out.indexOf("What the servers logged, in order:"), out.indexOf("Verdict:"));
  const deliveredOverTls = (evidence: Evidence[]): string =>
    explainResult(
      result(scenario("delivered over TLS", { outcome: "delivered", transport: "tls" }), { outcome: "delivered", transport: "tls", evidence }),
    );

  it("uses a record's event even when its line would not parse", () => {
    const judged = LOG.trusted.event!;
    const out = deliveredOverTls([{ source: "sender-log", line: "(line lost)", event: judged }]);
    expect(flat(out)).toContain("Alice's provider judged it Trusted");
    expect(flat(logPart(out))).toContain("(line lost) ↳ STARTTLS taken: TLSv1.3 with TLS_AES_256_GCM_SHA384");
  });

  it("finds nothing in a Postfix line that no witness parsed: the text alone is not read", () => {
    const out = deliveredOverTls([statement("harness", LOG.trusted.line)]);
    expect(out).not.toContain("judged it");
    expect(out).not.toContain("STARTTLS taken");
    expect(logPart(out)).toContain(LOG.trusted.line);
  });

  it("glosses DNS answers from their events, whatever the line says", () => {
    const answer = (type: string, rcode: string): DnsEvidence => ({
      source: "dns-log",
      line: `answer ${type} ${rcode}`,
      event: { kind: "answer", asker: "sender", name: "_25._tcp.mx.iroco.test.", type, rcode },
    });
    const out = flat(logPart(deliveredOverTls([answer("TLSA", "NOERROR"), answer("TLSA", "NXDOMAIN"), answer("A", "NOERROR")])));
    expect(out).toContain("answer TLSA NOERROR ↳ DANE: the record says which key the MX host must present");
    expect(out).toContain("answer TLSA NXDOMAIN ↳ DANE: no TLSA record for this host");
    expect(out).toContain("answer A NOERROR");
    expect(out).not.toContain("answer A NOERROR ↳");
  });

  it("a server's warning that mentions a refusal is not taken for a refused submission", () => {
    const warning = logEvidence("sender", "Nov 27 22:50:03 smtp postfix/smtp[512]: warning: connect to mx.iroco.test[172.18.0.3]:25: Connection refused");
    const out = logPart(deliveredOverTls([warning, statement("submission", "sender port 25, refused at MAIL FROM: 554 5.7.1 Relay access denied")]));
    expect(out.match(/the server answered the client with an error/g)).toHaveLength(1);
    expect(out.indexOf("the server answered the client")).toBeGreaterThan(out.indexOf("Relay access denied"));
  });
});

/**
 * The wire's attacker modes that act on TLS itself, on loopback: "mitm"
 * (the wire terminates TLS with its own certificate and re-encrypts to the
 * server) and "inject" (the CVE-2011-0411 check: a command pipelined after
 * STARTTLS in the same packet). The scripted server and client are in
 * helpers/loopbackSmtp.ts; the server really does TLS after its 220, with its
 * own certificate, and the wire gets an attacker's certificate for the same
 * name.
 */
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import {
  closedSides,
  deliverThroughWire,
  hello,
  HOST,
  Lines,
  smtpLines,
  startSmtpd,
  tampered,
  transcripts,
  useTestCertificate,
  within,
  type ClientOptions,
  type ClientPolicy,
  type ServerScript,
} from "./helpers/loopbackSmtp.js";
import {
  INJECTED_COMMAND,
  TAMPERED_INJECTED,
  TAMPERED_INJECTED_REPLY,
  TAMPERED_MITM,
  TAMPERED_MITM_UNAVAILABLE,
  startWireProxy,
  type WireMode,
} from "../../src/wire/proxy.js";
import type { SmtpEvent, Transcript, WireTranscript } from "../../src/wire/transcript.js";

/** Bob's provider's certificate, and the attacker's: same name, another key, issued by nobody the client trusts. */
const certificate = useTestCertificate();
const attacker = useTestCertificate();

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

const OFFERS: ServerScript = { offerStarttls: true };
const NO_OFFER: ServerScript = { offerStarttls: false };

interface Options {
  client?: ClientOptions;
  /** false: the wire gets no certificate. */
  withCertificate?: boolean;
}

function deliver(mode: WireMode, server: ServerScript, policy: ClientPolicy, options: Options = {}) {
  const mitm = options.withCertificate === false ? undefined : { certPem: attacker.certPem, keyPem: attacker.keyPem };
  return deliverThroughWire({
    mode,
    server,
    policy,
    serverCertificate: certificate,
    ...(options.client ? { client: options.client } : {}),
    ...(mitm ? { mitm } : {}),
  });
}

/** The wire in mitm mode in front of a scripted server, presenting the attacker's certificate (or the PEM given). */
function startMitmProxy(serverPort: number, collected: { push(t: WireTranscript): void }, marker: string | undefined, certPem = attacker.certPem) {
  return startWireProxy({
    listenPort: 0,
    listenHost: HOST,
    upstream: { host: HOST, port: serverPort },
    mode: () => "mitm",
    onTranscript: (t) => collected.push(t),
    marker: () => marker,
    mitm: { certPem, keyPem: attacker.keyPem },
  });
}

const smtpEvents = (t: Transcript): SmtpEvent[] => t.events.filter((e): e is SmtpEvent => e.kind === "smtp");
const decryptedLines = (t: Transcript, from: "client" | "server"): string[] =>
  smtpEvents(t).flatMap((e) => (e.decrypted && e.from === from ? [e.line] : []));
const clearLines = (t: Transcript, from: "client" | "server"): string[] =>
  smtpEvents(t).flatMap((e) => (!e.decrypted && e.from === from ? [e.line] : []));

// ---------------------------------------------------------------- mitm

describe("startWireProxy, mode mitm", () => {
  it("terminates TLS with its own certificate: the message is delivered, the wire reads it, a passive eavesdropper does not", async () => {
    const { client, wire, t, session, marker } = await deliver("mitm", OFFERS, "may");
    expect(wire.mode).toBe("mitm");
    // The client (which does not verify) was shown the attacker's certificate, and still delivered.
    expect(client.tls).toEqual({ peerCN: "mx.iroco.test", protocol: "TLSv1.3" });
    expect(client.peerFingerprint).toBe(fingerprint(attacker.certPem));
    expect(client.peerFingerprint).not.toBe(fingerprint(certificate.certPem));
    expect(client.sentData).toBe(true);
    // The server got the message over the wire's own TLS session, asked for by the client's name.
    expect(session.received).toContain(`the marker of this message is ${marker}.`);
    expect(session.sni).toBe("mx.iroco.test");

    expect(t.plaintextBody).toBe(false);
    expect(t.attackerReadBody).toBe(true);
    // The clear-text part as in pass; everything after STARTTLS read by decrypting.
    expect(clearLines(t, "client")).toEqual(["EHLO smtp.infomaniak.test", "STARTTLS"]);
    expect(decryptedLines(t, "client")).toEqual([
      "EHLO smtp.infomaniak.test",
      "MAIL FROM:<alice@infomaniak.test>",
      "RCPT TO:<bob@iroco.test>",
      "DATA",
      "From: Alice <alice@infomaniak.test>",
      "To: Bob <bob@iroco.test>",
      "Subject: Hello Bob",
      "",
      `the marker of this message is ${marker}.`,
      ".",
      "QUIT",
    ]);
    expect(decryptedLines(t, "server")).toEqual(
      expect.arrayContaining(["250-mx.iroco.test", "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as 4XyZ1a2B3c", "221 2.0.0 Bye"]),
    );
    // Decrypted lines come after the switch, between the TLS records that carried them.
    const switchAt = t.events.findIndex((e) => e.kind === "starttls");
    const firstDecrypted = t.events.findIndex((e) => e.kind === "smtp" && e.decrypted === true);
    expect(switchAt).toBeGreaterThan(0);
    expect(firstDecrypted).toBeGreaterThan(switchAt);
    expect(t.events.slice(switchAt).filter((e) => e.kind === "smtp" && !e.decrypted)).toEqual([]);
    expect(t.events.slice(0, firstDecrypted).some((e) => e.kind === "tls-data" && e.from === "client")).toBe(true);
    const times = t.events.map((e) => e.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // What a passive eavesdropper on the client's leg sees: the hellos and encrypted records.
    expect(hello(t, "ClientHello")).toMatchObject({ from: "client", sni: "mx.iroco.test" });
    expect(hello(t, "ServerHello")).toMatchObject({ from: "server", chosenVersion: "TLSv1.3" });
    expect(t.events.some((e) => e.kind === "tls-data" && e.from === "client")).toBe(true);
    expect(t.events.some((e) => e.kind === "tls-data" && e.from === "server")).toBe(true);
    expect(tampered(t)).toEqual([expect.objectContaining({ from: "server", what: TAMPERED_MITM })]);
    expect(closedSides(t)).toEqual(["client", "server"]);
  });

  it("a client that verifies (against the real server's certificate) rejects the wire's: both connections close, the wire reads nothing", async () => {
    const { client, t, session } = await deliver("mitm", OFFERS, "verify", { client: { trust: certificate.certPem } });
    expect(client.handshakeError).toBeInstanceOf(Error);
    expect(client.handshakeError?.message).toMatch(/self[- ]signed|certificate/i);
    expect(client.tls).toBeUndefined();
    expect(client.sentData).toBe(false);
    expect(client.socketClosed).toBe(true);
    // deliver() waited for the server's socket to close; no SMTP reached it inside TLS.
    expect(session.received).toEqual(["EHLO smtp.infomaniak.test", "STARTTLS"]);

    expect(t.attackerReadBody).toBe(false);
    expect(t.plaintextBody).toBe(false);
    expect(smtpEvents(t).some((e) => e.decrypted)).toBe(false);
    expect(hello(t, "ClientHello")).toMatchObject({ from: "client", sni: "mx.iroco.test" });
    expect(tampered(t)).toEqual([expect.objectContaining({ from: "server", what: TAMPERED_MITM })]);
    expect(closedSides(t)).toEqual(["client", "server"]);
  });

  it("(control) the same verifying client gets through a wire in pass: the trust set-up is right", async () => {
    const { client } = await deliver("pass", OFFERS, "verify", { client: { trust: certificate.certPem } });
    expect(client.handshakeError).toBeUndefined();
    expect(client.peerFingerprint).toBe(fingerprint(certificate.certPem));
    expect(client.sentData).toBe(true);
  });

  it("an OpenSSL client on TLS 1.2 rejects the wire's certificate with an alert the eavesdropper can read", async () => {
    const smtpd = await startSmtpd(OFFERS, certificate);
    const collected = transcripts();
    const proxy = await startMitmProxy(smtpd.port, collected, "lab-unused");
    const dir = mkdtempSync(path.join(os.tmpdir(), "wire-ca-"));
    try {
      const caFile = path.join(dir, "ca.pem");
      writeFileSync(caFile, certificate.certPem);
      // Like Postfix at verify: OpenSSL aborts the handshake with a fatal alert.
      const sClient = spawn(
        "openssl",
        ["s_client", "-connect", `${HOST}:${proxy.port}`, "-starttls", "smtp", "-name", "smtp.infomaniak.test"].concat([
          "-servername", "mx.iroco.test", "-CAfile", caFile, "-verify_return_error", "-tls1_2",
        ]),
        { stdio: ["ignore", "ignore", "ignore"] },
      );
      const [code] = (await within(once(sClient, "exit"), 15_000, "openssl s_client to exit")) as [number | null];
      expect(code).not.toBe(0);
      const wire = await within(collected.next(), 15_000, "the transcript");
      const session = smtpd.sessions[0];
      if (!session) throw new Error("the server got no connection");
      await within(session.closed, 15_000, "the server's socket to close");
      const t = wire.transcript;
      expect(hello(t, "ServerHello")).toMatchObject({ from: "server", chosenVersion: "TLSv1.2" });
      // In TLS 1.2 the certificate and the client's alert cross in clear.
      expect(t.events).toContainEqual(expect.objectContaining({ kind: "tls-handshake", from: "server", messages: expect.arrayContaining(["Certificate"]) }));
      expect(t.events).toContainEqual(expect.objectContaining({ kind: "tls-alert", from: "client", level: "fatal", description: "unknown_ca" }));
      expect(t.attackerReadBody).toBe(false);
      expect(session.received).toEqual([expect.stringMatching(/^EHLO /), "STARTTLS"]);
      expect(closedSides(t)).toEqual(["client", "server"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await proxy.close();
      await smtpd.close();
    }
  });

  it("without a certificate relays as pass, and says so", async () => {
    const { client, t } = await deliver("mitm", OFFERS, "may", { withCertificate: false });
    expect(client.peerFingerprint).toBe(fingerprint(certificate.certPem));
    expect(client.sentData).toBe(true);
    expect(t.plaintextBody).toBe(false);
    expect(t.attackerReadBody).toBeUndefined();
    expect(tampered(t)).toEqual([expect.objectContaining({ what: TAMPERED_MITM_UNAVAILABLE })]);
  });

  it("has nothing to intercept when the server offers no STARTTLS: the body crosses in clear", async () => {
    const { client, t } = await deliver("mitm", NO_OFFER, "may");
    expect(client.sentData).toBe(true);
    expect(t.plaintextBody).toBe(true);
    expect(t.attackerReadBody).toBe(false);
    expect(tampered(t)).toEqual([]);
  });

  it("refuses to start with a certificate that does not load", async () => {
    const start = startMitmProxy(25, { push: () => undefined }, undefined, "not a certificate");
    await expect(start).rejects.toThrow();
  });

  it("close() cuts an intercepted session still open and still delivers its transcript", async () => {
    const smtpd = await startSmtpd(OFFERS, certificate);
    const collected = transcripts();
    const proxy = await startMitmProxy(smtpd.port, collected, "lab-x");
    const socket = net.connect(proxy.port, HOST);
    socket.on("error", () => undefined);
    const closed = once(socket, "close");
    try {
      let lines = new Lines(socket);
      await lines.reply();
      lines.send("STARTTLS\r\n");
      expect((await lines.reply()).at(-1)).toMatch(/^220 /);
      lines.detach();
      const secured = tls.connect({ socket, servername: "mx.iroco.test", rejectUnauthorized: false });
      secured.on("error", () => undefined);
      await within(once(secured, "secureConnect"), 5_000, "the handshake with the wire");
      lines = new Lines(secured);
      lines.send("EHLO smtp.infomaniak.test\r\n");
      // The reply comes from the real server through both TLS sessions: the interception is up.
      expect((await within(lines.reply(), 5_000, "the EHLO reply")).at(0)).toBe("250-mx.iroco.test");
      await within(proxy.close(), 5_000, "proxy.close()");
      await within(closed, 5_000, "the client's socket to close");
      const wire = await within(collected.next(), 5_000, "the transcript");
      expect(closedSides(wire.transcript)).toEqual(["client", "server"]);
      expect(decryptedLines(wire.transcript, "client")).toEqual(["EHLO smtp.infomaniak.test"]);
      const session = smtpd.sessions[0];
      if (!session) throw new Error("the server got no connection");
      await within(session.closed, 5_000, "the server's socket to close");
    } finally {
      socket.destroy();
      await proxy.close();
      await smtpd.close();
    }
  });
});

// ---------------------------------------------------------------- inject

describe("startWireProxy, mode inject", () => {
  it("pipelines RSET after STARTTLS in one packet; a correct server discards it and TLS completes end to end", async () => {
    expect(INJECTED_COMMAND).toBe("RSET");
    const { client, wire, t, session, marker } = await deliver("inject", OFFERS, "may");
    expect(wire.mode).toBe("inject");
    // What the server read off its socket before its 220: both commands in one chunk.
    expect(session.clearChunks.map((c) => c.toString("latin1"))).toContain("STARTTLS\r\nRSET\r\n");
    expect(session.received).not.toContain("RSET");
    expect(session.received).toContain(`the marker of this message is ${marker}.`);
    // TLS end to end: the client saw the real server's certificate.
    expect(client.tls).toEqual({ peerCN: "mx.iroco.test", protocol: "TLSv1.3" });
    expect(client.peerFingerprint).toBe(fingerprint(certificate.certPem));
    expect(client.sentData).toBe(true);

    expect(t.injected).toBe("RSET");
    expect(tampered(t)).toEqual([expect.objectContaining({ from: "client", what: TAMPERED_INJECTED })]);
    // The transcript shows what the client sent; the tampering is the event.
    expect(smtpLines(t, "client")).toEqual(["EHLO smtp.infomaniak.test", "STARTTLS"]);
    expect(t.events.some((e) => e.kind === "starttls")).toBe(true);
    expect(hello(t, "ServerHello")).toMatchObject({ from: "server", chosenVersion: "TLSv1.3" });
    expect(t.plaintextBody).toBe(false);
    expect(t.attackerReadBody).toBeUndefined();
    expect(closedSides(t)).toEqual(["client", "server"]);
  });

  it("withholds the clear-text reply to RSET when the server refuses STARTTLS, so the client stays in step", async () => {
    // sendMessage checks that MAIL, RCPT and DATA get 250, 250, 354: a leaked reply would shift them.
    const { client, t, session } = await deliver("inject", { offerStarttls: true, starttlsReply: "454" }, "may");
    expect(client.starttlsReplies).toEqual([["454 4.7.0 TLS not available due to local problem"]]);
    expect(client.sentData).toBe(true);
    expect(session.received.slice(0, 3)).toEqual(["EHLO smtp.infomaniak.test", "STARTTLS", "RSET"]);
    expect(smtpLines(t, "server")).not.toContain("250 2.0.0 Ok");
    expect(t.injected).toBe("RSET");
    expect(tampered(t).map((e) => [e.from, e.what])).toEqual([
      ["client", TAMPERED_INJECTED],
      ["server", TAMPERED_INJECTED_REPLY],
    ]);
    expect(t.plaintextBody).toBe(true);
  });

  it("injects nothing when the client sends no STARTTLS", async () => {
    const { client, t, session } = await deliver("inject", NO_OFFER, "may");
    expect(client.sentData).toBe(true);
    expect(session.received).not.toContain("RSET");
    expect(t.injected).toBeUndefined();
    expect(tampered(t)).toEqual([]);
  });
});

/**
 * The wire's proxy on loopback: a scripted SMTP server (node:net, upgraded in
 * place with node:tls, certificate for mx.iroco.test made by openssl) behind
 * startWireProxy, and a scripted client that behaves like Postfix's smtp
 * client at `may` or `encrypt` (both in helpers/loopbackSmtp.ts). The
 * attacker modes that touch TLS itself (mitm, inject) are in
 * wire-attacks.test.ts.
 */
import { once } from "node:events";
import net from "node:net";
import { describe, expect, it } from "vitest";
import {
  closedSides,
  deliverThroughWire,
  ehloReply,
  hello,
  HOST,
  Lines,
  sendMessage,
  smtpLines,
  startSmtpd as startLoopbackSmtpd,
  tampered,
  transcripts,
  useTestCertificate,
  within,
  type ClientPolicy,
  type ServerScript,
} from "./helpers/loopbackSmtp.js";
import {
  LOCAL_STARTTLS_REPLY,
  TAMPERED_CLIENT_HELLO,
  TAMPERED_EHLO,
  TAMPERED_STARTTLS,
  startWireProxy,
  type WireMode,
} from "../../src/wire/proxy.js";

const certificate = useTestCertificate();

const deliver = (mode: WireMode, server: ServerScript, policy: ClientPolicy) =>
  deliverThroughWire({ mode, server, policy, serverCertificate: certificate });

const startSmtpd = (script: ServerScript) => startLoopbackSmtpd(script, certificate);

/** Every line but the last "250-", the last "250 ". */
function expectWellFormed(reply: string[]): void {
  reply.forEach((line, i) => expect(line).toMatch(i === reply.length - 1 ? /^250 / : /^250-/));
}

const OFFERS: ServerScript = { offerStarttls: true };
const NO_OFFER: ServerScript = { offerStarttls: false };

// ---------------------------------------------------------------- the tests

describe("startWireProxy, mode pass", () => {
  it("relays STARTTLS end to end: the client sees the server's certificate, the eavesdropper only the hellos", async () => {
    const { client, wire, t, session, marker } = await deliver("pass", OFFERS, "may");
    expect(wire).toMatchObject({ id: 1, mode: "pass" });
    expect(client.tls).toEqual({ peerCN: "mx.iroco.test", protocol: "TLSv1.3" });
    expect(client.sentData).toBe(true);
    expect(session.received).toContain(`the marker of this message is ${marker}.`);
    expect(t.sawStarttlsOffer).toBe(true);
    expect(t.sawStarttlsCommand).toBe(true);
    expect(t.plaintextBody).toBe(false);
    expect(hello(t, "ClientHello")).toMatchObject({ from: "client", sni: "mx.iroco.test" });
    expect(hello(t, "ClientHello")?.offeredVersions).toEqual(expect.arrayContaining(["TLSv1.3", "TLSv1.2"]));
    expect(hello(t, "ServerHello")).toMatchObject({ from: "server", chosenVersion: "TLSv1.3" });
    expect(tampered(t)).toEqual([]);
    expect(closedSides(t)).toEqual(["client", "server"]);
  });

  it("relays a dialogue without STARTTLS: the body crosses in clear", async () => {
    const { client, t, session, marker } = await deliver("pass", NO_OFFER, "may");
    expect(client.sentData).toBe(true);
    expect(session.received).toContain(`the marker of this message is ${marker}.`);
    expect(t.plaintextBody).toBe(true);
    expect(t.sawStarttlsOffer).toBe(false);
    expect(t.events.some((e) => e.kind === "starttls" || e.kind.startsWith("tls"))).toBe(false);
    expect(smtpLines(t, "server")).toEqual(expect.arrayContaining(ehloReply(false).trimEnd().split("\r\n")));
    expect(tampered(t)).toEqual([]);
  });
});

describe("startWireProxy, mode strip-starttls", () => {
  it("hides STARTTLS from a client at may, which then sends the message in clear", async () => {
    const { client, wire, t, session, marker } = await deliver("strip-starttls", OFFERS, "may");
    expect(wire.mode).toBe("strip-starttls");
    expect(client.ehlo.some((l) => /^250.STARTTLS/i.test(l))).toBe(false);
    expect(client.ehlo).toEqual(ehloReply(false).trimEnd().split("\r\n"));
    expectWellFormed(client.ehlo);
    expect(client.tls).toBeUndefined();
    expect(client.sentData).toBe(true);
    // The server offered it, never got the command, and got the body in clear.
    expect(session.received.some((l) => /^STARTTLS/i.test(l))).toBe(false);
    expect(session.received).toContain(`the marker of this message is ${marker}.`);
    // The transcript shows what the client saw, and says it was tampered with.
    expect(t.plaintextBody).toBe(true);
    expect(t.sawStarttlsOffer).toBe(false);
    expect(smtpLines(t, "server").some((l) => /^250.STARTTLS/i.test(l))).toBe(false);
    expect(tampered(t)).toEqual([expect.objectContaining({ kind: "tampered", from: "server", what: TAMPERED_EHLO })]);
    expect(closedSides(t)).toEqual(["client", "server"]);
  });

  it("answers 454 itself to a client that sends STARTTLS anyway, after the replies it still owes", async () => {
    // The server takes its time over NOOP: the proxy's 454 must still come second.
    const { client, t, session, marker } = await deliver("strip-starttls", { offerStarttls: true, noopDelayMs: 100 }, "starttls-anyway");
    expect(client.starttlsReplies).toEqual([["250 2.0.0 Ok"], [LOCAL_STARTTLS_REPLY.trimEnd()]]);
    expect(client.tls).toBeUndefined();
    expect(client.sentData).toBe(true);
    expect(session.received.some((l) => /^STARTTLS/i.test(l))).toBe(false);
    expect(session.received).toContain("NOOP");
    expect(t.sawStarttlsCommand).toBe(true);
    expect(smtpLines(t, "client")).toContain("STARTTLS");
    expect(smtpLines(t, "server")).toContain("454 4.7.0 TLS not available due to local problem");
    expect(t.events.some((e) => e.kind === "starttls")).toBe(false);
    expect(t.plaintextBody).toBe(true);
    expect(tampered(t).map((e) => [e.from, e.what])).toEqual([
      ["server", TAMPERED_EHLO],
      ["client", TAMPERED_STARTTLS],
    ]);
    expect(smtpLines(t, "client")).toContain(`the marker of this message is ${marker}.`);
  });

  it("makes a client at encrypt give up: it QUITs, no DATA crosses the wire", async () => {
    const { client, t, session } = await deliver("strip-starttls", OFFERS, "encrypt");
    expect(client.deferred).toMatch(/TLS is required, but was not offered/);
    expect(client.sentData).toBe(false);
    expect(session.received).toEqual(["EHLO smtp.infomaniak.test", "QUIT"]);
    expect(smtpLines(t, "client")).toEqual(["EHLO smtp.infomaniak.test", "QUIT"]);
    expect(t.plaintextBody).toBe(false);
    expect(tampered(t)).toHaveLength(1);
  });

  it("strips STARTTLS from an EHLO reply the server writes one byte at a time", async () => {
    const { client, t, session, marker } = await deliver("strip-starttls", { offerStarttls: true, ehloByteByByte: true }, "may");
    expect(client.ehlo).toEqual(ehloReply(false).trimEnd().split("\r\n"));
    expectWellFormed(client.ehlo);
    expect(client.sentData).toBe(true);
    expect(session.received.some((l) => /^STARTTLS/i.test(l))).toBe(false);
    expect(t.plaintextBody).toBe(true);
    expect(smtpLines(t, "server")).toEqual(expect.arrayContaining(client.ehlo));
    expect(tampered(t)).toHaveLength(1);
    expect(smtpLines(t, "client")).toContain(`the marker of this message is ${marker}.`);
  });
});

describe("startWireProxy, mode fail-handshake", () => {
  it("withholds the ClientHello and closes both connections: the handshake fails, the server sees nothing", async () => {
    const { client, t, session } = await deliver("fail-handshake", { offerStarttls: true, afterStarttls: "collect" }, "may");
    expect(client.starttlsReplies?.[0]?.[0]).toMatch(/^220 /);
    expect(client.handshakeError).toBeInstanceOf(Error);
    expect(client.tls).toBeUndefined();
    expect(client.socketClosed).toBe(true);
    // The server's socket closed (deliver waited for it) without a byte after its 220.
    expect(Buffer.concat(session.afterStarttls).length).toBe(0);
    expect(session.received).toEqual(["EHLO smtp.infomaniak.test", "STARTTLS"]);
    // The eavesdropper saw the ClientHello the client sent; no ServerHello ever came.
    expect(t.events.some((e) => e.kind === "starttls")).toBe(true);
    expect(hello(t, "ClientHello")).toMatchObject({ from: "client", sni: "mx.iroco.test" });
    expect(hello(t, "ServerHello")).toBeUndefined();
    expect(tampered(t)).toEqual([expect.objectContaining({ from: "client", what: TAMPERED_CLIENT_HELLO })]);
    expect(closedSides(t)).toEqual(["client", "server"]);
    expect(t.plaintextBody).toBe(false);
  });

  it("lets a dialogue without STARTTLS through untouched", async () => {
    const { client, t } = await deliver("fail-handshake", NO_OFFER, "may");
    expect(client.sentData).toBe(true);
    expect(t.plaintextBody).toBe(true);
    expect(tampered(t)).toEqual([]);
  });
});

describe("startWireProxy, connections", () => {
  it("reads the mode once per connection and numbers the transcripts", async () => {
    const smtpd = await startSmtpd(OFFERS);
    const collected = transcripts();
    let mode: WireMode = "pass";
    const proxy = await startWireProxy({
      listenPort: 0,
      listenHost: HOST,
      upstream: { host: HOST, port: smtpd.port },
      mode: () => mode,
      onTranscript: (t) => collected.push(t),
      marker: () => undefined,
    });
    try {
      const first = await within(sendMessage(proxy.port, "may", "lab-one"), 15_000, "first exchange");
      mode = "strip-starttls";
      const second = await within(sendMessage(proxy.port, "may", "lab-two"), 15_000, "second exchange");
      expect(first.tls?.peerCN).toBe("mx.iroco.test");
      expect(second.tls).toBeUndefined();
      const [a, b] = [await collected.next(), await collected.next()];
      expect([a.id, a.mode, b.id, b.mode]).toEqual([1, "pass", 2, "strip-starttls"]);
      // Without a marker nothing can be found in clear.
      expect(b.transcript.plaintextBody).toBe(false);
    } finally {
      await proxy.close();
      await smtpd.close();
    }
  });

  it("live() shows an open connection as recorded so far, and onActivity tells when bytes moved", async () => {
    const smtpd = await startSmtpd(OFFERS);
    let activity = 0;
    const proxy = await startWireProxy({
      listenPort: 0,
      listenHost: HOST,
      upstream: { host: HOST, port: smtpd.port },
      mode: () => "pass",
      onTranscript: () => undefined,
      marker: () => "lab-live",
      onActivity: () => activity++,
    });
    const socket = net.connect(proxy.port, HOST);
    socket.on("error", () => undefined);
    try {
      const lines = new Lines(socket);
      expect(await lines.reply()).toEqual(["220 mx.iroco.test ESMTP starttls-lab"]);
      socket.write("EHLO smtp.infomaniak.test\r\n");
      await lines.reply();
      expect(activity).toBeGreaterThan(0);
      const [open, ...more] = proxy.live();
      expect(more).toEqual([]);
      expect(open).toMatchObject({ id: 1, mode: "pass" });
      expect(smtpLines(open!.transcript)).toEqual(expect.arrayContaining(["220 mx.iroco.test ESMTP starttls-lab", "EHLO smtp.infomaniak.test"]));
      expect(closedSides(open!.transcript)).toEqual([]);
    } finally {
      socket.destroy();
      await proxy.close();
      await smtpd.close();
    }
  });

  it("close() cuts a connection still open and still delivers its transcript", async () => {
    const smtpd = await startSmtpd(OFFERS);
    const collected = transcripts();
    const proxy = await startWireProxy({
      listenPort: 0,
      listenHost: HOST,
      upstream: { host: HOST, port: smtpd.port },
      mode: () => "strip-starttls",
      onTranscript: (t) => collected.push(t),
      marker: () => "lab-x",
    });
    const socket = net.connect(proxy.port, HOST);
    socket.on("error", () => undefined);
    const closed = once(socket, "close");
    try {
      const lines = new Lines(socket);
      expect(await lines.reply()).toEqual(["220 mx.iroco.test ESMTP starttls-lab"]);
      await within(proxy.close(), 5_000, "proxy.close()");
      await within(closed, 5_000, "the client's socket to close");
      const wire = await within(collected.next(), 5_000, "the transcript");
      expect(closedSides(wire.transcript)).toEqual(["client", "server"]);
    } finally {
      socket.destroy();
      await proxy.close();
      await smtpd.close();
    }
  });

  it("an unreachable upstream: the client's connection is reset (not closed politely), and the transcript says why", async () => {
    const spare = net.createServer();
    spare.listen(0, HOST);
    await once(spare, "listening");
    const deadPort = (spare.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const collected = transcripts();
    const proxy = await startWireProxy({
      listenPort: 0,
      listenHost: HOST,
      upstream: { host: HOST, port: deadPort },
      mode: () => "pass",
      onTranscript: (t) => collected.push(t),
      marker: () => undefined,
    });
    try {
      const socket = net.connect(proxy.port, HOST);
      const failures: NodeJS.ErrnoException[] = [];
      socket.on("error", (error) => failures.push(error));
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      // Not events.once: it rejects on the "error" (the reset) that comes first.
      await within(new Promise((resolve) => socket.on("close", resolve)), 5_000, "the client's socket to close");
      // A refused port looks like a dead server to the client: a reset, and not a byte of SMTP from the wire.
      expect(failures.map((error) => error.code)).toEqual(["ECONNRESET"]);
      expect(Buffer.concat(received).length).toBe(0);
      const wire = await within(collected.next(), 5_000, "the transcript");
      expect(wire.transcript.upstreamUnreachable).toBe(`connect ECONNREFUSED ${HOST}:${deadPort}`);
      expect(closedSides(wire.transcript)).toEqual(["client", "server"]);
      expect(tampered(wire.transcript)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

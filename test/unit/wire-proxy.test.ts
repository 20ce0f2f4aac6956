/**
 * The wire's proxy on loopback: a scripted SMTP server (node:net, upgraded in
 * place with node:tls, certificate for mx.iroco.test made by openssl) behind
 * startWireProxy, and a scripted client that behaves like Postfix's smtp
 * client at `may` or `encrypt`.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { hello, HOST, Lines, smtpLines, useTestCertificate } from "./helpers/loopbackSmtp.js";
import {
  LOCAL_STARTTLS_REPLY,
  TAMPERED_CLIENT_HELLO,
  TAMPERED_EHLO,
  TAMPERED_STARTTLS,
  startWireProxy,
  type WireMode,
  type WireTranscript,
} from "../../src/wire/proxy.js";
import type { TamperedEvent, Transcript } from "../../src/wire/transcript.js";

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` takes longer than `ms`: a hung exchange fails its test instead of the whole run. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- CRLF lines

// ---------------------------------------------------------------- Bob's provider, scripted

interface ServerScript {
  offerStarttls: boolean;
  /** Write the EHLO reply one byte at a time, with a pause between bytes. */
  ehloByteByByte?: boolean;
  /** After the 220 to STARTTLS: a real TLS server, or only collect the raw bytes that arrive. */
  afterStarttls?: "tls" | "collect";
  /** Answer NOOP only after this many milliseconds. */
  noopDelayMs?: number;
}

interface ServerSession {
  /** Every command and content line received, in clear text or inside TLS. */
  received: string[];
  /** "collect": the raw bytes that arrived after the 220 to STARTTLS. */
  afterStarttls: Buffer[];
  /** The server's TCP socket closed. */
  closed: Promise<void>;
}

const EHLO_KEYWORDS = ["PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME"];

function ehloReply(offerStarttls: boolean): string {
  const keywords = EHLO_KEYWORDS.filter((k) => offerStarttls || k !== "STARTTLS");
  return ["250-mx.iroco.test", ...keywords.map((k) => `250-${k}`), "250 SMTPUTF8"].map((l) => `${l}\r\n`).join("");
}

async function serveSmtp(socket: net.Socket, script: ServerScript, session: ServerSession): Promise<void> {
  let lines = new Lines(socket);
  let secure = false;
  lines.send("220 mx.iroco.test ESMTP starttls-lab\r\n");
  for (;;) {
    const line = await lines.next();
    if (line === null) return;
    session.received.push(line);
    const verb = (line.split(" ")[0] ?? "").toUpperCase();
    if (verb === "EHLO") {
      const reply = ehloReply(script.offerStarttls && !secure);
      if (script.ehloByteByByte && !secure) {
        socket.setNoDelay(true);
        for (const byte of Buffer.from(reply)) {
          socket.write(Buffer.from([byte]));
          await delay(1);
        }
      } else {
        lines.send(reply);
      }
    } else if (verb === "STARTTLS" && !secure) {
      lines.detach();
      socket.write("220 2.0.0 Ready to start TLS\r\n");
      if (script.afterStarttls === "collect") {
        socket.on("data", (data: Buffer) => session.afterStarttls.push(Buffer.from(data)));
        socket.on("end", () => socket.end());
        return;
      }
      const secured = new tls.TLSSocket(socket, { isServer: true, secureContext: certificate.context });
      secured.on("error", () => socket.destroy());
      lines = new Lines(secured);
      secure = true;
    } else if (verb === "NOOP") {
      if (script.noopDelayMs) await delay(script.noopDelayMs);
      lines.send("250 2.0.0 Ok\r\n");
    } else if (verb === "MAIL") {
      lines.send("250 2.1.0 Ok\r\n");
    } else if (verb === "RCPT") {
      lines.send("250 2.1.5 Ok\r\n");
    } else if (verb === "DATA") {
      lines.send("354 End data with <CR><LF>.<CR><LF>\r\n");
      for (let content = await lines.next(); content !== "."; content = await lines.next()) {
        if (content === null) return;
        session.received.push(content);
      }
      session.received.push(".");
      lines.send("250 2.0.0 Ok: queued as 4XyZ1a2B3c\r\n");
    } else if (verb === "QUIT") {
      lines.send("221 2.0.0 Bye\r\n");
      lines.stream.end();
      return;
    } else {
      lines.send("502 5.5.2 Error: command not recognized\r\n");
    }
  }
}

async function startSmtpd(script: ServerScript) {
  const sessions: ServerSession[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const session: ServerSession = { received: [], afterStarttls: [], closed: once(socket, "close").then(() => undefined) };
    socket.on("close", () => sockets.delete(socket));
    sessions.push(session);
    socket.on("error", () => socket.destroy());
    serveSmtp(socket, script, session).catch(() => socket.destroy());
  });
  server.listen(0, HOST);
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    close: async (): Promise<void> => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------- Alice's provider, scripted

/** Postfix's smtp_tls_security_level, plus a client that sends STARTTLS though it was not offered. */
type ClientPolicy = "may" | "encrypt" | "starttls-anyway";

interface ClientResult {
  /** The EHLO reply as the client received it. */
  ehlo: string[];
  /** The reply (or replies, when pipelined after NOOP) the client got to STARTTLS. */
  starttlsReplies?: string[][];
  tls?: { peerCN: unknown; protocol: string | null };
  handshakeError?: Error;
  /** deferred: what Postfix would log. */
  deferred?: string;
  sentData: boolean;
  /** The client's raw socket closed. */
  socketClosed: boolean;
}

async function sendMessage(port: number, policy: ClientPolicy, marker: string): Promise<ClientResult> {
  const socket = net.connect(port, HOST);
  const socketClosed = once(socket, "close");
  await once(socket, "connect");
  let lines = new Lines(socket);
  await lines.reply();
  lines.send("EHLO smtp.infomaniak.test\r\n");
  const ehlo = await lines.reply();
  const result: ClientResult = { ehlo, sentData: false, socketClosed: false };
  const offered = ehlo.some((l) => /^250[ -]STARTTLS$/i.test(l));

  let secure = false;
  if (offered || policy === "starttls-anyway") {
    if (policy === "starttls-anyway") {
      // Pipelined, STARTTLS last in its group (RFC 2920).
      lines.send("NOOP\r\nSTARTTLS\r\n");
      result.starttlsReplies = [await lines.reply(), await lines.reply()];
    } else {
      lines.send("STARTTLS\r\n");
      result.starttlsReplies = [await lines.reply()];
    }
    if (result.starttlsReplies.at(-1)?.at(-1)?.startsWith("220")) {
      lines.detach();
      const secured = tls.connect({ socket, servername: "mx.iroco.test", rejectUnauthorized: false });
      try {
        await Promise.race([
          once(secured, "secureConnect"),
          once(secured, "close").then(() => {
            throw new Error("closed before the handshake completed");
          }),
        ]);
      } catch (error) {
        result.handshakeError = error as Error;
        secured.destroy();
        await socketClosed;
        result.socketClosed = true;
        return result;
      }
      secured.on("error", () => undefined);
      result.tls = { peerCN: secured.getPeerCertificate().subject?.CN, protocol: secured.getProtocol() };
      lines = new Lines(secured);
      lines.send("EHLO smtp.infomaniak.test\r\n");
      await lines.reply();
      secure = true;
    }
  }
  if (!secure && policy === "encrypt") {
    result.deferred = "TLS is required, but was not offered by host mx.iroco.test";
  } else {
    // Like Postfix: MAIL, RCPT and DATA pipelined in one write.
    lines.send("MAIL FROM:<alice@infomaniak.test>\r\nRCPT TO:<bob@iroco.test>\r\nDATA\r\n");
    const replies = [await lines.reply(), await lines.reply(), await lines.reply()];
    expect(replies.map((r) => r.at(-1)?.slice(0, 3))).toEqual(["250", "250", "354"]);
    lines.send(
      [
        "From: Alice <alice@infomaniak.test>",
        "To: Bob <bob@iroco.test>",
        "Subject: Hello Bob",
        "",
        `the marker of this message is ${marker}.`,
        ".",
        "",
      ].join("\r\n"),
    );
    expect((await lines.reply()).at(-1)).toMatch(/^250 /);
    result.sentData = true;
  }
  lines.send("QUIT\r\n");
  await lines.reply();
  lines.stream.end();
  await socketClosed;
  result.socketClosed = true;
  return result;
}

// ---------------------------------------------------------------- one delivery through the proxy


const certificate = useTestCertificate();

/** Collects the proxy's transcripts; `next()` waits for the next one. */
function transcripts() {
  const got: WireTranscript[] = [];
  const waiters: ((t: WireTranscript) => void)[] = [];
  return {
    all: got,
    push(t: WireTranscript): void {
      const waiter = waiters.shift();
      if (waiter) waiter(t);
      else got.push(t);
    },
    next(): Promise<WireTranscript> {
      const ready = got.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

async function deliver(mode: WireMode, server: ServerScript, policy: ClientPolicy) {
  const marker = `lab-${randomBytes(6).toString("hex")}`;
  const smtpd = await startSmtpd(server);
  const collected = transcripts();
  const proxy = await startWireProxy({
    listenPort: 0,
    listenHost: HOST,
    upstream: { host: HOST, port: smtpd.port },
    mode: () => mode,
    onTranscript: (t) => collected.push(t),
    marker: () => marker,
  });
  try {
    const client = await within(sendMessage(proxy.port, policy, marker), 15_000, "the client's exchange");
    const wire = await within(collected.next(), 15_000, "the transcript");
    const session = smtpd.sessions[0];
    if (!session) throw new Error("the server got no connection");
    await within(session.closed, 15_000, "the server's socket to close");
    return { marker, client, wire, t: wire.transcript, session };
  } finally {
    await proxy.close();
    await smtpd.close();
  }
}

const tampered = (t: Transcript): TamperedEvent[] => t.events.filter((e): e is TamperedEvent => e.kind === "tampered");
const closedSides = (t: Transcript): string[] =>
  t.events.flatMap((e) => (e.kind === "closed" ? [e.from] : [])).sort();

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

  it("an unreachable upstream closes the client's connection", async () => {
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
      socket.on("error", () => undefined);
      await within(once(socket, "close"), 5_000, "the client's socket to close");
      const wire = await within(collected.next(), 5_000, "the transcript");
      expect(closedSides(wire.transcript)).toEqual(["client", "server"]);
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Loopback SMTP for the wire's tests: a line reader that can be detached for
 * the STARTTLS upgrade, throwaway certificates made by openssl, a scripted
 * SMTP server (Bob's provider) and client (Alice's provider) that really
 * upgrade to TLS after STARTTLS, one delivery through startWireProxy, and
 * small readers of a transcript.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { afterAll, beforeAll, expect } from "vitest";
import { startWireProxy, type MitmCertificate, type WireMode, type WireTranscript } from "../../../src/wire/proxy.js";
import type { Direction, TamperedEvent, TlsHandshakeEvent, Transcript } from "../../../src/wire/transcript.js";

export const HOST = "127.0.0.1";

export /** CRLF lines off a stream, one reader at a time; detachable for the TLS upgrade. */
class Lines {
  private buffer = "";
  private readonly ready: string[] = [];
  private ended = false;
  private waiter: ((line: string | null) => void) | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer += chunk.toString("latin1");
    for (let i = this.buffer.indexOf("\r\n"); i >= 0; i = this.buffer.indexOf("\r\n")) {
      this.ready.push(this.buffer.slice(0, i));
      this.buffer = this.buffer.slice(i + 2);
    }
    this.flush();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.flush();
  };

  constructor(readonly stream: Duplex) {
    stream.on("data", this.onData);
    stream.on("end", this.onEnd);
    stream.on("close", this.onEnd);
  }

  private flush(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const line = this.ready.shift();
    if (line !== undefined || this.ended) {
      this.waiter = undefined;
      waiter(line ?? null);
    }
  }

  next(): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.flush();
    });
  }

  async reply(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.next();
      if (line === null) throw new Error(`connection closed in a reply: ${JSON.stringify(lines)}`);
      lines.push(line);
      if (/^\d{3}( |$)/.test(line)) return lines;
    }
  }

  send(text: string): void {
    this.stream.write(text);
  }

  detach(): void {
    this.stream.off("data", this.onData);
    this.stream.off("end", this.onEnd);
    this.stream.off("close", this.onEnd);
  }
}

/** A throwaway certificate: its context for node:tls, and the PEM texts it was made from. */
export interface TestCertificate {
  context: tls.SecureContext;
  certPem: string;
  keyPem: string;
}

/**
 * A self-signed certificate (CN and subjectAltName `name`, mx.iroco.test by
 * default) for this test file: made by openssl in beforeAll, its files removed
 * in afterAll. Call at the top level; read the fields in tests. Each call makes
 * a new key, so two calls for the same name give two different certificates
 * (the real server's and an attacker's).
 */
export function useTestCertificate(name = "mx.iroco.test"): TestCertificate {
  const holder = {} as TestCertificate;
  let certDir: string | undefined;
  beforeAll(() => {
    certDir = mkdtempSync(path.join(os.tmpdir(), "wire-cert-"));
    const key = path.join(certDir, "key.pem");
    const cert = path.join(certDir, "cert.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-days", "1"]
        .concat(["-addext", `subjectAltName=DNS:${name}`])
        .concat(["-keyout", key, "-out", cert]),
      { stdio: "ignore" },
    );
    holder.certPem = readFileSync(cert, "utf8");
    holder.keyPem = readFileSync(key, "utf8");
    holder.context = tls.createSecureContext({ key: holder.keyPem, cert: holder.certPem });
  });
  afterAll(() => {
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });
  return holder;
}

export const smtpLines = (t: Transcript, from?: Direction): string[] =>
  t.events.flatMap((e) => (e.kind === "smtp" && (!from || e.from === from) ? [e.line] : []));

export const hello = (t: Transcript, message: "ClientHello" | "ServerHello"): TlsHandshakeEvent | undefined =>
  t.events.find((e): e is TlsHandshakeEvent => e.kind === "tls-handshake" && e.message === message);

export const tampered = (t: Transcript): TamperedEvent[] => t.events.filter((e): e is TamperedEvent => e.kind === "tampered");

export const closedSides = (t: Transcript): string[] =>
  t.events.flatMap((e) => (e.kind === "closed" ? [e.from] : [])).sort();

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` takes longer than `ms`: a hung exchange fails its test instead of the whole run. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- Bob's provider, scripted

export interface ServerScript {
  offerStarttls: boolean;
  /** The reply to STARTTLS: 220 (the default) and TLS, or 454 and clear text on. */
  starttlsReply?: "220" | "454";
  /** Write the EHLO reply one byte at a time, with a pause between bytes. */
  ehloByteByByte?: boolean;
  /** After the 220 to STARTTLS: a real TLS server, or only collect the raw bytes that arrive. */
  afterStarttls?: "tls" | "collect";
  /** Answer NOOP only after this many milliseconds. */
  noopDelayMs?: number;
}

export interface ServerSession {
  /** Every command and content line received, in clear text or inside TLS. */
  received: string[];
  /** The raw chunks received in clear text, up to the 220 to STARTTLS, as they came off the socket. */
  clearChunks: Buffer[];
  /** "collect": the raw bytes that arrived after the 220 to STARTTLS. */
  afterStarttls: Buffer[];
  /** The server name (SNI) the TLS client asked for, once the handshake is done. */
  sni?: string | false | null;
  /** The server's TCP socket closed. */
  closed: Promise<void>;
}

const EHLO_KEYWORDS = ["PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME"];

export function ehloReply(offerStarttls: boolean): string {
  const keywords = EHLO_KEYWORDS.filter((k) => offerStarttls || k !== "STARTTLS");
  return ["250-mx.iroco.test", ...keywords.map((k) => `250-${k}`), "250 SMTPUTF8"].map((l) => `${l}\r\n`).join("");
}

async function serveSmtp(socket: net.Socket, script: ServerScript, session: ServerSession, context: tls.SecureContext): Promise<void> {
  let lines = new Lines(socket);
  let secure = false;
  const keepClearChunk = (chunk: Buffer): number => session.clearChunks.push(Buffer.from(chunk));
  socket.on("data", keepClearChunk);
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
    } else if (verb === "STARTTLS" && !secure && script.starttlsReply === "454") {
      lines.send("454 4.7.0 TLS not available due to local problem\r\n");
    } else if (verb === "STARTTLS" && !secure) {
      // Like a correct server: whatever was pipelined after STARTTLS stays in the old reader, discarded.
      lines.detach();
      socket.off("data", keepClearChunk);
      socket.write("220 2.0.0 Ready to start TLS\r\n");
      if (script.afterStarttls === "collect") {
        socket.on("data", (data: Buffer) => session.afterStarttls.push(Buffer.from(data)));
        socket.on("end", () => socket.end());
        return;
      }
      const secured = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
      secured.on("error", () => socket.destroy());
      secured.once("secure", () => (session.sni = secured.servername));
      lines = new Lines(secured);
      secure = true;
    } else if (verb === "NOOP") {
      if (script.noopDelayMs) await delay(script.noopDelayMs);
      lines.send("250 2.0.0 Ok\r\n");
    } else if (verb === "MAIL") {
      lines.send("250 2.1.0 Ok\r\n");
    } else if (verb === "RCPT") {
      lines.send("250 2.1.5 Ok\r\n");
    } else if (verb === "RSET") {
      lines.send("250 2.0.0 Ok\r\n");
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

/** Bob's provider on loopback, presenting `certificate` after STARTTLS. */
export async function startSmtpd(script: ServerScript, certificate: TestCertificate) {
  const sessions: ServerSession[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const session: ServerSession = {
      received: [],
      clearChunks: [],
      afterStarttls: [],
      closed: once(socket, "close").then(() => undefined),
    };
    socket.on("close", () => sockets.delete(socket));
    sessions.push(session);
    socket.on("error", () => socket.destroy());
    serveSmtp(socket, script, session, certificate.context).catch(() => socket.destroy());
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

/**
 * Postfix's smtp_tls_security_level ("verify" checks the chain against the
 * trusted certificate and the name mx.iroco.test, like verify or secure),
 * plus a client that sends STARTTLS though it was not offered.
 */
export type ClientPolicy = "may" | "encrypt" | "verify" | "starttls-anyway";

export interface ClientResult {
  /** The EHLO reply as the client received it. */
  ehlo: string[];
  /** The reply (or replies, when pipelined after NOOP) the client got to STARTTLS. */
  starttlsReplies?: string[][];
  tls?: { peerCN: unknown; protocol: string | null };
  /** The SHA-256 fingerprint of the certificate the client was shown. */
  peerFingerprint?: string;
  handshakeError?: Error;
  /** deferred: what Postfix would log. */
  deferred?: string;
  sentData: boolean;
  /** The client's raw socket closed. */
  socketClosed: boolean;
}

export interface ClientOptions {
  /** "verify": the certificate (PEM) the client trusts as its CA. */
  trust?: string;
}

export async function sendMessage(port: number, policy: ClientPolicy, marker: string, options: ClientOptions = {}): Promise<ClientResult> {
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
      const verify = policy === "verify";
      const secured = tls.connect({
        socket,
        servername: "mx.iroco.test",
        rejectUnauthorized: verify,
        ...(verify && options.trust ? { ca: options.trust } : {}),
      });
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
      const peer = secured.getPeerCertificate();
      result.tls = { peerCN: peer.subject?.CN, protocol: secured.getProtocol() };
      result.peerFingerprint = peer.fingerprint256;
      lines = new Lines(secured);
      lines.send("EHLO smtp.infomaniak.test\r\n");
      await lines.reply();
      secure = true;
    }
  }
  if (!secure && (policy === "encrypt" || policy === "verify")) {
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

/** Collects the proxy's transcripts; `next()` waits for the next one. */
export function transcripts() {
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

export interface Delivery {
  mode: WireMode;
  server: ServerScript;
  policy: ClientPolicy;
  /** The real server's certificate. */
  serverCertificate: TestCertificate;
  client?: ClientOptions;
  /** The wire's own certificate for mode "mitm". */
  mitm?: MitmCertificate;
}

/** One message from the scripted client through the wire to the scripted server; resolves once all is closed. */
export async function deliverThroughWire(delivery: Delivery) {
  const marker = `lab-${randomBytes(6).toString("hex")}`;
  const smtpd = await startSmtpd(delivery.server, delivery.serverCertificate);
  const collected = transcripts();
  const proxy = await startWireProxy({
    listenPort: 0,
    listenHost: HOST,
    upstream: { host: HOST, port: smtpd.port },
    mode: () => delivery.mode,
    onTranscript: (t) => collected.push(t),
    marker: () => marker,
    ...(delivery.mitm ? { mitm: delivery.mitm } : {}),
  });
  try {
    const client = await within(sendMessage(proxy.port, delivery.policy, marker, delivery.client), 15_000, "the client's exchange");
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

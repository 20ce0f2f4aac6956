/**
 * A tiny line-based SMTP client for the security tests: plain (port 25),
 * implicit TLS (465) and STARTTLS upgrades, waiting for each reply before
 * the next command. It only ever connects to 127.0.0.1 (the world's
 * published ports), and every wait has a timeout that says what it waited for.
 */
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";

const HOST = "127.0.0.1";
const REPLY_TIMEOUT_MS = 15_000;

export interface SmtpReply {
  code: number;
  /** Every line of the reply, without the code and separator. */
  lines: string[];
  /** The whole reply as the server sent it ("250-…\n250 …"). */
  text: string;
}

/** `AUTH PLAIN` initial response: base64 of "\0user\0password". */
export function authPlain(user: string, password: string): string {
  return `AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`, "utf8").toString("base64")}`;
}

/** The EHLO keywords (first word of each line after the greeting line), upper-cased. */
export function ehloKeywords(reply: SmtpReply): string[] {
  return reply.lines.slice(1).map((line) => line.split(/\s+/)[0]!.toUpperCase());
}

export class SmtpClient {
  private buffer = "";
  private pending: string[] = [];
  private wake?: () => void;
  private ended?: Error;
  private readonly onData = (chunk: Buffer) => {
    this.buffer += chunk.toString("latin1");
    const pieces = this.buffer.split("\r\n");
    this.buffer = pieces.pop() ?? "";
    this.pending.push(...pieces);
    this.wake?.();
  };
  private readonly onEnd = (error?: Error) => {
    this.ended ??= error ?? new Error("the server closed the connection");
    this.wake?.();
  };

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on("data", this.onData);
    socket.on("error", this.onEnd);
    socket.on("close", () => this.onEnd());
  }

  private unlisten(socket: net.Socket): void {
    socket.removeListener("data", this.onData);
    socket.removeAllListeners("error");
    socket.removeAllListeners("close");
    // Keep an error listener so a late reset cannot crash the test process.
    socket.on("error", () => undefined);
  }

  /** Plain TCP to 127.0.0.1:port; returns the client and the 220 greeting. */
  static async plain(port: number): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
    const socket = net.connect({ host: HOST, port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new SmtpClient(socket);
    return { client, greeting: await client.read() };
  }

  /** Implicit TLS (SMTPS) to 127.0.0.1:port; returns the client, the TLS socket and the 220 greeting. */
  static async implicitTls(port: number, options: tls.ConnectionOptions): Promise<{ client: SmtpClient; tls: tls.TLSSocket; greeting: SmtpReply }> {
    const socket = await tlsConnect({ ...options, host: HOST, port });
    const client = new SmtpClient(socket);
    return { client, tls: socket, greeting: await client.read() };
  }

  /** Read one (possibly multiline) reply. */
  async read(timeoutMs = REPLY_TIMEOUT_MS): Promise<SmtpReply> {
    const raw: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.pending.length > 0) {
        const line = this.pending.shift()!;
        raw.push(line);
        const match = /^(\d{3})([ -])(.*)$/.exec(line);
        if (!match) throw new Error(`not an SMTP reply line: ${JSON.stringify(line)}`);
        if (match[2] === " ") {
          return { code: Number(match[1]), lines: raw.map((l) => l.slice(4)), text: raw.join("\n") };
        }
      }
      if (this.ended) throw new Error(`no complete SMTP reply (${this.ended.message}); got so far: ${JSON.stringify(raw)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for an SMTP reply; got so far: ${JSON.stringify(raw)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  /** Send one command line and read its reply. */
  async send(line: string): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  /**
   * After a 220 reply to STARTTLS: hand the TCP socket to TLS. Resolves with
   * the TLS socket once the handshake succeeded (later replies are read over
   * TLS), rejects with the handshake error otherwise.
   */
  async upgrade(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
    if (this.pending.length > 0 || this.buffer !== "") throw new Error("data after the STARTTLS reply, before the TLS handshake");
    const plain = this.socket;
    this.unlisten(plain);
    const secure = await tlsConnect({ ...options, socket: plain });
    this.socket = secure;
    this.ended = undefined;
    this.listen(secure);
    return secure;
  }

  /** QUIT politely if the connection is still up, then close it. */
  async close(): Promise<void> {
    if (!this.ended && !this.socket.destroyed) {
      await this.send("QUIT").catch(() => undefined);
    }
    this.socket.destroy();
  }
}

/** tls.connect as a promise: the socket after `secureConnect`, or the handshake error. */
export function tlsConnect(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("TLS handshake timed out after 15 s"));
    }, REPLY_TIMEOUT_MS);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      reject(new Error("connection closed before the TLS handshake completed"));
    });
  });
}

/** The result of a handshake attempt: the protocol on success, the error otherwise. */
export type HandshakeOutcome = { ok: true; protocol: string | null } | { ok: false; code: string | undefined; message: string };

export async function handshakeOutcome(attempt: Promise<tls.TLSSocket>): Promise<HandshakeOutcome> {
  try {
    const socket = await attempt;
    const protocol = socket.getProtocol();
    socket.destroy();
    return { ok: true, protocol };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    return { ok: false, code: err.code, message: err.message };
  }
}

/** Two connected in-memory streams (node:stream has no duplexPair before Node 22.6). */
function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

/**
 * Control for the old-TLS checks, in memory (no network): a Node TLS server
 * that accepts TLS 1.0 and up, and a client with the given options. If the
 * client negotiates `version` here, it really offers that version.
 */
export async function clientOffersVersion(
  clientOptions: tls.ConnectionOptions,
  server: { keyPem: string; certPem: string },
): Promise<HandshakeOutcome> {
  const [clientSide, serverSide] = duplexPair();
  const context = tls.createSecureContext({ key: server.keyPem, cert: server.certPem, minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" });
  const serverSocket = new tls.TLSSocket(serverSide, { isServer: true, secureContext: context });
  serverSocket.on("error", () => undefined);
  const outcome = await handshakeOutcome(tlsConnect({ ...clientOptions, socket: clientSide as unknown as net.Socket, rejectUnauthorized: false }));
  serverSocket.destroy();
  return outcome;
}

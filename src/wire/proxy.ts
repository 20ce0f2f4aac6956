/**
 * The wire's proxy: sits on the port-25 hop between Alice's provider (the
 * SMTP client) and Bob's provider (the SMTP server), relays every connection
 * to the server, and records what an eavesdropper sees with a HopRecorder.
 * In its attacker modes it tampers with the clear-text part of the dialogue.
 *
 * Modes (read once per connection, when it is accepted):
 * - "pass": a byte-for-byte relay; TLS stays end to end.
 * - "strip-starttls": removes STARTTLS from the server's EHLO reply; a
 *   STARTTLS command the client sends anyway is not forwarded, the proxy
 *   answers it with 454 itself, in its place among the pipelined replies.
 * - "fail-handshake": lets STARTTLS and the server's 220 through, then
 *   withholds the client's first TLS record (the ClientHello) and closes both
 *   connections: the client's handshake fails, the server never sees it.
 *
 * The recorder is fed the client's bytes as the client sent them and the
 * server's bytes as the client received them (rewritten replies and the
 * proxy's own 454 included); every change is noted as a "tampered" event.
 *
 * Runs inside the wire container on Debian bookworm's nodejs 18: Node 18 APIs
 * only, no npm dependencies.
 */
import net from "node:net";
import { HopRecorder } from "./recorder.js";
import { isStarttlsCommand, isStarttlsOfferLine, stripStarttlsFromEhloReply } from "./smtpRewrite.js";
import { RECORD_HEADER_BYTES, readRecordHeader } from "./tlsParse.js";
import type { Direction, Transcript } from "./transcript.js";

export type WireMode = "pass" | "strip-starttls" | "fail-handshake";

export const WIRE_MODES: readonly WireMode[] = ["pass", "strip-starttls", "fail-handshake"];

export interface WireTranscript {
  /** 1, 2, 3, … in the order connections were accepted. */
  id: number;
  mode: WireMode;
  transcript: Transcript;
}

export interface WireProxyOptions {
  /** 0 picks a free port (see the returned `port`). */
  listenPort: number;
  /** "0.0.0.0" by default (the wire container listens on its Docker network). */
  listenHost?: string;
  upstream: { host: string; port: number };
  /** Called once per connection, when it is accepted. Anything else than a WireMode counts as "pass". */
  mode: () => WireMode;
  /** Called once per connection, after both of its sides have closed. Exceptions are ignored. */
  onTranscript: (t: WireTranscript) => void;
  /** The marker the message body carries, asked for when the connection closes. */
  marker: () => string | undefined;
}

export interface WireProxy {
  port: number;
  /** Stops listening, cuts the connections still open (their transcripts are still delivered), and resolves when all are closed. */
  close(): Promise<void>;
}

/** The proxy's own answer to a STARTTLS it does not forward (Postfix's wording). */
export const LOCAL_STARTTLS_REPLY = "454 4.7.0 TLS not available due to local problem\r\n";

export const TAMPERED_EHLO = "removed STARTTLS from the EHLO reply";
export const TAMPERED_STARTTLS = "withheld the STARTTLS command and answered 454 in the server's place";
export const TAMPERED_CLIENT_HELLO = "withheld the ClientHello and closed both connections";

/** A clear-text line longer than this without a line ending is relayed as it is, uninterpreted. */
const MAX_LINE_BYTES = 64 * 1024;
/** After one side closed, how long the other may take to close before it is destroyed. */
const LINGER_MS = 10_000;

const EMPTY: Buffer = Buffer.alloc(0);
const REPLY_LINE = /^(\d{3})([ -]?)/;

/** "clear": SMTP lines are read and may be rewritten; "await-client-hello": fail-handshake after the 220; "relay": raw bytes. */
type Phase = "clear" | "await-client-hello" | "relay";

/** A command waiting for its reply, or the proxy's own reply waiting for its turn. */
type Pending = { verb: string } | { local: Buffer };

/** A line's text without its ending; latin1 keeps every byte. */
function lineText(line: Buffer): string {
  let end = line.length;
  if (end > 0 && line[end - 1] === 0x0a) end--;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  return line.toString("latin1", 0, end);
}

const append = (buffer: Buffer, chunk: Buffer): Buffer => (buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]));

function isWireMode(value: unknown): value is WireMode {
  return typeof value === "string" && (WIRE_MODES as readonly string[]).includes(value);
}

/** One relayed connection: the client's socket, the upstream socket, and what passes between them. */
class Hop {
  readonly recorder = new HopRecorder();
  readonly done: Promise<void>;
  private phase: Phase;
  private finished = false;
  private resolveDone!: () => void;
  private readonly closedSides = new Set<Direction>();
  private linger: NodeJS.Timeout | undefined;

  // Client → server, in clear text.
  private clientPending = EMPTY;
  private clientMidLine = false;
  private inData = false;
  private bdatLeft = 0;

  // Server → client, in clear text.
  private serverPending = EMPTY;
  private serverMidLine = false;
  /** Lines of a multi-line reply not yet complete. */
  private held: Buffer[] = [];
  private greeted = false;
  /** Bytes for the client, written in one go at the end of each step. */
  private toClientQueue: Buffer[] = [];

  private readonly pending: Pending[] = [];

  constructor(
    readonly id: number,
    readonly mode: WireMode,
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly onFinish: (hop: Hop) => void,
  ) {
    this.phase = mode === "pass" ? "relay" : "clear";
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    client.on("data", (chunk: Buffer) => this.guard(() => this.fromClient(chunk)));
    upstream.on("data", (chunk: Buffer) => this.guard(() => this.fromServer(chunk)));
    client.on("end", () => this.guard(() => this.ended("client")));
    upstream.on("end", () => this.guard(() => this.ended("server")));
    client.on("error", () => this.broken("client"));
    upstream.on("error", () => this.broken("server"));
    client.on("close", () => this.closed("client"));
    upstream.on("close", () => this.closed("server"));
  }

  /** Cuts both connections now. */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /** A bug in the rewriting must not leave a connection hanging: cut it. */
  private guard(step: () => void): void {
    try {
      step();
    } catch {
      this.destroy();
    }
  }

  // ------------------------------------------------------------ client → server

  private fromClient(chunk: Buffer): void {
    this.recorder.clientBytes(chunk);
    if (this.phase === "relay") {
      this.toServer(chunk);
      return;
    }
    this.clientPending = append(this.clientPending, chunk);
    if (this.phase === "await-client-hello") this.checkClientHello();
    else this.clientLines();
  }

  private clientLines(): void {
    const out: Buffer[] = [];
    let buf = this.clientPending;
    while (buf.length > 0) {
      if (this.bdatLeft > 0) {
        const n = Math.min(this.bdatLeft, buf.length);
        out.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        this.bdatLeft -= n;
        continue;
      }
      const newline = buf.indexOf(0x0a);
      if (newline < 0) {
        if (buf.length >= MAX_LINE_BYTES) {
          out.push(buf);
          buf = EMPTY;
          this.clientMidLine = true;
        }
        break;
      }
      const line = buf.subarray(0, newline + 1);
      buf = buf.subarray(newline + 1);
      if (this.clientMidLine) {
        this.clientMidLine = false;
        out.push(line);
        continue;
      }
      const text = lineText(line);
      if (this.inData) {
        out.push(line);
        if (text === ".") {
          this.inData = false;
          this.pending.push({ verb: "." });
        }
        continue;
      }
      if (this.mode === "strip-starttls" && isStarttlsCommand(text)) {
        this.recorder.tampered("client", TAMPERED_STARTTLS);
        this.pending.push({ local: Buffer.from(LOCAL_STARTTLS_REPLY, "latin1") });
        continue;
      }
      const verb = (/^\S*/.exec(text)?.[0] ?? "").toUpperCase();
      this.pending.push({ verb });
      if (verb === "BDAT") {
        const size = /^\S+[ \t]+(\d+)/.exec(text)?.[1];
        this.bdatLeft = size === undefined ? 0 : Number(size);
      }
      out.push(line);
    }
    this.clientPending = buf.length === 0 ? EMPTY : Buffer.from(buf);
    if (out.length > 0) this.toServer(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
    this.takeLocalReplies();
    this.flushToClient();
  }

  /** fail-handshake, after the server's 220: the first TLS record is withheld and both connections closed. */
  private checkClientHello(): void {
    const header = readRecordHeader(this.clientPending);
    if (header === "short") return;
    if (header === "invalid") {
      // Not TLS: relayed as it comes, no longer interpreted.
      this.phase = "relay";
      const rest = this.clientPending;
      this.clientPending = EMPTY;
      this.toServer(rest);
      return;
    }
    if (this.clientPending.length < RECORD_HEADER_BYTES + header.length) return;
    this.clientPending = EMPTY;
    this.recorder.tampered("client", TAMPERED_CLIENT_HELLO);
    this.destroy();
  }

  // ------------------------------------------------------------ server → client

  private fromServer(chunk: Buffer): void {
    if (this.phase !== "clear") {
      this.toClient(chunk);
      return;
    }
    this.serverPending = append(this.serverPending, chunk);
    let buf = this.serverPending;
    while (buf.length > 0 && this.phase === "clear") {
      const newline = buf.indexOf(0x0a);
      if (newline < 0) {
        if (buf.length >= MAX_LINE_BYTES) {
          this.toClientQueue.push(...this.held, buf);
          this.held = [];
          buf = EMPTY;
          this.serverMidLine = true;
        }
        break;
      }
      const line = buf.subarray(0, newline + 1);
      buf = buf.subarray(newline + 1);
      if (this.serverMidLine) {
        this.serverMidLine = false;
        this.toClientQueue.push(line);
        continue;
      }
      this.held.push(line);
      const m = REPLY_LINE.exec(lineText(line));
      if (m && m[2] === "-") continue; // more lines of this reply to come
      const lines = this.held;
      this.held = [];
      this.reply(m ? m[1] : undefined, lines);
    }
    this.serverPending = EMPTY;
    const rest = buf.length === 0 ? EMPTY : Buffer.from(buf);
    // reply() may have moved the phase on (TypeScript keeps the loop's narrowing).
    const phase = this.phase as Phase;
    if (phase === "clear") this.serverPending = rest;
    else this.toClientQueue.push(rest);
    this.flushToClient();
    // Bytes the client sent before the 220 reached it (not expected) are checked now.
    if (phase === "await-client-hello" && this.clientPending.length > 0) this.checkClientHello();
  }

  /** One complete reply (or a line that is no reply, code undefined). */
  private reply(code: string | undefined, lines: Buffer[]): void {
    if (code === undefined) {
      this.toClientQueue.push(...lines);
      return;
    }
    if (!this.greeted) {
      this.greeted = true;
      this.toClientQueue.push(...lines);
      this.takeLocalReplies();
      return;
    }
    const head = this.pending[0];
    const command = head && "verb" in head ? head.verb : undefined;
    if (command !== undefined) this.pending.shift();
    let sent = lines;
    if (this.mode === "strip-starttls" && code === "250" && lines.some((l) => isStarttlsOfferLine(lineText(l)))) {
      sent = stripStarttlsFromEhloReply(lines.map((l) => l.toString("latin1"))).map((l) => Buffer.from(l, "latin1"));
      this.flushToClient(); // the event goes after what the client received before it
      this.recorder.tampered("server", TAMPERED_EHLO);
    }
    if (command === "DATA" && code === "354") this.inData = true;
    if (command === "STARTTLS" && code === "220") {
      // From the 220 on, neither side speaks SMTP in clear.
      this.phase = this.mode === "fail-handshake" ? "await-client-hello" : "relay";
      this.inData = false;
      this.pending.length = 0;
    }
    this.toClientQueue.push(...sent);
    this.takeLocalReplies();
  }

  /** The proxy's own replies whose turn has come (every earlier command answered). */
  private takeLocalReplies(): void {
    if (!this.greeted) return;
    for (let head = this.pending[0]; head && "local" in head; head = this.pending[0]) {
      this.pending.shift();
      this.toClientQueue.push(head.local);
    }
  }

  // ------------------------------------------------------------ writing, closing

  private flushToClient(): void {
    const queued = this.toClientQueue.filter((b) => b.length > 0);
    this.toClientQueue = [];
    if (queued.length > 0) this.toClient(queued.length === 1 ? (queued[0] as Buffer) : Buffer.concat(queued));
  }

  /** Bytes for the client: recorded as the client receives them. */
  private toClient(data: Buffer): void {
    if (data.length === 0 || this.client.destroyed || this.client.writableEnded) return;
    this.recorder.serverBytes(data);
    if (!this.client.write(data)) this.pauseUntilDrained(this.upstream, this.client);
  }

  private toServer(data: Buffer): void {
    if (data.length === 0 || this.upstream.destroyed || this.upstream.writableEnded) return;
    if (!this.upstream.write(data)) this.pauseUntilDrained(this.client, this.upstream);
  }

  private pauseUntilDrained(source: net.Socket, sink: net.Socket): void {
    if (source.isPaused()) return;
    source.pause();
    sink.once("drain", () => source.resume());
  }

  /** This side finished sending: what it sent and the proxy still holds goes on, then the half-close. */
  private ended(side: Direction): void {
    if (side === "client") {
      if (this.phase !== "await-client-hello") this.toServer(this.clientPending);
      this.clientPending = EMPTY;
      this.recorder.close("client");
      if (!this.upstream.destroyed) this.upstream.end();
    } else {
      this.toClientQueue.push(...this.held, this.serverPending);
      this.held = [];
      this.serverPending = EMPTY;
      this.flushToClient();
      this.recorder.close("server");
      if (!this.client.destroyed) this.client.end();
    }
  }

  private broken(side: Direction): void {
    this.recorder.close(side);
    this.destroy();
  }

  private closed(side: Direction): void {
    this.recorder.close(side);
    this.closedSides.add(side);
    if (this.closedSides.size < 2) {
      const other = side === "client" ? this.upstream : this.client;
      if (!other.destroyed && !other.writableEnded) other.end();
      this.linger = setTimeout(() => other.destroy(), LINGER_MS);
      this.linger.unref();
      return;
    }
    if (this.linger) clearTimeout(this.linger);
    if (this.finished) return;
    this.finished = true;
    this.onFinish(this);
    this.resolveDone();
  }
}

/** Starts the wire's proxy; resolves once it listens. */
export async function startWireProxy(options: WireProxyOptions): Promise<WireProxy> {
  const hops = new Set<Hop>();
  let nextId = 1;

  const finish = (hop: Hop): void => {
    hops.delete(hop);
    let marker = "";
    try {
      marker = options.marker() ?? "";
    } catch {
      // No marker: the body cannot be looked for.
    }
    try {
      options.onTranscript({ id: hop.id, mode: hop.mode, transcript: hop.recorder.transcript(marker) });
    } catch {
      // The observer's problem must not take the wire down.
    }
  };

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    let mode: WireMode = "pass";
    try {
      const asked = options.mode();
      if (isWireMode(asked)) mode = asked;
    } catch {
      // Keep "pass".
    }
    const upstream = net.connect({ host: options.upstream.host, port: options.upstream.port, allowHalfOpen: true });
    const hop = new Hop(nextId++, mode, client, upstream, finish);
    hops.add(hop);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listenPort, options.listenHost ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Later errors (e.g. EMFILE on accept) must not crash the process.
  server.on("error", () => undefined);

  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.listenPort;
  let closing: Promise<void> | undefined;

  return {
    port,
    close(): Promise<void> {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const open = [...hops];
        for (const hop of open) hop.destroy();
        await Promise.all([stopped, ...open.map((hop) => hop.done)]);
      })();
      return closing;
    },
  };
}

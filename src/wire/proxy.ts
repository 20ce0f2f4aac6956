/**
 * The wire's proxy: sits on the port-25 hop between Alice's provider (the
 * SMTP client) and Bob's provider (the SMTP server), relays every connection
 * to the server, and records what an eavesdropper sees with a HopRecorder.
 * In its attacker modes it tampers with the dialogue.
 *
 * Modes (read once per connection, when it is accepted):
 * - "pass": a byte-for-byte relay; TLS stays end to end.
 * - "strip-starttls": removes STARTTLS from the server's EHLO reply; a
 *   STARTTLS command the client sends anyway is not forwarded, the proxy
 *   answers it with 454 itself, in its place among the pipelined replies.
 * - "fail-handshake": lets STARTTLS and the server's 220 through, then
 *   withholds the client's first TLS record (the ClientHello) and closes both
 *   connections: the client's handshake fails, the server never sees it.
 * - "mitm": lets the clear-text part through untouched; after the server's
 *   220 to STARTTLS the wire terminates TLS itself, with its own certificate
 *   (option `mitm`), opens its own TLS session to the server (with the SNI
 *   the client sent, accepting any certificate) and relays the decrypted
 *   dialogue, which it records too (see mitm.ts). A client that verifies the
 *   certificate aborts the handshake: both connections are closed. Without
 *   the `mitm` option the connection is relayed as in "pass".
 * - "inject": the check for CVE-2011-0411. The client's STARTTLS goes to the
 *   server with INJECTED_COMMAND pipelined after it in the same write (one
 *   TCP packet). A correct server discards it when it switches to TLS; a
 *   vulnerable one answers it inside TLS, where the client takes the answer
 *   for the reply to its next command. If the server refuses STARTTLS, its
 *   clear-text reply to the injected command is withheld from the client.
 *   Otherwise as "pass": TLS end to end after the 220.
 *
 * The recorder is fed the client's bytes as the client sent them and the
 * server's bytes as the client received them (rewritten replies, the proxy's
 * own 454, and in mitm the wire's TLS server included); every change is noted
 * as a "tampered" event.
 *
 * Runs inside the wire container on Debian bookworm's nodejs 18: Node 18 APIs
 * only, no npm dependencies.
 */
import net from "node:net";
import tls from "node:tls";
import { MitmSession, TAMPERED_MITM_UNAVAILABLE, type MitmCertificate } from "./mitm.js";
import { LineFramer, lineText, SmtpDialogue, type Frame, type ServerLineMeaning } from "./dialogue.js";
import { HopRecorder } from "./recorder.js";
import { isStarttlsCommand, isStarttlsOfferLine, stripStarttlsFromEhloReply } from "./smtpRewrite.js";
import { RECORD_HEADER_BYTES, readRecordHeader } from "./tlsParse.js";
import { WIRE_MODES, type Direction, type Transcript, type WireMode, type WireTranscript } from "./transcript.js";

export { WIRE_MODES, type WireMode, type WireTranscript } from "./transcript.js";
export { TAMPERED_MITM, TAMPERED_MITM_UNAVAILABLE, type MitmCertificate } from "./mitm.js";

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
  /** The marker the message body carries, asked for when the connection closes (and by `live`). */
  marker: () => string | undefined;
  /** Called after bytes moved on any connection, so that a live view can ask `live()` for what is new. */
  onActivity?: () => void;
  /**
   * Mode "mitm": the certificate (and key) the wire presents to the client
   * in the server's place. Read once, when the proxy starts (a bad one makes
   * startWireProxy reject). Without it "mitm" relays as "pass".
   */
  mitm?: MitmCertificate;
}

export interface WireProxy {
  port: number;
  /** The connections still open, each as recorded so far (a closed one goes to onTranscript instead). */
  live(): WireTranscript[];
  /** Stops listening, cuts the connections still open (their transcripts are still delivered), and resolves when all are closed. */
  close(): Promise<void>;
}

/** The proxy's own answer to a STARTTLS it does not forward (Postfix's wording). */
export const LOCAL_STARTTLS_REPLY = "454 4.7.0 TLS not available due to local problem\r\n";

export const TAMPERED_EHLO = "removed STARTTLS from the EHLO reply";
export const TAMPERED_STARTTLS = "withheld the STARTTLS command and answered 454 in the server's place";
export const TAMPERED_CLIENT_HELLO = "withheld the ClientHello and closed both connections";

/** inject: the command pipelined after the client's STARTTLS (harmless, and answered by every server). */
export const INJECTED_COMMAND = "RSET";
export const TAMPERED_INJECTED = `pipelined ${INJECTED_COMMAND} after STARTTLS in the same packet`;
export const TAMPERED_INJECTED_REPLY = `withheld the server's clear-text reply to the injected ${INJECTED_COMMAND}`;

/** After one side closed, how long the other may take to close before it is destroyed. */
const LINGER_MS = 10_000;


/**
 * "clear": SMTP lines are read and may be rewritten; "await-client-hello":
 * fail-handshake after the 220; "mitm": the wire's TLS sessions carry the
 * dialogue; "relay": raw bytes.
 */
type Phase = "clear" | "await-client-hello" | "mitm" | "relay";

/**
 * What the proxy attaches to an awaited reply: its own reply, sent when its
 * turn comes, or the mark of the command it injected (the server's reply to
 * it is not the client's).
 */
type ProxyNote = { local: Buffer } | { injected: string };

function isWireMode(value: unknown): value is WireMode {
  return typeof value === "string" && (WIRE_MODES as readonly string[]).includes(value);
}

/** One relayed connection: the client's socket, the upstream socket, and what passes between them. */
class Hop {
  readonly recorder = new HopRecorder();
  readonly done: Promise<void>;
  private phase: Phase;
  /** mitm: the TLS interception, from the server's 220 to STARTTLS on. */
  private mitm: MitmSession | undefined;
  /** inject: the command was pipelined after STARTTLS. */
  private injected = false;
  /** Why the connection to the server could not be made, if it could not. */
  private upstreamUnreachable: string | undefined;
  private upstreamConnected = false;
  private finished = false;
  private resolveDone!: () => void;
  private readonly closedSides = new Set<Direction>();
  private linger: NodeJS.Timeout | undefined;

  /** The clear-text dialogue: which reply answers which command, and when TLS starts. */
  private readonly dialogue = new SmtpDialogue<ProxyNote>();
  private readonly clientFramer = new LineFramer();
  private readonly serverFramer = new LineFramer();
  /** Lines of a multi-line reply not yet complete. */
  private held: Buffer[] = [];
  /** Bytes for the client, written in one go at the end of each step. */
  private toClientQueue: Buffer[] = [];

  constructor(
    readonly id: number,
    readonly mode: WireMode,
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly onFinish: (hop: Hop) => void,
    /** mitm: the wire's own certificate, as a TLS server context. */
    private readonly mitmContext: tls.SecureContext | undefined,
    private readonly onActivity: () => void = () => {},
  ) {
    this.phase = mode === "pass" ? "relay" : "clear";
    if (mode === "mitm" && !mitmContext) {
      this.phase = "relay";
      this.recorder.tampered("server", TAMPERED_MITM_UNAVAILABLE);
    }
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    client.on("data", (chunk: Buffer) => this.guard(() => this.fromClient(chunk)));
    upstream.on("data", (chunk: Buffer) => this.guard(() => this.fromServer(chunk)));
    client.on("end", () => this.guard(() => this.ended("client")));
    upstream.on("end", () => this.guard(() => this.ended("server")));
    client.on("error", () => this.broken("client"));
    upstream.once("connect", () => (this.upstreamConnected = true));
    upstream.on("error", (error) => (this.upstreamConnected ? this.broken("server") : this.unreachable(error)));
    client.on("close", () => this.closed("client"));
    upstream.on("close", () => this.closed("server"));
  }

  /** Cuts both connections now. */
  destroy(): void {
    // TLS sessions first: in mitm the upstream socket is driven by the wire's TLS client.
    this.mitm?.destroy();
    this.client.destroy();
    if (!this.upstream.destroyed) this.upstream.destroy();
  }

  /** What the eavesdropper saw, plus what this mode did. */
  transcript(marker: string): Transcript {
    const transcript = this.recorder.transcript(marker);
    if (this.injected) transcript.injected = INJECTED_COMMAND;
    if (this.upstreamUnreachable !== undefined) transcript.upstreamUnreachable = this.upstreamUnreachable;
    // An interception that never got to decrypt anything read nothing.
    if (this.mode === "mitm" && this.mitmContext) transcript.attackerReadBody ??= false;
    return transcript;
  }

  /** A bug in the rewriting must not leave a connection hanging: cut it. */
  private guard(step: () => void): void {
    try {
      step();
    } catch {
      this.destroy();
    }
    try {
      this.onActivity();
    } catch {
      // A live view's problem must not take the connection down.
    }
  }

  // ------------------------------------------------------------ client → server

  private fromClient(chunk: Buffer): void {
    this.recorder.clientBytes(chunk);
    if (this.phase === "relay") {
      this.toServer(chunk);
      return;
    }
    if (this.phase === "mitm" && this.mitm) {
      this.mitm.fromClient(chunk);
      return;
    }
    this.clientFramer.push(chunk);
    if (this.phase === "await-client-hello") this.checkClientHello();
    else this.clientLines();
  }

  private clientLines(): void {
    const out: Buffer[] = [];
    for (;;) {
      const frame = this.clientFramer.next(this.dialogue.chunkBytesLeft);
      if (!frame) break;
      out.push(...this.clientFrame(frame));
    }
    if (out.length > 0) this.toServer(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
    this.takeLocalReplies();
    this.flushToClient();
  }

  /** The bytes that go to the server for one frame of the client's. */
  private clientFrame(frame: Frame): Buffer[] {
    const starttls = frame.kind === "line" && this.dialogue.expectsCommand() && isStarttlsCommand(lineText(frame.bytes));
    if (starttls && this.mode === "strip-starttls") {
      this.recorder.tampered("client", TAMPERED_STARTTLS);
      this.dialogue.expect("STARTTLS", { local: Buffer.from(LOCAL_STARTTLS_REPLY, "latin1") });
      return [];
    }
    this.dialogue.clientFrame(frame);
    if (starttls && this.mode === "inject" && !this.injected) return [frame.bytes, this.inject()];
    return [frame.bytes];
  }

  /**
   * inject: the bytes to send right after the client's STARTTLS line, in the
   * same write. No reply is expected for them if the server switches to TLS.
   */
  private inject(): Buffer {
    this.injected = true;
    this.dialogue.expect(INJECTED_COMMAND, { injected: INJECTED_COMMAND });
    this.recorder.tampered("client", TAMPERED_INJECTED);
    return Buffer.from(`${INJECTED_COMMAND}\r\n`, "latin1");
  }

  /** fail-handshake, after the server's 220: the first TLS record is withheld and both connections closed. */
  private checkClientHello(): void {
    const header = readRecordHeader(this.clientFramer.pending);
    if (header === "short") return;
    if (header === "invalid") {
      // Not TLS: relayed as it comes, no longer interpreted.
      this.phase = "relay";
      this.toServer(this.clientFramer.takeAll());
      return;
    }
    if (this.clientFramer.pending.length < RECORD_HEADER_BYTES + header.length) return;
    this.clientFramer.takeAll();
    this.recorder.tampered("client", TAMPERED_CLIENT_HELLO);
    this.destroy();
  }

  // ------------------------------------------------------------ server → client

  private fromServer(chunk: Buffer): void {
    // mitm: nothing is expected from the server between its 220 and the
    // wire's ClientHello, and then TLS reads the socket itself.
    if (this.phase === "mitm") return;
    if (this.phase !== "clear") {
      this.toClient(chunk);
      return;
    }
    this.serverFramer.push(chunk);
    while (this.phase === "clear") {
      const frame = this.serverFramer.next();
      if (!frame) break;
      if (frame.kind !== "line") {
        // An over-long line goes on as it is, with whatever was held before it.
        this.toClientQueue.push(...this.held, frame.bytes);
        this.held = [];
        continue;
      }
      this.held.push(frame.bytes);
      const meaning = this.dialogue.serverFrame(frame);
      if (!meaning.final) continue; // more lines of this reply to come
      const lines = this.held;
      this.held = [];
      this.reply(meaning, lines);
    }
    // reply() may have moved the phase on (TypeScript keeps the loop's narrowing).
    const phase = this.phase as Phase;
    if (phase !== "clear") {
      const rest = this.serverFramer.takeAll();
      if (phase !== "mitm") this.toClientQueue.push(rest);
    }
    this.flushToClient();
    // Bytes the client sent before the 220 reached it (not expected) are checked now.
    if (phase === "await-client-hello" && this.clientFramer.pending.length > 0) this.checkClientHello();
    // The 220 is on its way to the client: the wire's TLS server awaits its ClientHello.
    if (phase === "mitm") this.startMitm();
  }

  /** mitm, once the server's 220 to STARTTLS went to the client. */
  private startMitm(): void {
    if (this.mitm || !this.mitmContext) return;
    this.mitm = new MitmSession({
      recorder: this.recorder,
      client: this.client,
      upstream: this.upstream,
      secureContext: this.mitmContext,
      sideClosed: (side) => this.closed(side),
    });
    const early = this.clientFramer.takeAll();
    if (early.length > 0) this.mitm.fromClient(early);
  }

  /** One complete reply (or a line that is no reply). */
  private reply(meaning: ServerLineMeaning<ProxyNote>, lines: Buffer[]): void {
    if (meaning.role !== "reply") {
      this.toClientQueue.push(...lines);
      if (meaning.role === "greeting") this.takeLocalReplies();
      return;
    }
    const note = meaning.answered?.note;
    if (note && "injected" in note) {
      // The server refused STARTTLS and answered the injected command in clear: the client never sent it.
      this.flushToClient(); // the event goes after what the client received before it
      this.recorder.tampered("server", TAMPERED_INJECTED_REPLY);
      this.takeLocalReplies();
      return;
    }
    let sent = lines;
    if (this.mode === "strip-starttls" && meaning.code === "250" && lines.some((l) => isStarttlsOfferLine(lineText(l)))) {
      sent = stripStarttlsFromEhloReply(lines.map((l) => l.toString("latin1"))).map((l) => Buffer.from(l, "latin1"));
      this.flushToClient(); // the event goes after what the client received before it
      this.recorder.tampered("server", TAMPERED_EHLO);
    }
    // From the 220 on, neither side speaks SMTP in clear.
    if (meaning.opened === "tls") this.phase = this.afterStarttlsPhase();
    this.toClientQueue.push(...sent);
    this.takeLocalReplies();
  }

  private afterStarttlsPhase(): Phase {
    if (this.mode === "fail-handshake") return "await-client-hello";
    if (this.mode === "mitm" && this.mitmContext) return "mitm";
    return "relay";
  }

  /** The proxy's own replies whose turn has come (every earlier command answered). */
  private takeLocalReplies(): void {
    if (!this.dialogue.greeted) return;
    for (let note = this.dialogue.nextAwaited()?.note; note && "local" in note; note = this.dialogue.nextAwaited()?.note) {
      this.dialogue.takeAwaited();
      this.toClientQueue.push(note.local);
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
    if (this.mitm) {
      this.recorder.close(side);
      if (side === "client") this.mitm.clientEnded();
      else this.mitm.serverEnded();
      return;
    }
    if (side === "client") {
      const rest = this.clientFramer.takeAll();
      if (this.phase !== "await-client-hello") this.toServer(rest);
      this.recorder.close("client");
      if (!this.upstream.destroyed) this.upstream.end();
    } else {
      this.toClientQueue.push(...this.held, this.serverFramer.takeAll());
      this.held = [];
      this.flushToClient();
      this.recorder.close("server");
      if (!this.client.destroyed) this.client.end();
    }
  }

  /**
   * The server's port refused (or could not be reached): the client, whose
   * connection the wire had already accepted, gets a reset rather than a
   * polite close, the nearest a relay can come to the refusal it would have
   * met without the wire. The wire never says more than it got: no SMTP
   * reply of its own.
   */
  private unreachable(error: Error): void {
    this.upstreamUnreachable = error.message;
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (!this.upstream.destroyed) this.upstream.destroy();
  }

  private broken(side: Direction): void {
    this.recorder.close(side);
    this.destroy();
  }

  private closed(side: Direction): void {
    this.recorder.close(side);
    if (this.closedSides.has(side)) return;
    this.closedSides.add(side);
    if (this.closedSides.size < 2) {
      const other = side === "client" ? this.upstream : this.client;
      if (this.mitm) this.mitm.peerClosed(side);
      else if (!other.destroyed && !other.writableEnded) other.end();
      this.linger = setTimeout(() => this.destroy(), LINGER_MS);
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
  // Made once: a certificate that does not load is an error of the set-up, reported now.
  const mitmContext = options.mitm
    ? tls.createSecureContext({ cert: options.mitm.certPem, key: options.mitm.keyPem })
    : undefined;

  const currentMarker = (): string => {
    try {
      return options.marker() ?? "";
    } catch {
      return ""; // No marker: the body cannot be looked for.
    }
  };
  const finish = (hop: Hop): void => {
    hops.delete(hop);
    const marker = currentMarker();
    try {
      options.onTranscript({ id: hop.id, mode: hop.mode, transcript: hop.transcript(marker) });
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
    const hop = new Hop(nextId++, mode, client, upstream, finish, mitmContext, options.onActivity);
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
    live(): WireTranscript[] {
      const marker = currentMarker();
      return [...hops].map((hop) => ({ id: hop.id, mode: hop.mode, transcript: hop.transcript(marker) }));
    },
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

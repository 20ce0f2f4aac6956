/**
 * The SMTP dialogue on the port-25 hop, worked out once: how a side's bytes
 * split into lines (and BDAT chunks), what each line is (greeting, command,
 * reply, message content), which command each reply answers (pipelining and
 * multi-line replies included), and where the dialogue stands: in clear
 * text, switched to TLS by a 220 to STARTTLS, or read inside TLS by a wire
 * that terminated it (mitm).
 *
 * The proxy uses it to know which reply it may rewrite and when TLS starts,
 * the recorder to mark every line it records, and the report to mark lines
 * of transcripts recorded before the marks existed.
 *
 * Runs inside the wire container on Debian bookworm's nodejs 18: no npm
 * dependencies, and nothing from outside src/wire.
 */
import type { SmtpEvent, WireEvent } from "./transcript.js";

/**
 * clear: readable by anyone on the wire. tls: after the server's 220 to
 * STARTTLS both sides speak TLS; an SMTP line seen then crossed in clear
 * although it should not have (raw). decrypted: the dialogue inside TLS, as
 * the wire read it after terminating TLS itself.
 */
export type DialoguePhase = "clear" | "tls" | "decrypted";

/**
 * greeting: the server's first reply. command, reply: a client command and
 * the lines of a server reply. content: message content (after a 354 to
 * DATA, or a BDAT chunk). end-of-data: the lone "." closing DATA content.
 * raw: clear-text bytes the dialogue does not interpret (after the switch to
 * TLS, or the rest of an over-long line).
 */
export type LineRole = "greeting" | "command" | "reply" | "content" | "end-of-data" | "raw";

/**
 * The end of the message among the commands awaiting a reply: the lone "."
 * closing DATA content, or BDAT … LAST, whose reply is the message's.
 */
export const END_OF_DATA = ".";

/** A clear-text line longer than this without a line ending is passed on in pieces, uninterpreted. */
export const MAX_LINE_BYTES = 64 * 1024;

const REPLY_LINE = /^(\d{3})([ -]?)(.*)$/s;

/**
 * A reply line's code, whether it is the reply's last line ("250 …", not
 * "250-…"), and its text after the separator; undefined when the line is no
 * reply line.
 */
export function parseReplyLine(text: string): { code: string; final: boolean; text: string } | undefined {
  const m = REPLY_LINE.exec(text);
  if (!m) return undefined;
  return { code: m[1] ?? "", final: m[2] !== "-", text: m[3] ?? "" };
}

/** The command's verb, upper-cased ("" for an empty line). */
export function commandVerb(text: string): string {
  return (/^\S*/.exec(text)?.[0] ?? "").toUpperCase();
}

/** "BDAT <size> [LAST]": the chunk size and whether it is the last one; undefined for a malformed BDAT. */
export function parseBdat(text: string): { size: number; last: boolean } | undefined {
  const m = /^\S+[ \t]+(\d+)(?:[ \t]+(LAST))?[ \t]*$/i.exec(text);
  if (!m) return undefined;
  return { size: Number(m[1]), last: m[2] !== undefined };
}

/** A line's text without its ending; latin1 keeps every byte. */
export function lineText(line: Uint8Array, encoding: "latin1" | "utf8" = "latin1"): string {
  let end = line.length;
  if (end > 0 && line[end - 1] === 0x0a) end--;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  return Buffer.from(line.buffer, line.byteOffset, end).toString(encoding);
}

/**
 * One piece of a side's byte stream: a whole line with its ending, a piece
 * of an over-long line ("piece": passed on uninterpreted up to its line
 * ending), or a line of a BDAT chunk ("chunk": its last one ends where the
 * chunk ends, with or without a line ending).
 */
export interface Frame {
  kind: "line" | "piece" | "chunk";
  bytes: Buffer;
}

/** Splits one side's clear-text bytes into frames, across the chunks they arrive in. */
export class LineFramer {
  /** Bytes not yet framed (the rest of a line, or, once TLS started, of a record). */
  pending: Buffer = Buffer.alloc(0);
  private midLine = false;

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /** The next frame; `chunkBytes` BDAT bytes are expected first. undefined: more bytes are needed. */
  next(chunkBytes = 0): Frame | undefined {
    const buf = this.pending;
    if (buf.length === 0) return undefined;
    if (chunkBytes > 0) {
      const inChunk = buf.subarray(0, chunkBytes);
      const newline = inChunk.indexOf(0x0a);
      if (newline >= 0) return this.cut(newline + 1, "chunk");
      if (inChunk.length === chunkBytes || inChunk.length >= MAX_LINE_BYTES) return this.cut(inChunk.length, "chunk");
      return undefined;
    }
    const newline = buf.indexOf(0x0a);
    if (newline < 0) {
      if (buf.length < MAX_LINE_BYTES) return undefined;
      this.midLine = true;
      return this.cut(buf.length, "piece");
    }
    const kind = this.midLine ? "piece" : "line";
    this.midLine = false;
    return this.cut(newline + 1, kind);
  }

  /** Everything not framed yet, e.g. when the side closes or switches to TLS. */
  takeAll(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  private cut(n: number, kind: Frame["kind"]): Frame {
    const bytes = this.pending.subarray(0, n);
    // Keep the rest independent of the (possibly large) chunk it came from.
    this.pending = n === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(n));
    return { kind, bytes };
  }
}

/** A command waiting for its reply; `note` is whatever its user attaches (the proxy: what to do with the reply). */
export interface AwaitedReply<Note> {
  /** Upper-cased verb, END_OF_DATA for the end of DATA content. */
  verb: string;
  note?: Note;
}

/** What a line is in the dialogue. */
export interface LineMeaning {
  role: LineRole;
  /**
   * command: its verb. reply: the verb of the command it answers
   * (END_OF_DATA for the reply to the message: after DATA content, or to
   * BDAT … LAST). content and end-of-data:
   * "DATA" or "BDAT". Absent when nothing was awaiting a reply.
   */
  command?: string;
}

/** A server line, with what it changed when it ended a reply. */
export interface ServerLineMeaning<Note> extends LineMeaning {
  /** The reply's code (greeting and reply lines). */
  code?: string;
  /** The reply's last line. */
  final: boolean;
  /** Final line: the awaited entry this reply answered. */
  answered?: AwaitedReply<Note>;
  /** Final line: the reply opened DATA content (354) or switched the dialogue to TLS (220 to STARTTLS). */
  opened?: "content" | "tls";
}

export interface DialogueOptions {
  /** "clear" by default; "decrypted" for the dialogue a mitm reads inside TLS. */
  phase?: DialoguePhase;
  /**
   * The greeting already passed, so the first reply answers the first
   * command (inside TLS the client speaks first, with EHLO). Default: true
   * for the decrypted phase, false otherwise.
   */
  greeted?: boolean;
}

/**
 * The state of one connection's dialogue, fed line by line in the order the
 * lines crossed. Never throws: lines it cannot place are "raw" or unanswered.
 */
export class SmtpDialogue<Note = never> {
  phase: DialoguePhase;
  private greetingDone: boolean;
  private readonly awaiting: AwaitedReply<Note>[] = [];
  /** Inside DATA content, between the 354 and the lone ".". */
  private inData = false;
  /** BDAT chunk bytes the client still owes. */
  private chunkLeft = 0;

  constructor(options: DialogueOptions = {}) {
    this.phase = options.phase ?? "clear";
    this.greetingDone = options.greeted ?? this.phase === "decrypted";
  }

  /** The server's greeting has ended: every later reply answers a command. */
  get greeted(): boolean {
    return this.greetingDone;
  }

  /** The client's next line is a command (not message content, not after the switch to TLS). */
  expectsCommand(): boolean {
    return this.phase !== "tls" && !this.inData && this.chunkLeft === 0;
  }

  /** Bytes of a BDAT chunk the client's next bytes carry (frame them with LineFramer.next). */
  get chunkBytesLeft(): number {
    return this.chunkLeft;
  }

  /** The client's bytes, framed: a line of a BDAT chunk or one line. */
  clientFrame(frame: Frame): LineMeaning {
    if (frame.kind === "chunk") {
      this.chunkLeft = Math.max(0, this.chunkLeft - frame.bytes.length);
      return { role: "content", command: "BDAT" };
    }
    if (frame.kind === "piece") return { role: "raw" };
    return this.clientLine(lineText(frame.bytes));
  }

  /** The server's bytes, framed. */
  serverFrame(frame: Frame): ServerLineMeaning<Note> {
    if (frame.kind !== "line") return { role: "raw", final: true };
    return this.serverLine(lineText(frame.bytes));
  }

  /** A client line (without its ending). */
  clientLine(text: string): LineMeaning {
    if (this.phase === "tls") return { role: "raw" };
    if (this.inData) {
      if (text !== END_OF_DATA) return { role: "content", command: "DATA" };
      this.inData = false;
      this.awaiting.push({ verb: END_OF_DATA });
      return { role: "end-of-data", command: "DATA" };
    }
    const verb = commandVerb(text);
    if (verb !== "BDAT") {
      this.expect(verb);
      return { role: "command", command: verb };
    }
    const chunk = parseBdat(text);
    this.chunkLeft = chunk?.size ?? 0;
    this.expect(chunk?.last ? END_OF_DATA : verb);
    return { role: "command", command: verb };
  }

  /**
   * A reply the server owes but will not give, or one it gives to a command
   * the client never sent: queued in its place among the pipelined commands.
   */
  expect(verb: string, note?: Note): void {
    this.awaiting.push(note === undefined ? { verb } : { verb, note });
  }

  /** The entry the next reply will answer. */
  nextAwaited(): AwaitedReply<Note> | undefined {
    return this.awaiting[0];
  }

  /** Takes the entry at the head without a server reply (the proxy answered it itself). */
  takeAwaited(): AwaitedReply<Note> | undefined {
    return this.awaiting.shift();
  }

  /** A server line (without its ending). */
  serverLine(text: string): ServerLineMeaning<Note> {
    const reply = parseReplyLine(text);
    if (this.phase === "tls" || !reply) return { role: "raw", final: true };
    if (!this.greetingDone) {
      if (reply.final) this.greetingDone = true;
      return { role: "greeting", code: reply.code, final: reply.final };
    }
    const head = this.awaiting[0];
    const meaning: ServerLineMeaning<Note> = { role: "reply", code: reply.code, final: reply.final };
    if (head) meaning.command = head.verb;
    if (!reply.final) return meaning;
    this.awaiting.shift();
    if (head) meaning.answered = head;
    if (head?.verb === "DATA" && reply.code === "354") {
      this.inData = true;
      meaning.opened = "content";
    }
    if (head?.verb === "STARTTLS" && reply.code === "220" && this.phase === "clear") {
      this.startTls();
      meaning.opened = "tls";
    }
    return meaning;
  }

  /** From the 220 to STARTTLS on, neither side speaks SMTP in clear: nothing awaits a reply any more. */
  startTls(): void {
    this.phase = "tls";
    this.awaiting.length = 0;
    this.inData = false;
    this.chunkLeft = 0;
  }
}

/**
 * The events with every SMTP line marked (role, command, phase): lines the
 * recorder already marked keep their marks; the others (transcripts
 * recorded before the marks existed, or written by hand) are worked out with
 * this same model, replayed line by line.
 */
export function markedEvents(events: readonly WireEvent[]): WireEvent[] {
  const clear = new SmtpDialogue();
  let decrypted: SmtpDialogue | undefined;
  return events.map((event) => {
    if (event.kind === "starttls") {
      if (clear.phase === "clear") clear.startTls();
      return event;
    }
    if (event.kind !== "smtp") return event;
    const dialogue = event.decrypted === true ? (decrypted ??= new SmtpDialogue({ phase: "decrypted" })) : clear;
    if (event.role !== undefined && event.phase !== undefined) return event;
    const phase = dialogue.phase;
    const meaning = event.from === "server" ? dialogue.serverLine(event.line) : replayClientLine(dialogue, event.line);
    const marked: SmtpEvent = { ...event, role: meaning.role, phase };
    if (meaning.command !== undefined) marked.command = meaning.command;
    return marked;
  });
}

/** A recorded client line fed back: inside a BDAT chunk it counts as that many of the chunk's bytes, CRLF included. */
function replayClientLine(dialogue: SmtpDialogue, line: string): LineMeaning {
  if (dialogue.chunkBytesLeft === 0) return dialogue.clientLine(line);
  return dialogue.clientFrame({ kind: "chunk", bytes: Buffer.from(`${line}\r\n`, "utf8") });
}

/**
 * One port-25 connection, as the wire recorded it, turned into steps: SMTP
 * commands and (multi-line) replies, the message content collapsed into one
 * step, the STARTTLS switch, the TLS hellos, encrypted records aggregated,
 * and what an attacker on the wire changed. The HTML sequence diagram and
 * the `explain` lesson both tell these steps, each in its own words.
 *
 * What each SMTP line is comes from the dialogue model (src/wire/dialogue.ts):
 * the recorder marks its lines, and older transcripts are marked here with
 * the same model. Every step says which part of the connection it belongs
 * to (its zone): readable by anyone on the wire, the TLS handshake,
 * encrypted, or decrypted by a man in the middle.
 */
import { END_OF_DATA, markedEvents, parseReplyLine, type DialoguePhase } from "../wire/dialogue.js";
import type { Direction, SmtpEvent, TlsHandshakeEvent, Transcript, WireEvent } from "../wire/transcript.js";
import { formatBytes } from "./describe.js";

/**
 * clear: readable by anyone on the wire. handshake: TLS hellos and alerts,
 * readable (names, versions) but carrying no mail. encrypted: TLS records
 * nobody on the wire can read. decrypted: inside TLS, yet read by the wire
 * because it terminated TLS itself (mitm).
 */
export type Zone = "clear" | "handshake" | "encrypted" | "decrypted";

/** An SMTP command, or a whole reply (every line of a multi-line reply). */
export interface SmtpStep {
  kind: "smtp";
  from: Direction;
  lines: string[];
  zone: "clear" | "decrypted";
  /** greeting, command, reply, or raw: clear text the dialogue does not read as SMTP. */
  role: "greeting" | "command" | "reply" | "raw";
  /** command: its verb; reply: the verb of the command it answers ("." for the message). */
  command?: string;
  /** clear, decrypted, or tls: the line crossed in clear after the switch to TLS. */
  phase: DialoguePhase;
}

/** The message itself (DATA content up to the lone ".", or a BDAT chunk), collapsed into one step. */
export interface ContentStep {
  kind: "content";
  from: Direction;
  /** Content lines, the final "." not counted. */
  lines: number;
  /** DATA (ended by a lone ".") or BDAT (one chunk). */
  via: "DATA" | "BDAT";
  /** Lines before the first empty one (all of them when there is none). */
  headerLines: number;
  /** The Subject header's line, when the content showed one. */
  subject?: string;
  /** The final "." was seen (BDAT: the server answered the chunk). */
  ended: boolean;
  /** The body's marker was readable here: by anyone (clear), or by the attacker (decrypted). */
  bodyReadable: boolean;
  zone: "clear" | "decrypted";
}

/** The server's 220 to STARTTLS: clear text ends here. */
export interface StarttlsStep {
  kind: "starttls";
}

/** A ClientHello or ServerHello record, with what it shows on the wire. */
export interface HelloStep {
  kind: "hello";
  from: Direction;
  message: "ClientHello" | "ServerHello";
  sni?: string;
  offeredVersions?: string[];
  chosenVersion?: string;
  cipherSuite?: string;
  /** The key exchange group the ServerHello (or a TLS 1.2 ServerKeyExchange in its record) shows. */
  keyExchange?: string;
  /** Other handshake messages readable in the same record (TLS 1.2: Certificate…). */
  also: string[];
}

/**
 * Readable handshake records that are not hellos (TLS 1.2 Certificate, a
 * lone ChangeCipherSpec…); no messages: a record holding only part of a
 * message, continued in the next one.
 */
export interface HandshakeStep {
  kind: "handshake";
  from: Direction;
  messages: string[];
  recordBytes: number;
}

export interface AlertStep {
  kind: "alert";
  from: Direction;
  level?: "warning" | "fatal";
  description?: string;
}

export interface Traffic {
  records: number;
  bytes: number;
}

/** Consecutive encrypted records, both directions aggregated. */
export interface EncryptedStep {
  kind: "encrypted";
  client: Traffic;
  server: Traffic;
  /** ChangeCipherSpec records folded into this run (not counted as encrypted records). */
  changeCipherSpecs: number;
}

/** The wire (an attacker) changed the dialogue here. */
export interface TamperedStep {
  kind: "tampered";
  from: Direction;
  what: string;
}

/** One or both sides closed the connection. */
export interface ClosedStep {
  kind: "closed";
  sides: Direction[];
}

export type HopStep =
  | SmtpStep
  | ContentStep
  | StarttlsStep
  | HelloStep
  | HandshakeStep
  | AlertStep
  | EncryptedStep
  | TamperedStep
  | ClosedStep;

/** The step of one kind, e.g. StepOf<"smtp">. */
export type StepOf<K extends HopStep["kind"]> = Extract<HopStep, { kind: K }>;

/** The zone a step belongs to; undefined for markers (STARTTLS, attacker notes, closing). */
export function zoneOf(step: HopStep): Zone | undefined {
  switch (step.kind) {
    case "smtp":
    case "content":
      return step.zone;
    case "hello":
    case "handshake":
    case "alert":
      return "handshake";
    case "encrypted":
      return "encrypted";
    default:
      return undefined;
  }
}

const onlyChangeCipherSpec = (messages: readonly string[]): boolean =>
  messages.length > 0 && messages.every((m) => m === "ChangeCipherSpec");

/** Builds the steps of one connection; never throws on odd transcripts. */
class StepBuilder {
  readonly steps: HopStep[] = [];
  /** The reply whose last line has not come yet, per zone; its lines follow each other. */
  private readonly openReply: Partial<Record<SmtpStep["zone"], SmtpStep>> = {};
  /** The message content being collapsed, per zone. */
  private readonly openContent: Partial<Record<ContentStep["zone"], ContentStep>> = {};
  /** This side sent ChangeCipherSpec: its later handshake records are encrypted. */
  private readonly changedCipherSpec: Record<Direction, boolean> = { client: false, server: false };

  constructor(private readonly transcript: Transcript) {}

  private last(): HopStep | undefined {
    return this.steps[this.steps.length - 1];
  }

  event(e: WireEvent): void {
    switch (e.kind) {
      case "smtp":
        this.smtp(e);
        return;
      case "starttls":
        delete this.openContent.clear;
        delete this.openReply.clear;
        this.steps.push({ kind: "starttls" });
        return;
      case "tls-handshake":
        this.handshake(e);
        return;
      case "tls-data": {
        const traffic = this.encrypted(e.from);
        traffic.records += e.records;
        traffic.bytes += e.bytes;
        return;
      }
      case "tls-alert": {
        const step: AlertStep = { kind: "alert", from: e.from };
        if (e.level !== undefined) step.level = e.level;
        if (e.description !== undefined) step.description = e.description;
        this.steps.push(step);
        return;
      }
      case "tampered":
        this.steps.push({ kind: "tampered", from: e.from, what: e.what });
        return;
      case "closed": {
        const last = this.last();
        if (last?.kind === "closed" && !last.sides.includes(e.from)) last.sides.push(e.from);
        else this.steps.push({ kind: "closed", sides: [e.from] });
        return;
      }
    }
  }

  private smtp(e: SmtpEvent): void {
    const zone = e.decrypted === true ? "decrypted" : "clear";
    const role = e.role ?? "raw";
    if (role === "content" || role === "end-of-data") {
      this.content(zone, e, role === "end-of-data");
      return;
    }
    const open = this.openReply[zone];
    if (e.from === "server" && open && this.last() === open) {
      open.lines.push(e.line);
    } else {
      const step: SmtpStep = { kind: "smtp", from: e.from, lines: [e.line], zone, role, phase: e.phase ?? "clear" };
      if (e.command !== undefined) step.command = e.command;
      this.steps.push(step);
      delete this.openReply[zone];
      if (e.from === "server" && (role === "reply" || role === "greeting")) this.openReply[zone] = step;
    }
    if (e.from === "client") {
      // The next command (pipelined BDAT chunks) means the chunk's bytes were all sent.
      if (role === "command") this.endChunk(zone);
      return;
    }
    const reply = parseReplyLine(e.line);
    if (reply?.final === false) return;
    delete this.openReply[zone];
    // A BDAT chunk also ends with the server's answer to it (to BDAT … LAST: the message's).
    if (e.command === "BDAT" || e.command === END_OF_DATA) this.endChunk(zone);
  }

  private endChunk(zone: ContentStep["zone"]): void {
    const content = this.openContent[zone];
    if (content?.via !== "BDAT") return;
    content.ended = true;
    delete this.openContent[zone];
  }

  /** A line of message content, or the "." ending it, joins the content step of its zone. */
  private content(zone: ContentStep["zone"], e: SmtpEvent, end: boolean): void {
    const line = e.line;
    let step = this.openContent[zone];
    if (!step) {
      const bodyReadable = zone === "clear" ? this.transcript.plaintextBody : this.transcript.attackerReadBody === true;
      const via = e.command === "BDAT" ? "BDAT" : "DATA";
      step = { kind: "content", from: "client", via, lines: 0, headerLines: 0, ended: false, bodyReadable, zone };
      this.steps.push(step);
      this.openContent[zone] = step;
    }
    if (end && line === END_OF_DATA) {
      step.ended = true;
      delete this.openContent[zone];
      return;
    }
    const inHeaders = step.headerLines === step.lines;
    step.lines += 1;
    if (!inHeaders || line === "") return;
    step.headerLines += 1;
    if (step.subject === undefined && /^subject:/i.test(line)) step.subject = line;
  }

  private handshake(e: TlsHandshakeEvent): void {
    if (e.message === "ClientHello" || e.message === "ServerHello") {
      const step: HelloStep = {
        kind: "hello",
        from: e.from,
        message: e.message,
        also: (e.messages ?? []).filter((m) => m !== e.message),
      };
      if (e.sni !== undefined) step.sni = e.sni;
      if (e.offeredVersions !== undefined) step.offeredVersions = e.offeredVersions;
      if (e.chosenVersion !== undefined) step.chosenVersion = e.chosenVersion;
      if (e.cipherSuite !== undefined) step.cipherSuite = e.cipherSuite;
      if (e.keyExchange !== undefined) step.keyExchange = e.keyExchange;
      this.steps.push(step);
      return;
    }
    const messages = e.messages ?? [];
    if (messages.includes("ChangeCipherSpec")) this.changedCipherSpec[e.from] = true;
    if (messages.length === 0 && this.changedCipherSpec[e.from]) {
      // A handshake record sent after ChangeCipherSpec: encrypted, only its size shows.
      const traffic = this.encrypted(e.from);
      traffic.records += 1;
      traffic.bytes += e.recordBytes;
      return;
    }
    const last = this.last();
    if (last?.kind === "encrypted" && onlyChangeCipherSpec(messages)) {
      last.changeCipherSpecs += 1;
      return;
    }
    this.steps.push({ kind: "handshake", from: e.from, messages: [...messages], recordBytes: e.recordBytes });
  }

  /** The current encrypted run, started when needed; a lone ChangeCipherSpec just before it joins it. */
  private encrypted(from: Direction): Traffic {
    let last = this.last();
    if (last?.kind === "encrypted") return last[from];
    let changeCipherSpecs = 0;
    while (last?.kind === "handshake" && onlyChangeCipherSpec(last.messages)) {
      changeCipherSpecs += last.messages.length;
      this.steps.pop();
      last = this.last();
    }
    const step: EncryptedStep = {
      kind: "encrypted",
      client: { records: 0, bytes: 0 },
      server: { records: 0, bytes: 0 },
      changeCipherSpecs,
    };
    this.steps.push(step);
    return step[from];
  }
}

/** The steps of one connection, in the order they happened on the wire. */
export function hopSteps(transcript: Transcript): HopStep[] {
  const builder = new StepBuilder(transcript);
  for (const event of markedEvents(transcript.events)) builder.event(event);
  return builder.steps;
}

/** "1 encrypted record, 36 B", "14 encrypted records, 2.6 kB". */
export function describeTraffic(t: Traffic): string {
  return `${t.records} encrypted record${t.records === 1 ? "" : "s"}, ${formatBytes(t.bytes)}`;
}

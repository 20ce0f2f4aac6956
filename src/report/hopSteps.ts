/**
 * One port-25 connection, as the wire recorded it, turned into the steps a
 * sequence diagram draws: SMTP commands and (multi-line) replies, the DATA
 * content collapsed into one step, the STARTTLS switch, the TLS hellos,
 * encrypted records aggregated, and what an attacker on the wire changed.
 *
 * Every step says which part of the connection it belongs to (its zone):
 * readable by anyone on the wire, the TLS handshake, encrypted, or decrypted
 * by a man in the middle.
 */
import type { Direction, TlsHandshakeEvent, Transcript, WireEvent } from "../wire/transcript.js";
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
}

/** The message itself (DATA content up to the lone "."), collapsed into one step. */
export interface ContentStep {
  kind: "content";
  from: Direction;
  /** Content lines, the final "." not counted. */
  lines: number;
  /** The Subject header's line, when the content showed one. */
  subject?: string;
  /** The final "." was seen. */
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

/** Readable handshake records that are not hellos (TLS 1.2 Certificate, a lone ChangeCipherSpec…). */
export interface HandshakeStep {
  kind: "handshake";
  from: Direction;
  messages: string[];
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

const REPLY = /^(\d{3})([ -]?)/;

/** Builds the steps of one connection; never throws on odd transcripts. */
class StepBuilder {
  readonly steps: HopStep[] = [];
  /** A reply whose last line has not come yet. */
  private openReply: SmtpStep | undefined;
  /** The DATA content being collapsed. */
  private openContent: ContentStep | undefined;
  private inHeaders = false;
  /** Client commands still waiting for their final reply (upper-cased verbs). */
  private readonly awaiting: string[] = [];
  private greeted = false;

  constructor(private readonly transcript: Transcript) {}

  private push(step: HopStep): void {
    this.openReply = undefined;
    this.steps.push(step);
  }

  private last(): HopStep | undefined {
    return this.steps[this.steps.length - 1];
  }

  event(e: WireEvent): void {
    switch (e.kind) {
      case "smtp":
        this.smtp(e.from, e.line, e.decrypted === true ? "decrypted" : "clear");
        return;
      case "starttls":
        this.awaiting.length = 0;
        this.openContent = undefined;
        this.push({ kind: "starttls" });
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
        this.push(step);
        return;
      }
      case "tampered":
        this.push({ kind: "tampered", from: e.from, what: e.what });
        return;
      case "closed": {
        const last = this.last();
        if (last?.kind === "closed" && !last.sides.includes(e.from)) last.sides.push(e.from);
        else this.push({ kind: "closed", sides: [e.from] });
        return;
      }
    }
  }

  private smtp(from: Direction, line: string, zone: "clear" | "decrypted"): void {
    if (from === "client") this.clientLine(line, zone);
    else this.serverLine(line, zone);
  }

  private clientLine(line: string, zone: "clear" | "decrypted"): void {
    const content = this.openContent;
    if (content && content.zone === zone) {
      if (line === ".") {
        content.ended = true;
        this.openContent = undefined;
        this.awaiting.push(".");
        return;
      }
      content.lines += 1;
      if (this.inHeaders) {
        if (line === "") this.inHeaders = false;
        else if (content.subject === undefined && /^subject:/i.test(line)) content.subject = line;
      }
      return;
    }
    this.push({ kind: "smtp", from: "client", lines: [line], zone });
    this.awaiting.push((/^\S*/.exec(line)?.[0] ?? "").toUpperCase());
  }

  private serverLine(line: string, zone: "clear" | "decrypted"): void {
    const open = this.openReply;
    if (open && open.zone === zone && this.last() === open) {
      open.lines.push(line);
    } else {
      this.push({ kind: "smtp", from: "server", lines: [line], zone });
    }
    const step = this.last();
    const m = REPLY.exec(line);
    if (m && m[2] === "-") {
      if (step?.kind === "smtp") this.openReply = step;
      return;
    }
    this.openReply = undefined;
    if (!m) return;
    if (!this.greeted) {
      this.greeted = true;
      return;
    }
    const command = this.awaiting.shift();
    if (command === "DATA" && m[1] === "354") this.startContent(zone);
  }

  private startContent(zone: "clear" | "decrypted"): void {
    const bodyReadable =
      zone === "clear" ? this.transcript.plaintextBody : this.transcript.attackerReadBody === true;
    const step: ContentStep = { kind: "content", from: "client", lines: 0, ended: false, bodyReadable, zone };
    this.push(step);
    this.openContent = step;
    this.inHeaders = true;
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
      this.push(step);
      return;
    }
    const messages = e.messages ?? [];
    if (messages.length === 0) {
      // An encrypted handshake record: only its size shows.
      const traffic = this.encrypted(e.from);
      traffic.records += 1;
      traffic.bytes += e.recordBytes;
      return;
    }
    if (messages.every((m) => m === "ChangeCipherSpec")) {
      const last = this.last();
      if (last?.kind === "encrypted") {
        last.changeCipherSpecs += 1;
        return;
      }
    }
    this.push({ kind: "handshake", from: e.from, messages: [...messages] });
  }

  /** The current encrypted run, started when needed; a lone ChangeCipherSpec just before it joins it. */
  private encrypted(from: Direction): Traffic {
    let last = this.last();
    if (last?.kind !== "encrypted") {
      let changeCipherSpecs = 0;
      while (last?.kind === "handshake" && last.messages.every((m) => m === "ChangeCipherSpec")) {
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
      this.push(step);
      return step[from];
    }
    return last[from];
  }
}

/** The steps of one connection, in the order they happened on the wire. */
export function hopSteps(transcript: Transcript): HopStep[] {
  const builder = new StepBuilder(transcript);
  for (const event of transcript.events) builder.event(event);
  return builder.steps;
}

/** "1 encrypted record, 36 B", "14 encrypted records, 2.6 kB". */
export function describeTraffic(t: Traffic): string {
  return `${t.records} encrypted record${t.records === 1 ? "" : "s"}, ${formatBytes(t.bytes)}`;
}

/**
 * The port-25 hop told for a learner, for `starttls-lab explain`: the real
 * dialogue the wire recorded, connection by connection, in swaks-like lines
 * with short margin notes, and what an eavesdropper could read in the end.
 *
 * Everything printed comes from the wire's transcripts; the notes only say
 * what a line means.
 */
import type { WireObservation } from "./observe/types.js";
import { formatBytes, truncate } from "./report/describe.js";
import { isStarttlsOfferLine } from "./wire/smtpRewrite.js";
import type {
  Direction,
  SmtpEvent,
  TlsHandshakeEvent,
  Transcript,
  WireEvent,
  WireMode,
  WireTranscript,
} from "./wire/transcript.js";

// ------------------------------------------------------------------ layout

/** The page width the explanation keeps to. */
export const PAGE_WIDTH = 100;
/** Where margin notes start in the dialogue. */
const NOTE_COLUMN = 46;
const NOTE_MARK = "« ";
/** Dialogue lines are indented under their "Connection N" heading. */
const DIALOGUE_INDENT = "    ";

/** Glues words so that wrapText never breaks between them (shown as plain spaces). */
export function keepTogether(text: string): string {
  return text.replace(/ /g, "\u00a0");
}

/**
 * Greedy word wrap at plain spaces; words longer than the width are cut.
 * Words glued with keepTogether stay on one line, even past the width.
 */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = "";
  for (const word of text.split(/[ \t\r\n]+/).filter((w) => w.length > 0)) {
    let rest = word;
    while (rest.length > width && !rest.includes("\u00a0")) {
      if (current) lines.push(current);
      current = "";
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    if (!rest) continue;
    if (!current) current = rest;
    else if (current.length + 1 + rest.length <= width) current += ` ${rest}`;
    else {
      lines.push(current);
      current = rest;
    }
  }
  if (current) lines.push(current);
  return (lines.length > 0 ? lines : [""]).map((line) => line.replace(/\u00a0/g, " "));
}

/**
 * A paragraph wrapped to the page: the first line after `indent`, the
 * following ones indented as deep, plus `hang`.
 */
export function paragraph(indent: string, text: string, hang = "  "): string[] {
  const next = " ".repeat(indent.length) + hang;
  const width = PAGE_WIDTH - next.length;
  return wrapText(text, width).map((line, i) => (i === 0 ? indent : next) + line);
}

/** Control characters from the wire, shown rather than sent to the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A dialogue line with its margin note: beside it when there is room, else below; the note wraps. */
export function annotated(line: string, note?: string): string[] {
  const text = truncate(line, PAGE_WIDTH);
  if (!note) return [text];
  const noteLines = wrapText(note, PAGE_WIDTH - NOTE_COLUMN - NOTE_MARK.length);
  const first = noteLines[0] ?? "";
  const out =
    text.length <= NOTE_COLUMN - 2
      ? [text.padEnd(NOTE_COLUMN) + NOTE_MARK + first]
      : [text, " ".repeat(NOTE_COLUMN) + NOTE_MARK + first];
  for (const more of noteLines.slice(1)) out.push(" ".repeat(NOTE_COLUMN + NOTE_MARK.length) + more);
  return out;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "EHLO", "EHLO and STARTTLS", "EHLO, STARTTLS and QUIT". */
function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

// ------------------------------------------------------------------ notation

/** Who sent a line, in swaks' notation; `~` marks lines the attacker decrypted. */
function arrow(from: Direction, decrypted = false): string {
  if (from === "client") return decrypted ? " ~> " : " -> ";
  return decrypted ? "<~  " : "<-  ";
}

const BOTH_WAYS = "<-> ";
const ATTACKER = " !! ";
const DIVIDER = "---- from here on: encrypted (TLS) ----";

const MODE_MEANING: Record<WireMode, string> = {
  pass: "The wire only listened and relayed, like a passive eavesdropper on the path.",
  "strip-starttls":
    "The wire played an active attacker: it removes STARTTLS from the server's EHLO reply, " +
    "so the client never learns that TLS was possible (a downgrade attack).",
  "fail-handshake":
    "The wire played an active attacker: it lets STARTTLS through, then swallows the client's " +
    "ClientHello, so the TLS handshake fails.",
  mitm:
    "The wire played an active attacker: it answers the TLS handshake itself and reads what passes " +
    "(a man in the middle).",
  inject:
    "The wire played an active attacker: it slips an extra command in right after STARTTLS " +
    "(command injection).",
};

/** How to read the dialogue, said once; attacker lines are explained only when present. */
export function wireLegend(wire: WireObservation): string[] {
  const events = wire.hops.flatMap((hop) => hop.transcript.events);
  const tampered = events.some((e) => e.kind === "tampered");
  const decrypted = events.some((e) => e.kind === "smtp" && e.decrypted === true);
  const encrypted = events.some((e) => e.kind === "tls-data");
  const key = (mark: string, meaning: string): string => `    ${mark.padEnd(8)}${meaning}`;
  return [
    ...paragraph("  ", `${MODE_MEANING[wire.mode]} It recorded every connection on the hop. How to read it:`),
    key(arrow("client").trimEnd(), "a line Alice's provider (the SMTP client) sent"),
    key(arrow("server").trimEnd(), "a line Bob's provider (the SMTP server) sent"),
    ...(encrypted ? [key(BOTH_WAYS.trimEnd(), "TLS records, summed up: encrypted, only their sizes show")] : []),
    ...(tampered ? [key(ATTACKER.trimEnd(), "the attacker on the wire changed the dialogue here")] : []),
    ...(decrypted ? [key(" ~> <~", "lines inside TLS that the attacker read: it terminated TLS itself")] : []),
    key(NOTE_MARK.trimEnd(), "a note for you, not part of the dialogue"),
  ];
}

// ------------------------------------------------------------------ one connection

const REPLY_LINE = /^(\d{3})([ -]?)/;

interface EncryptedRun {
  records: Record<Direction, number>;
  bytes: Record<Direction, number>;
  changeCipherSpec: Record<Direction, number>;
}

interface MessageContent {
  lines: string[];
  decrypted: boolean;
}

/** Where an SMTP line crossed: in clear before STARTTLS, read by the attacker inside TLS, or in clear after a failed switch. */
type Place = "clear" | "decrypted" | "raw";

/** Walks one connection's events and tells them as dialogue lines with notes. */
class ConnectionNarrator {
  private readonly out: string[] = [];
  /** Client commands (upper-cased verbs, "." for end of data) waiting for their final reply. */
  private awaiting: string[] = [];
  private greeted = false;
  private afterStarttls = false;
  private sawOffer = false;
  /** The reply in progress offers STARTTLS. */
  private replyOffers = false;
  /** The attacker changed the server's side since the last complete reply. */
  private tamperedReply = false;
  private readonly changedCipherSpec: Record<Direction, boolean> = { client: false, server: false };
  private run: EncryptedRun | undefined;
  private content: MessageContent | undefined;
  private notedDecrypted = false;
  private notedRaw = false;

  constructor(private readonly transcript: Transcript) {}

  lines(): string[] {
    for (const event of this.transcript.events) this.event(event);
    this.endRun();
    this.endContent();
    return this.out;
  }

  private emit(mark: string, text: string, note?: string): void {
    this.out.push(...annotated(DIALOGUE_INDENT + mark + printable(text), note));
  }

  private event(event: WireEvent): void {
    const encryptedRecord =
      event.kind === "tls-data" ||
      (event.kind === "tls-handshake" && event.message === "other" && this.isEncryptedOrCcs(event));
    if (!encryptedRecord) this.endRun();
    if (!(event.kind === "smtp" && event.from === "client" && this.content)) this.endContent();
    switch (event.kind) {
      case "smtp":
        return this.smtp(event);
      case "starttls":
        this.afterStarttls = true;
        this.awaiting = [];
        this.out.push(DIALOGUE_INDENT + DIVIDER);
        return;
      case "tls-handshake":
        return this.handshake(event);
      case "tls-data":
        this.addToRun(event.from, event.records, event.bytes);
        return;
      case "tls-alert": {
        const what = [event.level, event.description].filter((part) => part !== undefined).join(" ");
        const note =
          event.level === "fatal"
            ? "readable, sent before encryption: this side gives up the handshake"
            : "readable, sent before encryption";
        return this.emit(arrow(event.from), `TLS alert${what ? `: ${what}` : ""}`, note);
      }
      case "closed":
        return this.emit(arrow(event.from), "(closes its side of the connection)");
      case "tampered": {
        if (event.from === "server") this.tamperedReply = true;
        const note =
          event.from === "server"
            ? "the attacker's doing: what Alice's provider received is not what Bob's provider sent"
            : "the attacker's doing: what Bob's provider received is not what Alice's provider sent";
        return this.emit(ATTACKER, `the attacker ${event.what}`, note);
      }
    }
  }

  // ---------------------------------------------------------------- SMTP

  private place(event: SmtpEvent): Place {
    if (event.decrypted === true) return "decrypted";
    return this.afterStarttls ? "raw" : "clear";
  }

  private smtp(event: SmtpEvent): void {
    const place = this.place(event);
    if (event.from === "client" && this.content) {
      if (event.line === ".") {
        this.endContent();
        this.awaiting.push(".");
        this.emit(arrow("client", place === "decrypted"), ".", "the end of the message");
      } else {
        this.content.lines.push(event.line);
      }
      return;
    }
    // The command and reply notes also keep track of the dialogue: always ask them first.
    const lineNote = event.from === "client" ? this.commandNote(event.line, place) : this.replyNote(event.line, place);
    this.emit(arrow(event.from, place === "decrypted"), event.line, this.placeNote(place) ?? lineNote);
  }

  /** The first line read by the attacker, and the first clear line after a failed switch, say so. */
  private placeNote(place: Place): string | undefined {
    if (place === "decrypted" && !this.notedDecrypted) {
      this.notedDecrypted = true;
      return "read by the attacker, who terminated TLS itself (a passive eavesdropper sees only encrypted records)";
    }
    if (place === "raw" && !this.notedRaw) {
      this.notedRaw = true;
      return "not TLS after all: these bytes crossed in clear text";
    }
    return undefined;
  }

  private commandNote(line: string, place: Place): string | undefined {
    const verb = (/^\S*/.exec(line)?.[0] ?? "").toUpperCase();
    this.awaiting.push(verb);
    const clear = place !== "decrypted";
    switch (verb) {
      case "EHLO":
      case "HELO":
        return place === "clear" ? "Alice's provider says hello and asks what the server offers" : undefined;
      case "STARTTLS":
        return this.sawOffer ? "Alice's provider takes the offer" : "Alice's provider asks for TLS (not offered)";
      case "MAIL":
        return clear ? "the envelope's sender, readable by anyone on the wire" : "the envelope's sender, read by the attacker";
      case "RCPT":
        return clear ? "the envelope's recipient, readable too" : "the envelope's recipient, read by the attacker";
      default:
        return undefined;
    }
  }

  private replyNote(line: string, place: Place): string | undefined {
    const m = REPLY_LINE.exec(line);
    if (!m) return undefined;
    const code = m[1] ?? "";
    const final = m[2] !== "-";
    if (!this.greeted) {
      if (!final) return undefined;
      this.greeted = true;
      return code === "220" && place === "clear" ? "Bob's provider greets, in clear text" : this.codeNote(code, line);
    }
    const command = this.awaiting[0];
    const offerLine = command === "EHLO" && isStarttlsOfferLine(line) && line.startsWith("250");
    if (offerLine) {
      this.replyOffers = true;
      if (place === "clear") this.sawOffer = true;
    }
    if (!final) return offerLine && place === "clear" ? "the server offers STARTTLS" : undefined;

    this.awaiting.shift();
    const offered = this.replyOffers;
    const tampered = this.tamperedReply;
    this.replyOffers = false;
    this.tamperedReply = false;
    if (command === "EHLO" && code === "250" && place === "clear") {
      if (offerLine) return "the server offers STARTTLS";
      if (!offered) {
        return (
          "no STARTTLS in the reply: a `may` sender goes on in clear text, one that requires TLS gives up" +
          (tampered ? " (the attacker removed the offer)" : "")
        );
      }
      return undefined;
    }
    if (command === "STARTTLS") {
      return code === "220"
        ? "the server agrees: clear text ends here"
        : "no TLS after all: the dialogue stays in clear text";
    }
    if (command === "DATA" && code === "354") {
      this.content = { lines: [], decrypted: place === "decrypted" };
      return "the server waits for the message";
    }
    if (command === "." && code.startsWith("2")) return "Bob's provider accepted the message into its queue";
    return this.codeNote(code, line);
  }

  private codeNote(code: string, line: string): string | undefined {
    if (code.startsWith("5")) {
      return /STARTTLS/i.test(line)
        ? "a permanent refusal (5xx): the server requires STARTTLS first"
        : "a permanent refusal (5xx)";
    }
    if (code.startsWith("4")) return "a temporary refusal (4xx): the sender may try again later";
    return undefined;
  }

  /** The message's lines, collapsed into one. */
  private endContent(): void {
    const content = this.content;
    if (!content) return;
    this.content = undefined;
    const blank = content.lines.indexOf("");
    const headers = blank < 0 ? content.lines.length : blank;
    const body = blank < 0 ? 0 : content.lines.length - blank - 1;
    const text = `(the message itself: ${plural(headers, "header line")}, ${plural(body, "body line")})`;
    let note: string;
    if (content.decrypted) {
      note = this.transcript.attackerReadBody
        ? "read by the attacker, who terminated TLS itself: the whole message, body included"
        : "read by the attacker, who terminated TLS itself";
    } else {
      note = this.transcript.plaintextBody
        ? "in clear text: the eavesdropper could read the whole message, headers and body"
        : "in clear text, readable by anyone on the wire";
    }
    this.emit(arrow("client", content.decrypted), text, note);
  }

  // ---------------------------------------------------------------- TLS

  /** ChangeCipherSpec, or a handshake record sent after it (encrypted). */
  private isEncryptedOrCcs(event: TlsHandshakeEvent): boolean {
    if (event.messages?.includes("ChangeCipherSpec")) return true;
    return event.messages === undefined && this.changedCipherSpec[event.from];
  }

  private handshake(event: TlsHandshakeEvent): void {
    if (event.message === "ClientHello") return this.clientHello(event);
    if (event.message === "ServerHello") return this.serverHello(event);
    if (event.messages?.includes("ChangeCipherSpec")) {
      this.changedCipherSpec[event.from] = true;
      this.addToRun(event.from, 0, 0, 1);
      return;
    }
    if (event.messages === undefined) {
      if (this.changedCipherSpec[event.from]) return this.addToRun(event.from, 1, event.recordBytes);
      return this.emit(
        arrow(event.from),
        `TLS handshake record, ${formatBytes(event.recordBytes, { spelled: true })}`,
        "readable: part of a handshake message, continued in the next record",
      );
    }
    this.emit(arrow(event.from), `TLS ${event.messages.join(", ")}`, readableMessagesNote(event.messages));
  }

  private clientHello(event: TlsHandshakeEvent): void {
    const parts = [event.sni !== undefined ? `SNI ${event.sni}` : "no SNI"];
    if (event.offeredVersions && event.offeredVersions.length > 0) parts.push(`offers ${event.offeredVersions.join(", ")}`);
    const note =
      event.sni !== undefined
        ? "still readable: the name Alice's provider asks for (SNI) and the TLS versions it offers"
        : "still readable: the TLS versions Alice's provider offers; it names no server (no SNI)";
    this.emit(arrow("client"), `TLS ClientHello: ${parts.join("; ")}`, note);
  }

  private serverHello(event: TlsHandshakeEvent): void {
    const keyExchange = event.keyExchange !== undefined ? `key exchange ${event.keyExchange}` : undefined;
    const chosen = [event.chosenVersion, event.cipherSuite, keyExchange].filter((part): part is string => part !== undefined);
    const others = (event.messages ?? []).filter((name) => name !== "ServerHello");
    const text = `TLS ServerHello${chosen.length > 0 ? `: ${chosen.join(", ")}` : ""}${others.length > 0 ? ` + ${others.join(", ")}` : ""}`;
    let note = `readable: the version and cipher${keyExchange ? " and key exchange" : ""} the server picks`;
    if (others.includes("Certificate")) note += "; its certificate crosses readable too (before TLS 1.3 it is not encrypted)";
    else if (event.chosenVersion === "TLSv1.3") note += "; in TLS 1.3 the rest is encrypted, the certificate too";
    this.emit(arrow("server"), text, note);
  }

  private addToRun(from: Direction, records: number, bytes: number, changeCipherSpec = 0): void {
    const run = (this.run ??= {
      records: { client: 0, server: 0 },
      bytes: { client: 0, server: 0 },
      changeCipherSpec: { client: 0, server: 0 },
    });
    run.records[from] += records;
    run.bytes[from] += bytes;
    run.changeCipherSpec[from] += changeCipherSpec;
  }

  /** A run of encrypted records, both ways, as one line. */
  private endRun(): void {
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    const records = run.records.client + run.records.server;
    const ccs = run.changeCipherSpec.client + run.changeCipherSpec.server;
    if (records === 0) {
      for (const from of ["client", "server"] as const) {
        if (run.changeCipherSpec[from] > 0) {
          this.emit(arrow(from), "TLS ChangeCipherSpec", "a readable one-byte signal: this side encrypts from here on");
        }
      }
      return;
    }
    const mark = run.records.server === 0 ? arrow("client") : run.records.client === 0 ? arrow("server") : BOTH_WAYS;
    const bytes = run.bytes.client + run.bytes.server;
    const split = [`${run.records.client} from the client`, `${run.records.server} from the server`];
    if (ccs > 0) split.push(`plus ${plural(ccs, "ChangeCipherSpec record")}, which say nothing`);
    this.emit(
      mark,
      `${plural(records, "record")}, ${formatBytes(bytes, { spelled: true })} the eavesdropper cannot read`,
      `encrypted: only sizes and timing show (${split.join(", ")})`,
    );
  }
}

function readableMessagesNote(messages: readonly string[]): string {
  if (messages.includes("Certificate")) {
    return "readable: the certificate crosses in clear (before TLS 1.3 it is not encrypted)";
  }
  return "readable handshake messages";
}

/** The real dialogue of every connection the wire relayed, as numbered blocks of annotated lines. */
export function wireDialogue(hops: readonly WireTranscript[], wireMode?: WireMode): string[] {
  const out: string[] = [];
  for (const hop of hops) {
    if (out.length > 0) out.push("");
    const mode = wireMode !== undefined && hop.mode !== wireMode ? ` (the wire in mode ${hop.mode})` : "";
    out.push(`  Connection ${hop.id}${mode}`);
    out.push(...new ConnectionNarrator(hop.transcript).lines());
  }
  return out;
}

/** The wire section's body: the legend, then the dialogue, or why there is none. */
export function wireSection(wire: WireObservation): string[] {
  if (wire.hops.length === 0) {
    return paragraph("  ", "The wire saw no connection on the port-25 hop: nothing crossed between the providers.");
  }
  const out = [...wireLegend(wire), "", ...wireDialogue(wire.hops, wire.mode)];
  if (wire.injection) out.push("", ...injectionLines(wire.injection));
  return out;
}

function injectionLines(injection: NonNullable<WireObservation["injection"]>): string[] {
  const fate = injection.discarded
    ? "Bob's provider threw it away, as it must: commands sent before TLS do not count inside it."
    : "Bob's provider did NOT throw it away: it acted on a command the attacker slipped in.";
  return [
    ...paragraph("  ", `The attacker pipelined "${printable(injection.command)}" right after STARTTLS. ${fate}`),
    ...(injection.evidence ? paragraph("    ", `evidence: ${printable(injection.evidence)}`) : []),
  ];
}

// ------------------------------------------------------------------ what an eavesdropper saw

/** The ClientHellos of every connection (the SNI names Alice's provider asked for). */
export function clientHellos(wire: WireObservation): TlsHandshakeEvent[] {
  return wire.hops.flatMap((hop) =>
    hop.transcript.events.filter((e): e is TlsHandshakeEvent => e.kind === "tls-handshake" && e.message === "ClientHello"),
  );
}

interface Exposure {
  /** Client commands (verbs) that crossed in clear, in order of first appearance. */
  clearCommands: string[];
  /** MAIL FROM and RCPT TO lines that crossed in clear. */
  envelope: string[];
  /** Lines of message content that crossed in clear. */
  clearContentLines: number;
  sni: string[];
  offeredVersions: string[];
  /** The chosen versions and ciphers, from the ServerHellos. */
  chosen: string[];
  readableCertificate: boolean;
  tlsStarted: boolean;
  encryptedRecords: number;
  encryptedBytes: number;
  decryptedLines: number;
  tampered: string[];
}

/** Adds up, over every connection, what crossed the hop readable. */
function exposure(wire: WireObservation): Exposure {
  const result: Exposure = {
    clearCommands: [],
    envelope: [],
    clearContentLines: 0,
    sni: [],
    offeredVersions: [],
    chosen: [],
    readableCertificate: false,
    tlsStarted: false,
    encryptedRecords: 0,
    encryptedBytes: 0,
    decryptedLines: 0,
    tampered: [],
  };
  const addOnce = (list: string[], value: string): void => {
    if (!list.includes(value)) list.push(value);
  };
  for (const hop of wire.hops) {
    let lastVerb = "";
    let inContent = false;
    const changedCipherSpec: Record<Direction, boolean> = { client: false, server: false };
    for (const event of hop.transcript.events) {
      switch (event.kind) {
        case "smtp": {
          if (event.decrypted === true) {
            result.decryptedLines++;
            break;
          }
          if (event.from === "server") {
            if (lastVerb === "DATA" && event.line.startsWith("354")) inContent = true;
            break;
          }
          if (inContent) {
            if (event.line === ".") inContent = false;
            else result.clearContentLines++;
            break;
          }
          const verb = (/^\S*/.exec(event.line)?.[0] ?? "").toUpperCase();
          if (verb) addOnce(result.clearCommands, verb);
          if (verb === "MAIL" || verb === "RCPT") addOnce(result.envelope, event.line);
          lastVerb = verb;
          break;
        }
        case "starttls":
          result.tlsStarted = true;
          inContent = false;
          break;
        case "tls-handshake":
          if (event.message === "ClientHello") {
            if (event.sni !== undefined) addOnce(result.sni, event.sni);
            for (const version of event.offeredVersions ?? []) addOnce(result.offeredVersions, version);
          }
          if (event.message === "ServerHello") {
            const chosen = [event.chosenVersion, event.cipherSuite].filter((part): part is string => part !== undefined);
            if (chosen.length > 0) addOnce(result.chosen, chosen.join(" with "));
          }
          if (event.messages?.includes("Certificate")) result.readableCertificate = true;
          if (event.messages?.includes("ChangeCipherSpec")) changedCipherSpec[event.from] = true;
          if (event.message === "other" && event.messages === undefined && changedCipherSpec[event.from]) {
            result.encryptedRecords++;
            result.encryptedBytes += event.recordBytes;
          }
          break;
        case "tls-data":
          result.encryptedRecords += event.records;
          result.encryptedBytes += event.bytes;
          break;
        case "tampered":
          result.tampered.push(event.what);
          break;
        default:
          break;
      }
    }
  }
  return result;
}

/** "What an eavesdropper could read": the list, then one clear conclusion. */
export function eavesdropperSection(wire: WireObservation): string[] {
  if (wire.hops.length === 0) return paragraph("  ", "Nothing: no connection crossed the port-25 hop.");
  const seen = exposure(wire);
  const out: string[] = [];
  const item = (text: string): void => {
    out.push(...paragraph("  - ", text, ""));
  };
  const over = wire.hops.length === 1 ? "On this connection" : `Over these ${wire.hops.length} connections`;
  out.push(...paragraph("  ", `${over}, someone listening on the port-25 hop could read:`));
  if (seen.clearCommands.length > 0) {
    item(`the server's greeting and replies, and the commands sent in clear text: ${seen.clearCommands.join(", ")}`);
  }
  if (seen.envelope.length > 0) item(`the envelope: ${seen.envelope.map(printable).join(", ")}`);
  if (wire.plaintextBody) item("the whole message, headers and body: its body crossed in clear text");
  else if (seen.clearContentLines > 0) item(`${plural(seen.clearContentLines, "line")} of message content in clear text`);
  if (seen.tlsStarted) {
    const sni = seen.sni.length > 0 ? `the server name asked for (SNI ${seen.sni.join(", ")})` : "no server name (no SNI was sent)";
    const versions = seen.offeredVersions.length > 0 ? `, the TLS versions offered (${seen.offeredVersions.join(", ")})` : "";
    const chosen = seen.chosen.length > 0 ? `, the version and cipher chosen (${seen.chosen.join("; ")})` : "";
    item(`from the TLS handshake: ${sni}${versions}${chosen}`);
  }
  if (seen.readableCertificate) item("the certificate Bob's provider presented: it crossed unencrypted (TLS 1.2 or older)");
  if (seen.encryptedRecords > 0) {
    item(`and no more: ${plural(seen.encryptedRecords, "encrypted record")}, ${formatBytes(seen.encryptedBytes, { spelled: true })}, of which only the sizes and timing show`);
  }
  if (seen.tampered.length > 0) {
    item(`besides, the attacker on the wire changed the dialogue: it ${seen.tampered.join("; it ")}`);
  }
  out.push("", ...paragraph("  ", `In short: ${conclusion(wire, seen)}`));
  return out;
}

function conclusion(wire: WireObservation, seen: Exposure): string {
  if (wire.attackerReadBody) {
    const passive = wire.plaintextBody
      ? ""
      : " A passive eavesdropper, who cannot terminate TLS, would have seen only encrypted records.";
    return (
      "the attacker read everything: it terminated TLS itself, so the envelope and the whole message, " +
      `body included, were plain text to it.${passive}`
    );
  }
  if (wire.plaintextBody) return "the whole message was readable by anyone on the wire: the envelope, the headers and the body.";
  if (seen.decryptedLines > 0) {
    return "the attacker terminated TLS and read the dialogue inside it, but not the body; a passive eavesdropper could not read the body.";
  }
  if (seen.envelope.length > 0) {
    return "the envelope (who writes to whom) was readable, but the eavesdropper could not read the body: it did not cross in clear text.";
  }
  if (seen.tlsStarted) {
    const commands = seen.clearCommands.length > 0 ? `the ${listed(seen.clearCommands)} exchange` : "the greeting";
    return `the eavesdropper saw only ${commands} and the start of the TLS handshake, nothing past it: it could not read the body, nor the envelope.`;
  }
  return "only the greeting and the first commands crossed: the message itself never did, so the eavesdropper could not read the body.";
}

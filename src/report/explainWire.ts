/**
 * The port-25 hop told for a learner, for `starttls-lab explain`: the real
 * dialogue the wire recorded, connection by connection, in swaks-like lines
 * with short margin notes, and what an eavesdropper could read in the end.
 *
 * Everything printed comes from the wire's transcripts; the notes only say
 * what a line means.
 */
import type { WireObservation } from "../observe/types.js";
import { commandVerb, END_OF_DATA, parseReplyLine } from "../wire/dialogue.js";
import { isStarttlsOfferLine } from "../wire/smtpRewrite.js";
import type { Direction, TlsHandshakeEvent, Transcript, WireMode, WireTranscript } from "../wire/transcript.js";
import { formatBytes, truncate } from "./describe.js";
import { hopSteps, type HopStep, type StepOf } from "./hopSteps.js";

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

/** Where an SMTP line crossed: in clear before STARTTLS, read by the attacker inside TLS, or in clear after a failed switch. */
type Place = "clear" | "decrypted" | "raw";

const placeOf = (step: StepOf<"smtp">): Place => (step.phase === "tls" ? "raw" : step.phase === "decrypted" ? "decrypted" : "clear");

/** A line of an EHLO reply offering STARTTLS. */
const isOfferLine = (line: string): boolean => line.startsWith("250") && isStarttlsOfferLine(line);

/** Tells one connection's steps as dialogue lines with notes. */
class ConnectionNarrator {
  private readonly out: string[] = [];
  /** A clear EHLO reply offered STARTTLS. */
  private sawOffer = false;
  /** The attacker changed the server's side since the last reply. */
  private tamperedReply = false;
  private notedDecrypted = false;
  private notedRaw = false;

  constructor(private readonly transcript: Transcript) {}

  lines(): string[] {
    for (const step of hopSteps(this.transcript)) this.step(step);
    return this.out;
  }

  private emit(mark: string, text: string, note?: string): void {
    this.out.push(...annotated(DIALOGUE_INDENT + mark + printable(text), note));
  }

  private step(step: HopStep): void {
    switch (step.kind) {
      case "smtp":
        return step.from === "client" ? this.command(step) : this.reply(step);
      case "content":
        return this.content(step);
      case "starttls":
        this.out.push(DIALOGUE_INDENT + DIVIDER);
        return;
      case "hello":
        return step.message === "ClientHello" ? this.clientHello(step) : this.serverHello(step);
      case "handshake":
        return this.handshake(step);
      case "encrypted":
        return this.encrypted(step);
      case "alert": {
        const what = [step.level, step.description].filter((part) => part !== undefined).join(" ");
        const note =
          step.level === "fatal"
            ? "readable, sent before encryption: this side gives up the handshake"
            : "readable, sent before encryption";
        return this.emit(arrow(step.from), `TLS alert${what ? `: ${what}` : ""}`, note);
      }
      case "closed":
        for (const side of step.sides) this.emit(arrow(side), "(closes its side of the connection)");
        return;
      case "tampered": {
        if (step.from === "server") this.tamperedReply = true;
        const note =
          step.from === "server"
            ? "the attacker's doing: what Alice's provider received is not what Bob's provider sent"
            : "the attacker's doing: what Bob's provider received is not what Alice's provider sent";
        return this.emit(ATTACKER, `the attacker ${step.what}`, note);
      }
    }
  }

  // ---------------------------------------------------------------- SMTP

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

  private command(step: StepOf<"smtp">): void {
    const place = placeOf(step);
    for (const line of step.lines) {
      this.emit(arrow("client", place === "decrypted"), line, this.placeNote(place) ?? this.commandNote(line, place));
    }
  }

  private commandNote(line: string, place: Place): string | undefined {
    const clear = place !== "decrypted";
    switch (commandVerb(line)) {
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

  /** Every line of a reply; the notes say what the reply means, on its last line. */
  private reply(step: StepOf<"smtp">): void {
    const place = placeOf(step);
    const ehlo = step.role === "reply" && step.command === "EHLO";
    const offered = ehlo && step.lines.some(isOfferLine);
    if (offered && place === "clear") this.sawOffer = true;
    const tampered = this.tamperedReply;
    this.tamperedReply = false;
    step.lines.forEach((line, index) => {
      const final = index === step.lines.length - 1;
      const offerNote = ehlo && place === "clear" && isOfferLine(line) ? "the server offers STARTTLS" : undefined;
      const lineNote = final ? this.replyNote(step, line, place, offered, tampered) : offerNote;
      this.emit(arrow("server", place === "decrypted"), line, this.placeNote(place) ?? lineNote);
    });
  }

  private replyNote(step: StepOf<"smtp">, line: string, place: Place, offered: boolean, tampered: boolean): string | undefined {
    const code = parseReplyLine(line)?.code;
    if (code === undefined) return undefined;
    if (step.role === "greeting") {
      return code === "220" && place === "clear" ? "Bob's provider greets, in clear text" : codeNote(code, line);
    }
    const command = step.command;
    if (command === "EHLO" && code === "250" && place === "clear") {
      if (isOfferLine(line)) return "the server offers STARTTLS";
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
    if (command === "DATA" && code === "354") return "the server waits for the message";
    if (command === END_OF_DATA && code.startsWith("2")) return "Bob's provider accepted the message into its queue";
    return codeNote(code, line);
  }

  /** The message's lines, collapsed into one, then the "." that ends it. */
  private content(step: StepOf<"content">): void {
    const decrypted = step.zone === "decrypted";
    const blank = step.headerLines < step.lines;
    const body = blank ? step.lines - step.headerLines - 1 : 0;
    const text = `(the message itself: ${plural(step.headerLines, "header line")}, ${plural(body, "body line")})`;
    let note: string;
    if (decrypted) {
      note = step.bodyReadable
        ? "read by the attacker, who terminated TLS itself: the whole message, body included"
        : "read by the attacker, who terminated TLS itself";
    } else {
      note = step.bodyReadable
        ? "in clear text: the eavesdropper could read the whole message, headers and body"
        : "in clear text, readable by anyone on the wire";
    }
    this.emit(arrow("client", decrypted), text, note);
    if (step.ended && step.via === "DATA") this.emit(arrow("client", decrypted), END_OF_DATA, "the end of the message");
  }

  // ---------------------------------------------------------------- TLS

  private handshake(step: StepOf<"handshake">): void {
    if (step.messages.length === 0) {
      return this.emit(
        arrow(step.from),
        `TLS handshake record, ${formatBytes(step.recordBytes, { spelled: true })}`,
        "readable: part of a handshake message, continued in the next record",
      );
    }
    if (step.messages.every((m) => m === "ChangeCipherSpec")) {
      return this.emit(arrow(step.from), "TLS ChangeCipherSpec", "a readable one-byte signal: this side encrypts from here on");
    }
    this.emit(arrow(step.from), `TLS ${step.messages.join(", ")}`, readableMessagesNote(step.messages));
  }

  private clientHello(step: StepOf<"hello">): void {
    const parts = [step.sni !== undefined ? `SNI ${step.sni}` : "no SNI"];
    if (step.offeredVersions && step.offeredVersions.length > 0) parts.push(`offers ${step.offeredVersions.join(", ")}`);
    const note =
      step.sni !== undefined
        ? "still readable: the name Alice's provider asks for (SNI) and the TLS versions it offers"
        : "still readable: the TLS versions Alice's provider offers; it names no server (no SNI)";
    this.emit(arrow("client"), `TLS ClientHello: ${parts.join("; ")}`, note);
  }

  private serverHello(step: StepOf<"hello">): void {
    const keyExchange = step.keyExchange !== undefined ? `key exchange ${step.keyExchange}` : undefined;
    const chosen = [step.chosenVersion, step.cipherSuite, keyExchange].filter((part): part is string => part !== undefined);
    const others = step.also;
    const text = `TLS ServerHello${chosen.length > 0 ? `: ${chosen.join(", ")}` : ""}${others.length > 0 ? ` + ${others.join(", ")}` : ""}`;
    let note = `readable: the version and cipher${keyExchange ? " and key exchange" : ""} the server picks`;
    if (others.includes("Certificate")) note += "; its certificate crosses readable too (before TLS 1.3 it is not encrypted)";
    else if (step.chosenVersion === "TLSv1.3") note += "; in TLS 1.3 the rest is encrypted, the certificate too";
    this.emit(arrow("server"), text, note);
  }

  /** A run of encrypted records, both ways, as one line. */
  private encrypted(step: StepOf<"encrypted">): void {
    const { client, server, changeCipherSpecs } = step;
    const records = client.records + server.records;
    const mark = server.records === 0 ? arrow("client") : client.records === 0 ? arrow("server") : BOTH_WAYS;
    const split = [`${client.records} from the client`, `${server.records} from the server`];
    if (changeCipherSpecs > 0) split.push(`plus ${plural(changeCipherSpecs, "ChangeCipherSpec record")}, which say nothing`);
    this.emit(
      mark,
      `${plural(records, "record")}, ${formatBytes(client.bytes + server.bytes, { spelled: true })} the eavesdropper cannot read`,
      `encrypted: only sizes and timing show (${split.join(", ")})`,
    );
  }
}

function codeNote(code: string, line: string): string | undefined {
  if (code.startsWith("5")) {
    return /STARTTLS/i.test(line)
      ? "a permanent refusal (5xx): the server requires STARTTLS first"
      : "a permanent refusal (5xx)";
  }
  if (code.startsWith("4")) return "a temporary refusal (4xx): the sender may try again later";
  return undefined;
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
  for (const step of wire.hops.flatMap((hop) => hopSteps(hop.transcript))) {
    switch (step.kind) {
      case "smtp": {
        if (step.zone === "decrypted") {
          result.decryptedLines += step.lines.length;
          break;
        }
        if (step.from === "server") break;
        const verb = step.command ?? commandVerb(step.lines[0] ?? "");
        if (verb) addOnce(result.clearCommands, verb);
        if (verb === "MAIL" || verb === "RCPT") for (const line of step.lines) addOnce(result.envelope, line);
        break;
      }
      case "content":
        if (step.zone === "decrypted") result.decryptedLines += step.lines;
        else result.clearContentLines += step.lines;
        break;
      case "starttls":
        result.tlsStarted = true;
        break;
      case "hello":
        if (step.message === "ClientHello") {
          if (step.sni !== undefined) addOnce(result.sni, step.sni);
          for (const version of step.offeredVersions ?? []) addOnce(result.offeredVersions, version);
        } else {
          const chosen = [step.chosenVersion, step.cipherSuite].filter((part): part is string => part !== undefined);
          if (chosen.length > 0) addOnce(result.chosen, chosen.join(" with "));
        }
        if (step.also.includes("Certificate")) result.readableCertificate = true;
        break;
      case "handshake":
        if (step.messages.includes("Certificate")) result.readableCertificate = true;
        break;
      case "encrypted":
        result.encryptedRecords += step.client.records + step.server.records;
        result.encryptedBytes += step.client.bytes + step.server.bytes;
        break;
      case "tampered":
        result.tampered.push(step.what);
        break;
      default:
        break;
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

/**
 * HopRecorder: fed with the raw chunks crossing the port-25 hop, in the order
 * they pass, it records what an eavesdropper sees.
 *
 * Both directions start in clear SMTP, read through the dialogue model
 * (dialogue.ts): lines and BDAT chunks are framed across chunks, and every
 * SMTP event is marked with its role, the command it is or answers, and the
 * phase it crossed in. A 220 answering STARTTLS switches both directions to
 * TLS record parsing; any other answer (e.g. 454) keeps them in clear text. Bytes that do not parse as TLS records after the
 * switch are read as clear text again ("raw": recorded as lines, no longer
 * interpreted as SMTP), because that is what they are to an eavesdropper.
 *
 * plaintextBody: the marker occurs in bytes that were not inside TLS records.
 * Nothing here throws on malformed input.
 *
 * mitm: the wire also reads the dialogue inside TLS, because it terminated
 * that TLS itself. decryptedBytes() feeds those bytes to a second recorder
 * (started after the greeting: inside TLS the client speaks first, with EHLO);
 * its SMTP lines join this recorder's events, marked `decrypted`, at the
 * moment they were read, so the transcript shows each TLS record next to
 * what it carried. attackerReadBody: the marker occurs in that dialogue.
 *
 * Runs inside the wire container on nodejs 18: no npm dependencies.
 */
import type { Direction, SmtpEvent, TlsHandshakeEvent, Transcript, WireEvent } from "./transcript.js";
import { LineFramer, lineText, SmtpDialogue, type DialoguePhase, type Frame, type LineMeaning } from "./dialogue.js";
import { isStarttlsCommand, isStarttlsOfferLine } from "./smtpRewrite.js";
import {
  CONTENT_ALERT,
  CONTENT_CHANGE_CIPHER_SPEC,
  CONTENT_HANDSHAKE,
  HANDSHAKE_SERVER_KEY_EXCHANGE,
  RECORD_HEADER_BYTES,
  handshakeTypeName,
  parseAlert,
  parseClientHello,
  parseEcdheServerKeyExchange,
  parseServerHello,
  readRecordHeader,
} from "./tlsParse.js";

/** A handshake message longer than this is not reassembled (nothing readable is that long). */
const MAX_HANDSHAKE_BYTES = 256 * 1024;

interface Side {
  /** Bytes not yet consumed: a partial line, or a partial TLS record. */
  framer: LineFramer;
  /** After the switch to TLS these bytes were no TLS records: read as clear text, no longer as SMTP. */
  raw: boolean;
  /** Clear-text bytes consumed so far, in segments (a new one after each return to clear). */
  clear: Buffer[][];
  /**
   * TLS 1.2 and older: this side sent ChangeCipherSpec; its later handshake
   * and alert records are encrypted. TLS 1.3 encrypts under record type 23
   * only, and its ChangeCipherSpec is a dummy (RFC 8446 D.4): a second
   * ClientHello and the ServerHello after a HelloRetryRequest follow one.
   */
  encrypted: boolean;
  /** TLS: plaintext handshake bytes not yet forming a whole message. */
  handshake: Buffer;
  /** TLS: handshake reassembly gave up (malformed or too long). */
  handshakeBroken: boolean;
  /** Server, TLS 1.2: the ServerHello chose an ECDHE suite, so its ServerKeyExchange names the curve. */
  ecdheSuite: boolean;
  closed: boolean;
}

export interface HopRecorderOptions {
  /** Clock for the events' `at`; Date.now by default. */
  now?: () => number;
  /**
   * The dialogue starts after the server's greeting, so the first server
   * reply answers the client's first command. false by default: the first
   * reply is the greeting.
   */
  greeted?: boolean;
}

function newSide(): Side {
  return {
    framer: new LineFramer(),
    raw: false,
    clear: [[]],
    encrypted: false,
    handshake: Buffer.alloc(0),
    handshakeBroken: false,
    ecdheSuite: false,
    closed: false,
  };
}

export class HopRecorder {
  private readonly events: WireEvent[] = [];
  private readonly sides: Record<Direction, Side> = { client: newSide(), server: newSide() };
  private readonly now: () => number;
  private readonly dialogue: SmtpDialogue;
  private sawStarttlsOffer = false;
  private sawStarttlsCommand = false;
  /** The server's hello chose TLS 1.3. */
  private tls13 = false;
  private at = 0;
  /** mitm: the dialogue the wire read inside TLS; created by the first decrypted bytes. */
  private decrypted: HopRecorder | undefined;
  /** How many of the decrypted recorder's events were already looked at. */
  private decryptedSeen = 0;

  constructor(options: HopRecorderOptions = {}, phase: DialoguePhase = "clear") {
    this.now = options.now ?? Date.now;
    this.dialogue = new SmtpDialogue(options.greeted === undefined ? { phase } : { phase, greeted: options.greeted });
  }

  /** Bytes the SMTP client sent towards the server. */
  clientBytes(chunk: Buffer): void {
    this.feed("client", chunk);
  }

  /** Bytes the SMTP server sent towards the client. */
  serverBytes(chunk: Buffer): void {
    this.feed("server", chunk);
  }

  /**
   * mitm: bytes this side sent inside TLS, as the wire read them after
   * decrypting. They do not count as clear text on the wire.
   */
  decryptedBytes(from: Direction, chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.decrypted ??= new HopRecorder({ now: this.now }, "decrypted");
    const inner = this.decrypted;
    if (from === "client") inner.clientBytes(chunk);
    else inner.serverBytes(chunk);
    this.takeDecryptedLines();
  }

  /** Copies the decrypted recorder's new SMTP lines into this record, marked as decrypted. */
  private takeDecryptedLines(): void {
    const inner = this.decrypted;
    if (!inner) return;
    // Only SMTP events are taken: they are never changed once recorded.
    for (const event of inner.events.slice(this.decryptedSeen)) {
      if (event.kind === "smtp") this.events.push({ ...event, decrypted: true });
    }
    this.decryptedSeen = inner.events.length;
  }

  /** This side ended its half of the connection (or the connection broke). */
  close(from: Direction): void {
    const side = this.sides[from];
    if (side.closed) return;
    this.at = this.now();
    try {
      if (!this.readsTls(side) && side.framer.pending.length > 0) {
        this.clearFrame(from, { kind: "line", bytes: side.framer.takeAll() });
      }
    } catch {
      this.keepAsClear(from, side.framer.takeAll());
    }
    side.closed = true;
    this.events.push({ kind: "closed", from, at: this.at });
  }

  /**
   * The wire changed the dialogue here (attacker modes). `from` is the side
   * whose bytes were rewritten, withheld or answered in the other's place.
   */
  tampered(from: Direction, what: string): void {
    this.at = this.now();
    this.events.push({ kind: "tampered", from, what, at: this.at });
  }

  /** The record so far; `marker` is the string the message body carries. */
  transcript(marker: string): Transcript {
    const transcript: Transcript = {
      events: this.events.map((event) => ({ ...event })),
      plaintextBody: marker.length > 0 && this.clearTextContains(marker),
      sawStarttlsOffer: this.sawStarttlsOffer,
      sawStarttlsCommand: this.sawStarttlsCommand,
    };
    if (this.decrypted) {
      // Inside TLS everything the decrypted recorder read is clear text to it.
      transcript.attackerReadBody = marker.length > 0 && this.decrypted.clearTextContains(marker);
    }
    return transcript;
  }

  /** This side's bytes are TLS records (not after they turned out to be something else). */
  private readsTls(side: Side): boolean {
    return this.dialogue.phase === "tls" && !side.raw;
  }

  private clearTextContains(marker: string): boolean {
    const needle = Buffer.from(marker, "utf8");
    for (const from of ["client", "server"] as const) {
      const side = this.sides[from];
      const segments = side.clear.map((parts) => Buffer.concat(parts));
      // Bytes still pending in a clear mode are clear text too.
      if (!this.readsTls(side) && side.framer.pending.length > 0) {
        const last = segments.length - 1;
        segments[last] = Buffer.concat([segments[last] ?? Buffer.alloc(0), side.framer.pending]);
      }
      if (segments.some((segment) => segment.includes(needle))) return true;
    }
    return false;
  }

  private feed(from: Direction, chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.at = this.now();
    const side = this.sides[from];
    side.framer.push(Buffer.from(chunk));
    try {
      this.drain(from);
    } catch {
      // A bug here must not take the hop down; whatever was not understood
      // counts as readable, the conservative claim.
      this.keepAsClear(from, side.framer.takeAll());
      side.raw = true;
    }
  }

  private keepAsClear(from: Direction, bytes: Buffer): void {
    const segments = this.sides[from].clear;
    segments[segments.length - 1]?.push(Buffer.from(bytes));
  }

  /** Consumes as much of the side's pending bytes as its mode allows; modes may change midway. */
  private drain(from: Direction): void {
    const side = this.sides[from];
    for (;;) {
      if (this.readsTls(side)) {
        if (!this.takeRecord(from)) return;
        continue;
      }
      const frame = side.framer.next(from === "client" ? this.dialogue.chunkBytesLeft : 0);
      if (!frame) return;
      this.clearFrame(from, frame);
    }
  }

  /** One clear-text frame: recorded, and read as SMTP while the dialogue is in clear. */
  private clearFrame(from: Direction, frame: Frame): void {
    this.keepAsClear(from, frame.bytes);
    const raw = this.sides[from].raw;
    const phase = raw ? "tls" : this.dialogue.phase;
    const line = lineText(frame.bytes, "utf8");
    if (from === "client") {
      const meaning: LineMeaning = raw ? { role: "raw" } : this.dialogue.clientFrame(frame);
      if (meaning.role === "command" && isStarttlsCommand(line)) this.sawStarttlsCommand = true;
      this.smtpEvent(from, line, phase, meaning);
      return;
    }
    const meaning = raw ? { role: "raw" as const, final: true } : this.dialogue.serverFrame(frame);
    if (meaning.role === "reply" && meaning.code === "250" && isStarttlsOfferLine(line)) this.sawStarttlsOffer = true;
    this.smtpEvent(from, line, phase, meaning);
    if (meaning.opened === "tls") this.startTls();
  }

  private smtpEvent(from: Direction, line: string, phase: DialoguePhase, meaning: LineMeaning): void {
    const event: SmtpEvent = { kind: "smtp", from, line, role: meaning.role, phase, at: this.at };
    if (meaning.command !== undefined) event.command = meaning.command;
    this.events.push(event);
  }

  private startTls(): void {
    this.events.push({ kind: "starttls", at: this.at });
    // Whatever the client sent before the switch crossed in clear.
    const early = this.sides.client.framer.takeAll();
    if (early.length > 0) {
      this.keepAsClear("client", early);
      this.smtpEvent("client", early.toString("utf8"), "clear", { role: "raw" });
    }
  }

  /** Takes one whole TLS record off the side's pending bytes; false when it must wait for more. */
  private takeRecord(from: Direction): boolean {
    const side = this.sides[from];
    const pending = side.framer.pending;
    const header = readRecordHeader(pending);
    if (header === "short") return false;
    if (header === "invalid") {
      // Not TLS: from here on this side's bytes are read as clear text.
      side.raw = true;
      side.clear.push([]);
      return true;
    }
    const total = RECORD_HEADER_BYTES + header.length;
    if (pending.length < total) return false;
    const fragment = pending.subarray(RECORD_HEADER_BYTES, total);
    side.framer.pending = pending.subarray(total);

    if (header.contentType === CONTENT_HANDSHAKE && !side.encrypted) {
      this.events.push(this.handshakeRecord(from, fragment, total));
      return true;
    }
    if (header.contentType === CONTENT_CHANGE_CIPHER_SPEC) {
      if (!this.tls13) side.encrypted = true;
      this.events.push({
        kind: "tls-handshake",
        from,
        message: "other",
        messages: ["ChangeCipherSpec"],
        recordBytes: total,
        at: this.at,
      });
      return true;
    }
    if (header.contentType === CONTENT_HANDSHAKE) {
      // Encrypted handshake (TLS 1.2 Finished and later): its type shows, not its content.
      this.events.push({ kind: "tls-handshake", from, message: "other", recordBytes: total, at: this.at });
      return true;
    }
    if (header.contentType === CONTENT_ALERT && !side.encrypted) {
      const alert = parseAlert(fragment);
      if (alert) {
        this.events.push({ kind: "tls-alert", from, ...alert, at: this.at });
        return true;
      }
    }
    // Application data, encrypted alerts, heartbeats: sizes only.
    const last = this.events[this.events.length - 1];
    if (last && last.kind === "tls-data" && last.from === from) {
      last.records += 1;
      last.bytes += total;
      last.at = this.at;
    } else {
      this.events.push({ kind: "tls-data", from, records: 1, bytes: total, at: this.at });
    }
    return true;
  }

  /** A plaintext handshake record: reassembles messages and reads the hellos. */
  private handshakeRecord(from: Direction, fragment: Buffer, recordBytes: number): TlsHandshakeEvent {
    const side = this.sides[from];
    const event: TlsHandshakeEvent = { kind: "tls-handshake", from, message: "other", recordBytes, at: this.at };
    if (side.handshakeBroken) return event;
    side.handshake = side.handshake.length === 0 ? fragment : Buffer.concat([side.handshake, fragment]);
    const messages: string[] = [];
    while (side.handshake.length >= 4) {
      const type = side.handshake[0] ?? 0;
      const length = side.handshake.readUIntBE(1, 3);
      if (length > MAX_HANDSHAKE_BYTES) {
        side.handshakeBroken = true;
        side.handshake = Buffer.alloc(0);
        break;
      }
      if (side.handshake.length < 4 + length) break;
      const body = side.handshake.subarray(4, 4 + length);
      side.handshake = side.handshake.subarray(4 + length);
      if (type === 1) {
        const info = parseClientHello(body);
        messages.push("ClientHello");
        event.message = "ClientHello";
        if (info.sni !== undefined) event.sni = info.sni;
        if (info.offeredVersions) event.offeredVersions = info.offeredVersions;
        if (info.legacyVersion) event.legacyVersion = info.legacyVersion;
      } else if (type === 2) {
        const info = parseServerHello(body);
        if (info.helloRetryRequest) {
          messages.push("HelloRetryRequest");
        } else {
          messages.push("ServerHello");
          event.message = "ServerHello";
          // A HelloRetryRequest's group is only asked for; the ServerHello after it says what was chosen.
          if (info.keyExchange) event.keyExchange = info.keyExchange;
          side.ecdheSuite = info.ecdheSuite === true;
        }
        if (info.legacyVersion) event.legacyVersion = info.legacyVersion;
        if (info.chosenVersion) event.chosenVersion = info.chosenVersion;
        if (info.chosenVersion === "TLSv1.3") this.tls13 = true;
        if (info.cipherSuite) event.cipherSuite = info.cipherSuite;
      } else {
        messages.push(handshakeTypeName(type));
        const curve = type === HANDSHAKE_SERVER_KEY_EXCHANGE && side.ecdheSuite ? parseEcdheServerKeyExchange(body) : undefined;
        if (curve) event.keyExchange = curve;
      }
    }
    // Keep the reassembly buffer independent of the (possibly large) chunk it came from.
    if (side.handshake.length > 0) side.handshake = Buffer.from(side.handshake);
    if (messages.length > 0) event.messages = messages;
    return event;
  }
}

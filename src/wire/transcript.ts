/**
 * What an eavesdropper on the port-25 hop sees, as recorded by the wire.
 *
 * Runs inside the wire container on Debian bookworm's nodejs 18: Node 18 APIs
 * only, no npm dependencies.
 */

import type { DialoguePhase, LineRole } from "./dialogue.js";

export type { DialoguePhase, LineRole } from "./dialogue.js";

/** Who sent the bytes: the SMTP client (Alice's provider) or the server (Bob's). */
export type Direction = "client" | "server";

/** Handshake messages the transcript names; everything else is "other". */
export type HandshakeMessageName = "ClientHello" | "ServerHello" | "other";

/** One SMTP line read in clear text, without its line ending. */
export interface SmtpEvent {
  kind: "smtp";
  from: Direction;
  line: string;
  /**
   * mitm only: the line was inside TLS on the wire, and the wire read it
   * because it terminated that TLS itself. A passive eavesdropper never sees
   * these lines.
   */
  decrypted?: boolean;
  /**
   * What the line is in the dialogue (see dialogue.ts). Transcripts recorded
   * before the dialogue was modelled lack it (and `command`, `phase`); the
   * report works them out with the same model.
   */
  role?: LineRole;
  /** command: its verb; reply: the verb it answers ("." for the message: after DATA, or to BDAT … LAST); content: "DATA" or "BDAT". */
  command?: string;
  /** clear, tls (a line that crossed in clear after the switch to TLS), or decrypted (mitm). */
  phase?: DialoguePhase;
  at: number;
}

/** The server's 220 to STARTTLS was seen: clear text ends after it. */
export interface StarttlsEvent {
  kind: "starttls";
  at: number;
}

/**
 * One TLS record of content type handshake (22) or change_cipher_spec (20).
 * `message` names the ClientHello or ServerHello this record completes;
 * handshake records sent after the sender's ChangeCipherSpec are encrypted
 * and stay "other".
 */
export interface TlsHandshakeEvent {
  kind: "tls-handshake";
  from: Direction;
  message: HandshakeMessageName;
  /** Every handshake message readable in this record, e.g. ["ServerHello", "Certificate"]. */
  messages?: string[];
  /** ClientHello: the server_name extension. */
  sni?: string;
  /** ClientHello: supported_versions without GREASE, else the legacy version. */
  offeredVersions?: string[];
  /** ClientHello and ServerHello: the legacy_version field. */
  legacyVersion?: string;
  /** ServerHello: supported_versions when present, else the legacy version. */
  chosenVersion?: string;
  /** ServerHello: the chosen cipher suite, e.g. "TLS_AES_256_GCM_SHA384". */
  cipherSuite?: string;
  /**
   * The key exchange group the server chose, as IANA names it ("x25519",
   * "X25519MLKEM768", "secp256r1"…): TLS 1.3 from the ServerHello's
   * key_share, TLS 1.2 from an ECDHE ServerKeyExchange.
   */
  keyExchange?: string;
  /** The size of the record on the wire, header included. */
  recordBytes: number;
  at: number;
}

/**
 * Encrypted records (application data, which in TLS 1.3 includes the
 * encrypted handshake, and encrypted alerts), consecutive ones aggregated.
 * `bytes` counts the records on the wire, headers included.
 */
export interface TlsDataEvent {
  kind: "tls-data";
  from: Direction;
  records: number;
  bytes: number;
  at: number;
}

/** A TLS alert readable on the wire (sent before encryption started). */
export interface TlsAlertEvent {
  kind: "tls-alert";
  from: Direction;
  level?: "warning" | "fatal";
  /** e.g. "handshake_failure", or "alert-<n>" for unknown codes. */
  description?: string;
  at: number;
}

/** This side ended its half of the connection. */
export interface ClosedEvent {
  kind: "closed";
  from: Direction;
  at: number;
}

/**
 * The wire itself changed the dialogue (an attacker mode): what one end saw is
 * not what the other end sent. `from` is the side whose bytes were changed,
 * withheld or answered by the wire in the other side's place.
 */
export interface TamperedEvent {
  kind: "tampered";
  from: Direction;
  /** e.g. "removed STARTTLS from the EHLO reply". */
  what: string;
  at: number;
}

export type WireEvent =
  | SmtpEvent
  | StarttlsEvent
  | TlsHandshakeEvent
  | TlsDataEvent
  | TlsAlertEvent
  | ClosedEvent
  | TamperedEvent;

export interface Transcript {
  events: WireEvent[];
  /** The message's marker crossed the wire readable (outside TLS records). */
  plaintextBody: boolean;
  /** The server's EHLO reply offered STARTTLS. */
  sawStarttlsOffer: boolean;
  /** The client sent the STARTTLS command. */
  sawStarttlsCommand: boolean;
  /** mitm: the marker was in the dialogue the wire decrypted (what the attacker could read). */
  attackerReadBody?: boolean;
  /** inject: the command the wire pipelined after STARTTLS, in the same packet, towards the server. */
  injected?: string;
  /**
   * The wire could not reach the server (its port 25 closed: "connect
   * ECONNREFUSED 172.18.0.4:25"), so it reset the client's connection
   * instead of relaying: the client met a dead port, as without the wire.
   */
  upstreamUnreachable?: string;
}

/** What the wire does with the port-25 hop; see proxy.ts for each mode. */
export type WireMode = "pass" | "strip-starttls" | "fail-handshake" | "mitm" | "inject";

export const WIRE_MODES: readonly WireMode[] = ["pass", "strip-starttls", "fail-handshake", "mitm", "inject"];

/** One connection the wire relayed, recorded from accept to close. */
export interface WireTranscript {
  /** 1, 2, 3, … in the order connections were accepted. */
  id: number;
  mode: WireMode;
  transcript: Transcript;
}

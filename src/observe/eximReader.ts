/**
 * Exim's log in the common vocabulary (logReader.ts), read with eximLog.ts's
 * parser. Only what Exim logged becomes a field:
 *
 *   `=>`/`->` a delivery, status "sent", preceded by its TLS session when X= is logged
 *   `==`      a delivery, status "deferred"
 *   `**`      a delivery, status "bounced"
 *   `<=`      the Message-ID (id=), and for a bounce Exim made (`<= <>` R=parent) the non-delivery notice
 *   Completed the message left the queue
 *
 * Exim logs no process id on these lines (log_selector +pid is off) and
 * delivers one message's recipients in one process, so the events of one
 * line get a pid of their own, hashed from the line: relayTrail then pairs a
 * status line only with the TLS session logged on that very line.
 */
import type { Trust } from "../scenario/types.js";
import { openSslVersion } from "./cipherSuite.js";
import { parseEximLogLine, type EximAddressEvent, type EximDelivery, type EximTls } from "./eximLog.js";
import type { MtaLogReader } from "./logReader.js";
import { queuedAs, type DeliveryEvent, type DeliveryStatus, type LogLineBase, type PostfixEvent, type TlsEstablishedEvent } from "./postfixLog.js";

const PROGRAM = "exim";
/** The transport exim.conf delivers the provider's own mailboxes with (Dovecot's LMTP socket). */
const LOCAL_TRANSPORT = "dovecot_lmtp";

/** A 31-bit FNV-1a hash: a pid no other line shares (two identical lines are the same fact twice). */
function pidOf(line: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < line.length; index++) {
    hash ^= line.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 1;
}

function baseOf(line: string, time: string, service: string): LogLineBase {
  // Exim's main log names no host; the container is the one whose log is read.
  return { line, time, host: "", program: PROGRAM, service, pid: pidOf(line) };
}

/**
 * The client that did the work, in Postfix's service names: "lmtp" for the
 * local Dovecot transport (where following a message ends), "smtp" for any
 * other transport, "error" when no transport ran (a router refused or
 * deferred the address, as Postfix's error service would).
 */
function serviceOf(event: EximAddressEvent): string {
  if (event.transport === undefined) return "error";
  return event.transport === LOCAL_TRANSPORT ? "lmtp" : "smtp";
}

/** Postfix's relay shape, `host[address]:port`; the transport for a local delivery (no host); "none" when nothing was reached. */
function relayOf(event: EximAddressEvent): string {
  if (event.host) return `${event.host.name}[${event.host.address}]${event.host.port === undefined ? "" : `:${event.host.port}`}`;
  return event.transport ?? "none";
}

/** The envelope recipient: for a local delivery Exim logs the local part first and the address in angle brackets. */
function recipientOf(event: EximAddressEvent): { to: string; origTo?: string } {
  if (!event.address.includes("@") && event.originalAddress !== undefined) return { to: event.originalAddress };
  return { to: event.address, ...(event.originalAddress !== undefined && { origTo: event.originalAddress }) };
}

/** An RFC 3463 enhanced status code in a reply Exim quotes ("250 2.0.0 Ok: …"); "" when the reply had none. */
function enhancedCode(text: string): string {
  return /\b[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? "";
}

/**
 * The key exchange group GnuTLS names first in a TLS 1.3 description
 * ("ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM" → "x25519",
 * "ECDHE_SECP256R1__…" → "secp256r1"), in keyExchange.ts's form. Undefined
 * when the description names no group (GnuTLS's TLS 1.2 suite names).
 */
export function gnutlsKeyExchange(cipher: string): string | undefined {
  const [first, ...rest] = cipher.split("__");
  if (rest.length === 0 || first === undefined) return undefined;
  const group = /^(?:ECDHE|DHE)_(.+)$/.exec(first)?.[1];
  return group?.toLowerCase();
}

/** CV=: yes and dane are a chain and name Exim verified; no is a session that was not. */
function trustOf(tls: EximTls): Trust {
  return tls.certificateVerified === "yes" || tls.certificateVerified === "dane" ? "verified" : "untrusted";
}

function tlsEstablished(delivery: EximDelivery, tls: EximTls, base: LogLineBase): TlsEstablishedEvent {
  const relay = relayOf(delivery);
  const keyExchange = gnutlsKeyExchange(tls.cipher);
  return {
    ...base,
    kind: "tlsEstablished",
    trust: trustOf(tls),
    peer: relay,
    peerHost: delivery.host?.name ?? relay,
    version: openSslVersion(tls.version),
    cipher: tls.cipher,
    ...(keyExchange !== undefined && { keyExchange }),
  };
}

function status(event: EximAddressEvent, status: DeliveryStatus, detail: string, base: LogLineBase): DeliveryEvent {
  return { ...base, kind: "delivery", queueId: event.messageId, ...recipientOf(event), relay: relayOf(event), dsn: enhancedCode(detail), status, detail };
}

function eximEvents(line: string): PostfixEvent[] {
  const event = parseEximLogLine(line);
  if (!event) return [];
  switch (event.kind) {
    case "delivery": {
      const base = baseOf(event.line, event.time, serviceOf(event));
      const delivered: DeliveryEvent = {
        ...status(event, "sent", event.confirmation ?? "", base),
        ...(event.remoteQueueId !== undefined && { remoteQueueId: event.remoteQueueId }),
      };
      return event.tls ? [tlsEstablished(event, event.tls, base), delivered] : [delivered];
    }
    case "deferral":
      return [status(event, "deferred", event.error, baseOf(event.line, event.time, serviceOf(event)))];
    case "bounce":
      return [status(event, "bounced", event.error, baseOf(event.line, event.time, serviceOf(event)))];
    case "arrival": {
      const base = baseOf(event.line, event.time, "receive");
      const events: PostfixEvent[] = [];
      if (event.headerMessageId !== undefined) events.push({ ...base, kind: "messageId", queueId: event.messageId, messageId: event.headerMessageId });
      if (event.sender === "" && event.bounceOf !== undefined) events.push({ ...base, kind: "nonDeliveryNotice", queueId: event.bounceOf, ndrQueueId: event.messageId });
      return events;
    }
    default:
      return [];
  }
}

/** Dovecot's LMTP line in the same log: `Dec 02 00:28:19 lmtp(alice@…)<53><yWx9LyNmD2s1AAAAQ9A2xA>: Info: msgid=<…>: saved mail to INBOX`. */
const DOVECOT_SAVED = /^(\S+ \d+ \d\d:\d\d:\d\d) lmtp\([^)]*\)<\d+><([^>]+)>: Info: msgid=<([^>]*)>: saved mail/;
/** Exim's C= for a delivery into Dovecot names Dovecot's session: `250 2.0.0 <alice@…> yWx9LyNmD2s1AAAAQ9A2xA Saved`. */
const LMTP_SESSION = /^250 \S+ <[^>]*> (\S+) Saved$/;

/**
 * A slice of the log: each line as `events` reads it, and the Message-ID of
 * a message that arrived without one Exim could log (a bounce Exim wrote
 * itself logs no id=: Exim adds the header after logging) read from
 * Dovecot's line for the LMTP session Exim's confirmation names.
 */
function readLines(lines: readonly string[]): PostfixEvent[] {
  const saved = new Map<string, { line: string; time: string; messageId: string }>();
  for (const line of lines) {
    const match = DOVECOT_SAVED.exec(line);
    if (match) saved.set(match[2]!, { line, time: match[1]!, messageId: match[3]! });
  }
  const known = new Set<string>();
  const events: PostfixEvent[] = [];
  for (const line of lines) {
    for (const event of eximEvents(line)) {
      events.push(event);
      if (event.kind === "messageId") known.add(event.queueId);
      if (event.kind !== "delivery" || event.service !== "lmtp" || known.has(event.queueId)) continue;
      const session = LMTP_SESSION.exec(event.detail)?.[1];
      const stored = session === undefined ? undefined : saved.get(session);
      if (stored === undefined) continue;
      events.push({ ...baseOf(stored.line, stored.time, "lmtp"), program: "dovecot", kind: "messageId", queueId: event.queueId, messageId: stored.messageId });
      known.add(event.queueId);
    }
  }
  return events;
}

/**
 * A host's failure in Exim's words before the deferral or bounce it causes
 * ("1xYY…-… H=mx.iroco.test [192.0.2.5]:25: a TLS session is required, but
 * the server did not offer TLS support"), and TLS errors on either side.
 */
const EXIM_COMPLAINT = /^\S+ \S+ (?:\S+ H=\S+ \[[^\]]+\](?::\d+)?: |TLS error on )/;

export const EXIM_LOG_READER: MtaLogReader = {
  events: eximEvents,
  readLines,
  complaint: (line) => EXIM_COMPLAINT.test(line),
  leftQueue(line) {
    const event = parseEximLogLine(line);
    return event?.kind === "completed" ? event.messageId : undefined;
  },
  // Exim's reply to DATA, "250 OK id=1xYYLI-00000000011-1MKC".
  replyQueueId: queuedAs,
};

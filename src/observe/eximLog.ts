/**
 * Parses Exim's main log, one line at a time, into typed events, as
 * docker/exim/exim.conf's log_selector writes it:
 *
 *   2026-12-02 00:28:19 1xYYCp-0000000000w-2i5e <= alice@infomaniak.test H=… P=esmtpsa X=TLS1.3:…:256 CV=no A=PLAIN:… S=544 id=… for bob@iroco.test
 *   … => bob@iroco.test R=world_mx T=remote_smtp H=mx.iroco.test [172.18.0.5]:25 I=[172.18.0.6]:40044 X=TLS1.3:…:256 CV=yes DN="CN=mx.iroco.test" C="250 2.0.0 Ok: queued as 4dK…" …
 *   … == bob@iroco.test R=world_mx T=remote_smtp defer (-1) H=mx.iroco.test [172.18.0.5]: a TLS session is required, but the server did not offer TLS support
 *   … ** someone@google.com R=outside_world: starttls-lab: only the test world's domains are reachable
 *   … Completed
 *
 * The flags are Exim's (<= arrival, => delivery, -> a further address of
 * the same delivery, == deferral, ** bounce); any other line (the daemon's,
 * queue runs', Dovecot's) parses to null.
 */
import { queuedAs } from "./postfixLog.js";

interface EximLineBase {
  /** The raw line, as logged. */
  line: string;
  /** As logged, e.g. "2026-12-02 00:28:19". */
  time: string;
  /** Exim's message id. */
  messageId: string;
}

/** A host Exim talked to or heard from: `H=mx.iroco.test [172.18.0.5]:25`, `H=([127.0.0.1]) [172.17.0.1]` (HELO name in parentheses). */
export interface EximHost {
  /** The name Exim used, or the HELO name in parentheses for a client without a looked-up name. */
  name: string;
  address: string;
  port?: number;
}

/** `X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256`: GnuTLS's names. */
export interface EximTls {
  /** e.g. "TLS1.3" */
  version: string;
  /** GnuTLS's cipher suite description, key exchange first, e.g. "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM". */
  cipher: string;
  bits: number;
  /** CV=: yes (verified), no, or dane (verified by TLSA records); absent when not logged. */
  certificateVerified?: "yes" | "no" | "dane";
  /** DN=: the peer certificate's subject. */
  peerDn?: string;
  /** SNI=: the name sent (client) or received (server). */
  sni?: string;
}

export interface EximArrival extends EximLineBase {
  kind: "arrival";
  /** Envelope sender; "" for a bounce (`<= <>`). */
  sender: string;
  /** The client (absent for a message Exim made itself, such as a bounce). */
  host?: EximHost;
  /** The local interface it arrived on (`I=[172.17.0.3]:465`). */
  interface?: EximHost;
  /** P=: esmtp, esmtps, esmtpsa, local… */
  protocol?: string;
  tls?: EximTls;
  /** A=: the authenticator and id, e.g. "PLAIN:alice@infomaniak.test". */
  authenticated?: string;
  size?: number;
  /** id=: the Message-ID header, without angle brackets. */
  headerMessageId?: string;
  /** R=: for a bounce, the id of the message it reports on. */
  bounceOf?: string;
  /** for …: the recipients. */
  recipients: string[];
}

export interface EximAddressEvent extends EximLineBase {
  /** The recipient, e.g. "bob@iroco.test", or a local part ("alice") for a local delivery. */
  address: string;
  /** The address it was routed from, in angle brackets after it (`alice <alice@infomaniak.test>`). */
  originalAddress?: string;
  /** R=: the router. */
  router?: string;
  /** T=: the transport. */
  transport?: string;
  host?: EximHost;
}

export interface EximDelivery extends EximAddressEvent {
  kind: "delivery";
  /** => for the first address of a delivery, -> for further ones delivered with it. */
  flag: "=>" | "->";
  /** I=: the local interface of the outgoing connection. */
  interface?: EximHost;
  tls?: EximTls;
  /** C=: the peer's answer to the message, e.g. "250 2.0.0 Ok: queued as 4dKxyz". */
  confirmation?: string;
  /** The receiving server's queue id, read from the confirmation ("queued as …"). */
  remoteQueueId?: string;
}

export interface EximDeferral extends EximAddressEvent {
  kind: "deferral";
  /** The errno Exim logs in "defer (-53)", when it does. */
  errno?: number;
  /** Exim's reason, e.g. "a TLS session is required, but the server did not offer TLS support". */
  error: string;
}

export interface EximBounce extends EximAddressEvent {
  kind: "bounce";
  error: string;
}

export interface EximCompleted extends EximLineBase {
  kind: "completed";
}

/** A command refused before any message existed (no message id): `H=(helo) [ip] I=[ip]:25 rejected MAIL <alice@…>: 530 5.7.0 Must issue a STARTTLS command first`. */
export interface EximRejection {
  kind: "rejected";
  line: string;
  time: string;
  host?: EximHost;
  interface?: EximHost;
  /** The refused command, e.g. "MAIL", "RCPT". */
  command: string;
  /** The address in the command, without angle brackets. */
  address: string;
  /** The reply text as logged, e.g. "530 5.7.0 Must issue a STARTTLS command first". */
  reason: string;
}

/** The events of one message, carrying its id. */
export type EximMessageEvent = EximArrival | EximDelivery | EximDeferral | EximBounce | EximCompleted;
export type EximEvent = EximMessageEvent | EximRejection;

/** This message's events among parsed ones, in log order. */
export function eventsOfMessage(events: readonly (EximEvent | null)[], messageId: string): EximMessageEvent[] {
  return events.filter((event): event is EximMessageEvent => event !== null && event.kind !== "rejected" && event.messageId === messageId);
}

const MESSAGE_ID = "[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}";
/** Timestamp, optional [pid] (log_selector +pid), message id, flag, the rest. */
const LINE = new RegExp(`^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?)(?: [+-]\\d{4})?(?: \\[\\d+\\])? (${MESSAGE_ID}) (<=|=>|->|==|\\*\\*|Completed)(?: (.*))?$`);

/** A quoted value as Exim writes it: in double quotes, with \" and \\ escaped. */
function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, "$1");
}

const QUOTED = String.raw`"(?:[^"\\]|\\.)*"`;

/** The value of ` KEY=…` (quoted or up to the next space), or undefined. */
function field(rest: string, key: string): string | undefined {
  const match = new RegExp(`(?:^| )${key}=(${QUOTED}|\\S+)`).exec(rest);
  if (!match) return undefined;
  return match[1]!.startsWith('"') ? unquote(match[1]!) : match[1]!;
}

function hostField(rest: string, key: "H" | "I"): EximHost | undefined {
  const match = key === "H" ? / H=(\S+) \[([^\]]+)\](?::(\d+))?/.exec(` ${rest}`) : / I=\[([^\]]+)\](?::(\d+))?/.exec(` ${rest}`);
  if (!match) return undefined;
  const [name, address, port] = key === "H" ? [match[1]!, match[2]!, match[3]] : [match[1]!, match[1]!, match[2]];
  return { name, address, ...(port !== undefined && { port: Number(port) }) };
}

function tlsField(rest: string): EximTls | undefined {
  const x = field(rest, "X");
  if (!x) return undefined;
  const parts = x.split(":");
  const bits = Number(parts.at(-1));
  const cv = field(rest, "CV");
  const dn = field(rest, "DN");
  const sni = field(rest, "SNI");
  return {
    version: parts[0]!,
    cipher: parts.slice(1, -1).join(":"),
    bits,
    ...(cv === "yes" || cv === "no" || cv === "dane" ? { certificateVerified: cv } : {}),
    ...(dn !== undefined && { peerDn: dn }),
    ...(sni !== undefined && { sni }),
  };
}

/** A reason without the queue and delivery times log_selector appends (QT=, DT=). */
function withoutTimes(reason: string): string {
  return reason.replace(/(?: (?:QT|DT)=\S+)+$/, "");
}

/** The text after the first ": " outside quotes: where Exim puts the reason of a deferral or bounce. */
function reasonOf(rest: string): { fields: string; reason: string } {
  let inQuotes = false;
  for (let index = 0; index < rest.length - 1; index++) {
    const char = rest[index];
    if (char === "\\" && inQuotes) index++;
    else if (char === '"') inQuotes = !inQuotes;
    else if (!inQuotes && char === ":" && rest[index + 1] === " ") return { fields: rest.slice(0, index), reason: withoutTimes(rest.slice(index + 2)) };
  }
  return { fields: rest, reason: "" };
}

function addressPart(rest: string): { address: string; originalAddress?: string; fields: string } {
  const match = /^(\S+?)(?: <([^>]*)>)?(?=$| |:)(.*)$/.exec(rest);
  if (!match) return { address: rest, fields: "" };
  return { address: match[1]!, ...(match[2] !== undefined && { originalAddress: match[2] }), fields: match[3]! };
}

function addressEvent(base: EximLineBase, rest: string): Omit<EximAddressEvent, "line" | "time" | "messageId"> & { fields: string } {
  const { address, originalAddress, fields } = addressPart(rest);
  const router = field(fields, "R");
  const transport = field(fields, "T");
  const host = hostField(fields, "H");
  return {
    address,
    ...(originalAddress !== undefined && { originalAddress }),
    ...(router !== undefined && { router: router.replace(/:$/, "") }),
    ...(transport !== undefined && { transport: transport.replace(/:$/, "") }),
    ...(host && { host }),
    fields,
  };
}

const REJECTION = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: [+-]\d{4})?(?: \[\d+\])? (.*?) ?rejected ([A-Z]+) <([^>]*)>: (.*)$/;

function parseRejection(line: string): EximRejection | null {
  const m = REJECTION.exec(line);
  if (!m) return null;
  const host = hostField(m[2]!, "H");
  const iface = hostField(m[2]!, "I");
  return { kind: "rejected", line, time: m[1]!, ...(host && { host }), ...(iface && { interface: iface }), command: m[3]!, address: m[4]!, reason: m[5]! };
}

export function parseEximLogLine(rawLine: string): EximEvent | null {
  const line = rawLine.replace(/\r?\n$/, "");
  const m = LINE.exec(line);
  if (!m) return parseRejection(line);
  const base: EximLineBase = { line, time: m[1]!, messageId: m[2]! };
  const flag = m[3]!;
  const rest = m[4] ?? "";
  switch (flag) {
    case "Completed":
      return { ...base, kind: "completed" };
    case "<=": {
      const [sender = "", ...others] = rest.split(" ");
      const fields = others.join(" ");
      const recipients = / for (.+)$/.exec(fields)?.[1]?.split(" ") ?? [];
      const host = hostField(fields, "H");
      const iface = hostField(fields, "I");
      const tls = tlsField(fields);
      const protocol = field(fields, "P");
      const authenticated = field(fields, "A");
      const size = field(fields, "S");
      const headerMessageId = field(fields, "id");
      const bounceOf = field(fields, "R");
      return {
        ...base,
        kind: "arrival",
        sender: sender === "<>" ? "" : sender,
        ...(host && { host }),
        ...(iface && { interface: iface }),
        ...(protocol !== undefined && { protocol }),
        ...(tls && { tls }),
        ...(authenticated !== undefined && { authenticated }),
        ...(size !== undefined && { size: Number(size) }),
        ...(headerMessageId !== undefined && { headerMessageId }),
        ...(bounceOf !== undefined && { bounceOf }),
        recipients,
      };
    }
    case "=>":
    case "->": {
      const { fields, ...event } = addressEvent(base, rest);
      const iface = hostField(fields, "I");
      const tls = tlsField(fields);
      const confirmation = field(fields, "C");
      const remoteQueueId = confirmation === undefined ? undefined : queuedAs(confirmation);
      return {
        ...base,
        ...event,
        kind: "delivery",
        flag,
        ...(iface && { interface: iface }),
        ...(tls && { tls }),
        ...(confirmation !== undefined && { confirmation }),
        ...(remoteQueueId !== undefined && { remoteQueueId }),
      };
    }
    case "==": {
      const { fields, ...event } = addressEvent(base, rest);
      const { reason } = reasonOf(fields);
      const errno = / defer \((-?\d+)\)/.exec(fields)?.[1];
      return { ...base, ...event, kind: "deferral", ...(errno !== undefined && { errno: Number(errno) }), error: reason };
    }
    default: {
      const { fields, ...event } = addressEvent(base, rest);
      return { ...base, ...event, kind: "bounce", error: reasonOf(fields).reason };
    }
  }
}

export function parseEximLog(text: string): EximEvent[] {
  return text
    .split("\n")
    .map(parseEximLogLine)
    .filter((event): event is EximEvent => event !== null);
}

/**
 * OpenSMTPD 7.6's log (opensmtpdLog.ts) in the common vocabulary
 * (logReader.ts), for a provider run by docker/opensmtpd.
 *
 * - `mta delivery` is a status line of service "smtp"; `mda delivery` one of
 *   service "lmtp": the image's only local action ("mailbox" in smtpd.conf)
 *   hands mail to Dovecot over LMTP, though the line itself says only "mda".
 *   The queue ID is the message id (the envelope id's first 8 hex digits),
 *   the one smtpd names in its reply to Alice's DATA.
 * - An outgoing session's TLS is two lines, `mta tls ciphers=…` and the
 *   `mta cert-check` after it: one tlsEstablished event when a slice is read
 *   (readLines), none when a line is read alone.
 * - A bounce is a report smtpd submits to itself; bounce.c logs which message
 *   it reports on and the reply naming the report's own message id on
 *   different lines of one bounce session: one nonDeliveryNotice when a slice
 *   is read.
 *
 * What OpenSMTPD does not log stays out of the events: no time stamp or host
 * with `smtpd -d` (empty strings), no key exchange, no peer certificate
 * subject, no port on a status line's relay, no enhanced status code on a
 * TempFail (dsn ""), and no Message-ID of any message, a bounce's included
 * (no messageId event).
 */
import type { MtaLogReader } from "./logReader.js";
import {
  MESSAGE_ACCEPTED,
  parseOpensmtpdLine,
  type ConnectingEvent,
  type DeliveryResult,
  type OpensmtpdDelivery,
  type OpensmtpdEvent,
  type OpensmtpdLocalDelivery,
} from "./opensmtpdLog.js";
import { queuedAs, type DeliveryEvent, type DeliveryStatus, type LogLineBase, type PostfixEvent, type TlsEstablishedEvent } from "./postfixLog.js";

const STATUS: Readonly<Record<DeliveryResult, DeliveryStatus>> = { Ok: "sent", TempFail: "deferred", PermFail: "bounced" };

/** A session id is 64 bits (a per-process counter, then 32 random bits): its low 53 bits keep sessions apart and fit a number. */
function pidOfSession(session: string): number {
  return Number(BigInt(`0x${session}`) & ((1n << 53n) - 1n));
}

/**
 * Program and pid as relayTrail pairs them: one pid per OpenSMTPD session (or
 * bounce session), the program naming OpenSMTPD's side (mta, mda, bounce) and
 * `service` the common vocabulary's word for it.
 */
function base(line: string, side: "mta" | "mda" | "bounce", pid: number, service: string): LogLineBase {
  return { line, time: "", host: "", program: `opensmtpd/${side}`, service, pid };
}

/** The enhanced status code of a reply ("550 5.1.1 <…>: …"); OpenSMTPD's own summaries have none. */
function dsnOf(stat: string): string {
  return /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(stat)?.[1] ?? "";
}

/** OpenSMTPD's relay "ADDRESS (PTRNAME)" in Postfix's "PTRNAME[ADDRESS]"; a relay without a name (a domain, or a bare address) as logged. */
function relayOf(relay: string): string {
  const named = /^(\S+) \((\S+)\)$/.exec(relay);
  return named ? `${named[2]}[${named[1]}]` : relay;
}

function remoteDelivery(event: OpensmtpdDelivery): DeliveryEvent {
  const remoteQueueId = event.result === "Ok" ? queuedAs(event.stat) : undefined;
  return {
    ...base(event.line, "mta", pidOfSession(event.session), "smtp"),
    kind: "delivery",
    queueId: event.messageId,
    to: event.to,
    ...(event.rcpt !== undefined && { origTo: event.rcpt }),
    relay: relayOf(event.relay),
    dsn: dsnOf(event.stat),
    status: STATUS[event.result],
    detail: event.stat,
    ...(remoteQueueId !== undefined && { remoteQueueId }),
  };
}

function localDelivery(event: OpensmtpdLocalDelivery): DeliveryEvent {
  return {
    ...base(event.line, "mda", pidOfSession(event.session), "lmtp"),
    kind: "delivery",
    queueId: event.messageId,
    to: event.to,
    ...(event.rcpt !== undefined && event.rcpt !== event.to && { origTo: event.rcpt }),
    // The mda line names the user it delivered as, no relay.
    relay: "none",
    dsn: dsnOf(event.stat),
    status: STATUS[event.result],
    detail: event.stat,
  };
}

/** The status line one parsed line says, if any. */
function statusOf(event: OpensmtpdEvent | null): DeliveryEvent | undefined {
  if (event?.kind === "delivery") return remoteDelivery(event);
  if (event?.kind === "localDelivery") return localDelivery(event);
  return undefined;
}

/** Postfix's "host[address]:port" for the server a session connected to. */
function peerOf(connecting: ConnectingEvent | undefined): { peer: string; peerHost: string } {
  if (!connecting) return { peer: "", peerHost: "" };
  return { peer: `${connecting.host}[${connecting.address}]:${connecting.port}`, peerHost: connecting.host };
}

function nextOfSession(parsed: ReadonlyArray<OpensmtpdEvent | null>, after: number, session: string): OpensmtpdEvent | undefined {
  for (let index = after + 1; index < parsed.length; index++) {
    const event = parsed[index];
    if (event && "session" in event && event.session === session) return event;
  }
  return undefined;
}

function readLines(lines: readonly string[]): PostfixEvent[] {
  const parsed = lines.map(parseOpensmtpdLine);
  const events: PostfixEvent[] = [];
  const lastConnecting = new Map<string, ConnectingEvent>();
  const reportingOn = new Map<string, string>();
  parsed.forEach((event, index) => {
    if (!event) return;
    switch (event.kind) {
      case "connecting":
        lastConnecting.set(event.session, event);
        break;
      case "tls": {
        if (event.side !== "mta") break;
        // The session's next line is its certificate check; a slice that ends between them does not know the trust yet.
        const check = nextOfSession(parsed, index, event.session);
        if (check?.kind !== "certCheck") break;
        const tls: TlsEstablishedEvent = {
          ...base(event.line, "mta", pidOfSession(event.session), "smtp"),
          kind: "tlsEstablished",
          trust: check.result === "valid" ? "verified" : "untrusted",
          ...peerOf(lastConnecting.get(event.session)),
          version: event.version,
          cipher: event.cipher,
        };
        events.push(tls);
        break;
      }
      case "bounceMessage":
        reportingOn.set(event.bounceSession, event.messageId);
        break;
      case "bounceAccepted": {
        const original = reportingOn.get(event.bounceSession);
        if (original === undefined) break;
        events.push({
          ...base(event.line, "bounce", Number(event.bounceSession), "bounce"),
          kind: "nonDeliveryNotice",
          queueId: original,
          ndrQueueId: event.messageId,
        });
        break;
      }
      default: {
        const status = statusOf(event);
        if (status) events.push(status);
      }
    }
  });
  return events;
}

export const OPENSMTPD_LOG_READER: MtaLogReader = {
  events(line) {
    const status = statusOf(parseOpensmtpdLine(line));
    return status ? [status] : [];
  },
  readLines,
  // A session's own words for its failure: the deferral line that follows names only "Network error on destination MXs".
  complaint(line) {
    const kind = parseOpensmtpdLine(line)?.kind;
    return kind === "sessionError" || kind === "tlsDowngrade";
  },
  /**
   * A message leaves OpenSMTPD's queue with its last envelope, and OpenSMTPD
   * logs no line for the message itself. The harness sends one envelope per
   * message, so its delivered line (mta or mda, result Ok) is that moment.
   * A PermFail is not: the failed envelope becomes a bounce envelope of the
   * same message, deleted only once the report is submitted, and the line
   * saying so (bounce.c's "<<< 250 … Message accepted") names the report, not
   * the message; for a bounced message the queue itself is asked. An
   * envelope `smtpctl remove` took out is logged as "Remove for".
   */
  leftQueue(line) {
    const event = parseOpensmtpdLine(line);
    if (event?.kind === "removed") return event.messageId;
    return (event?.kind === "delivery" || event?.kind === "localDelivery") && event.result === "Ok" ? event.messageId : undefined;
  },
  replyQueueId(reply) {
    return MESSAGE_ACCEPTED.exec(reply.trim())?.[1];
  },
};

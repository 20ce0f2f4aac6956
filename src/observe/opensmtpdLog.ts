/**
 * Parses the OpenSMTPD 7.6 log lines the harness needs into typed events,
 * one line at a time; any other line (Dovecot's, the supervisor's, the
 * incoming side's chatter) parses to null.
 *
 * `smtpd -d` writes to stderr without time stamp or program name: a session
 * id (16 hex digits), the side ("smtp" incoming, "mta" outgoing) and
 * key=value fields, as mta_session.c and mta.c of 7.6.0p1 print them:
 *   4f0c…89 mta connecting address=smtp+tls://192.168.16.5:25 host=192.168.16.5
 *   4f0c…89 mta tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256
 *   4f0c…89 mta cert-check result="valid" fingerprint="SHA256:…"
 *   4f0c…89 mta error reason=TLS required but not supported by remote host
 *   4f0c…89 mta delivery evpid=… from=<…> to=<…> rcpt=<-> source="…" relay="…" delay=1s result="Ok" stat="250 2.0.0 Ok: queued as …"
 *   4f0c…89 mda delivery evpid=… from=<> to=<…> rcpt=<…> user=postfix delay=0s result=Ok stat=Delivered
 * and a few session-less "smtp-out:" lines about TLS fallback and routes.
 * With `-v -T bounce` (docker/opensmtpd/entrypoint.sh) it also logs how a
 * bounce is written (bounce.c): the session (a pointer) takes a message
 * whose recipients failed, then submits the report to smtpd itself:
 *   debug: bounce: 0x564d4c147c60: found message b7433a1a
 *   bounce: 0x564d4c147c60: <<< 250 2.0.0 6bff6045 Message accepted for delivery
 */

export interface OpensmtpdLineBase {
  /** The raw line, as logged. */
  line: string;
}

interface SessionLine extends OpensmtpdLineBase {
  /** 16 hex digits; all zeros on a delivery line logged outside any session (no route, no MX). */
  session: string;
}

/** `info: OpenSMTPD 7.6.0-portable starting`: smtpd (re)started and read its configuration. */
export interface StartingEvent extends OpensmtpdLineBase {
  kind: "starting";
  version: string;
}

/** How the connection will use TLS, from the scheme OpenSMTPD logs (mta_connect). */
export type ConnectionTls = "opportunistic" | "required" | "none" | "implicit" | "lmtp";

const SCHEMES: Readonly<Record<string, ConnectionTls>> = {
  smtp: "opportunistic",
  "smtp+tls": "required",
  "smtp+notls": "none",
  smtps: "implicit",
  lmtp: "lmtp",
};

/** `… mta connecting address=smtp+tls://192.168.16.5:25 host=192.168.16.5`. */
export interface ConnectingEvent extends SessionLine {
  kind: "connecting";
  tls: ConnectionTls;
  address: string;
  port: number;
  /** The address's PTR name, or the address again when it has none. */
  host: string;
}

/** `… mta tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256` (outgoing) or `… smtp tls …` (incoming). */
export interface TlsEvent extends SessionLine {
  kind: "tls";
  side: "mta" | "smtp";
  /** e.g. "TLSv1.3" */
  version: string;
  /** e.g. "TLS_AES_256_GCM_SHA384" */
  cipher: string;
  bits: number;
}

/**
 * `… mta cert-check result="valid" fingerprint="SHA256:…"`: "valid" only when
 * the relay action verifies (tls without no-verify) and the handshake passed;
 * "unverified" whenever it does not verify, whatever the certificate.
 */
export interface CertCheckEvent extends SessionLine {
  kind: "certCheck";
  result: "valid" | "unverified";
  /** "SHA256:" and the certificate's digest in hex. */
  fingerprint: string;
}

/** `… mta error reason=…`: the session failed, in OpenSMTPD's own words (the queue only keeps a summary). */
export interface SessionErrorEvent extends SessionLine {
  kind: "sessionError";
  reason: string;
}

/** `smtp-out: Error on session … : opportunistic TLS failed, downgrading to plain`: the next attempt goes without TLS. */
export interface TlsDowngradeEvent extends SessionLine {
  kind: "tlsDowngrade";
}

/** `smtp-out: Disabling route [] <-> 192.168.16.5 (192.168.16.5) for 15s`: no new connection on it until then. */
export interface RouteDisabledEvent extends OpensmtpdLineBase {
  kind: "routeDisabled";
  route: string;
  for: string;
}

export type DeliveryResult = "Ok" | "TempFail" | "PermFail";

/** `… mta delivery evpid=… result="TempFail" stat="…"`: one recipient's outcome for this try. */
export interface OpensmtpdDelivery extends SessionLine {
  kind: "delivery";
  envelopeId: string;
  /** The envelope id's first 8 hex digits: the id Alice's submission was answered with. */
  messageId: string;
  from: string;
  to: string;
  /** The local address it came in as, when it was rewritten ("-" is logged as undefined). */
  rcpt?: string;
  source?: string;
  relay: string;
  /** As logged, e.g. "1s", "1m12s". */
  delay: string;
  result: DeliveryResult;
  /** The remote reply for Ok and PermFail, e.g. "250 2.0.0 Ok: queued as 0F39C1EA70E"; a summary for a TempFail. */
  stat: string;
}

/**
 * `… mda delivery evpid=… user=postfix delay=0s result=Ok stat=Delivered`: one
 * recipient's outcome for a local delivery (the "mailbox" action of smtpd.conf).
 * The session id is the mda's own, not the one the message came in with.
 */
export interface OpensmtpdLocalDelivery extends SessionLine {
  kind: "localDelivery";
  envelopeId: string;
  messageId: string;
  /** Empty for a bounce (from=<>). */
  from: string;
  to: string;
  /** The address it came in as, when it differs from `to` (OpenSMTPD leaves the field out otherwise). */
  rcpt?: string;
  /** The system user the delivery ran as. */
  user: string;
  delay: string;
  result: DeliveryResult;
  /** "Delivered", or the delivery agent's error. */
  stat: string;
}

/** Fields of a bounce session's lines: which bounce session (bounce.c logs its address, e.g. "0x564d4c147c60"). */
interface BounceSessionLine extends OpensmtpdLineBase {
  bounceSession: string;
}

/** `debug: bounce: 0x…: found message b7433a1a`: this bounce session now reports on that message's failed recipients. */
export interface BounceMessageEvent extends BounceSessionLine {
  kind: "bounceMessage";
  /** The message (8 hex digits) whose recipients the report is about. */
  messageId: string;
}

/** `bounce: 0x…: <<< 250 2.0.0 6bff6045 Message accepted for delivery`: smtpd took the report as a new message. */
export interface BounceAcceptedEvent extends BounceSessionLine {
  kind: "bounceAccepted";
  /** The report's own message id. */
  messageId: string;
}

/**
 * `relay: Remove for 40d503beb8a2b268: from=<…>, to=<…>, rcpt=<->, delay=11s, stat=Removed by administrator`
 * (queue.c's queue_log): `smtpctl remove` took the envelope out of the queue, no report sent.
 */
export interface RemovedEvent extends OpensmtpdLineBase {
  kind: "removed";
  envelopeId: string;
  messageId: string;
}

export type OpensmtpdEvent =
  | StartingEvent
  | ConnectingEvent
  | TlsEvent
  | CertCheckEvent
  | SessionErrorEvent
  | TlsDowngradeEvent
  | RouteDisabledEvent
  | OpensmtpdDelivery
  | OpensmtpdLocalDelivery
  | BounceMessageEvent
  | BounceAcceptedEvent
  | RemovedEvent;

const SESSION = "([0-9a-f]{16})";
const STARTING = /^info: OpenSMTPD (\S+) starting$/;
const CONNECTING = new RegExp(`^${SESSION} mta connecting address=([a-z+]+)://(\\S+):(\\d+) host=(\\S+)$`);
const TLS = new RegExp(`^${SESSION} (mta|smtp) tls ciphers=([^:]+):([^:]+):(\\d+)$`);
const CERT_CHECK = new RegExp(`^${SESSION} mta cert-check result="(valid|unverified)" fingerprint="([^"]+)"$`);
const SESSION_ERROR = new RegExp(`^${SESSION} mta error reason=(.*)$`);
const DOWNGRADE = new RegExp(`^smtp-out: Error on session ${SESSION}: opportunistic TLS failed, downgrading to plain$`);
const ROUTE_DISABLED = /^smtp-out: Disabling route (.+) for (\S+)$/;
const DELIVERY = new RegExp(
  `^${SESSION} mta delivery evpid=([0-9a-f]{16}) from=<([^>]*)> to=<([^>]*)> rcpt=<([^>]*)> source="([^"]*)" relay="([^"]*)" delay=(\\S+) result="(Ok|TempFail|PermFail)" stat="(.*)"$`,
);

const LOCAL_DELIVERY = new RegExp(
  `^${SESSION} mda delivery evpid=([0-9a-f]{16}) from=<([^>]*)> to=<([^>]*)> (?:rcpt=<([^>]*)> )?user=(\\S+) delay=(\\S+) result=(Ok|TempFail|PermFail) stat=(.*)$`,
);
const BOUNCE_SESSION = "(0x[0-9a-f]+)";
const BOUNCE_MESSAGE = new RegExp(`^debug: bounce: ${BOUNCE_SESSION}: found message ([0-9a-f]{8})$`);
/** The reply smtpd gives to any accepted message (smtp_session.c); here read on the bounce session's side. */
export const MESSAGE_ACCEPTED = /^250 \d\.\d\.\d ([0-9a-f]{8}) Message accepted for delivery$/;
const BOUNCE_REPLY = new RegExp(`^bounce: ${BOUNCE_SESSION}: <<< (.*)$`);

const REMOVED = /^(?:relay|delivery): Remove for ([0-9a-f]{16}): /;

/** "-" is how OpenSMTPD logs an absent value. */
function present(value: string): string | undefined {
  return value === "-" ? undefined : value;
}

/** The fields an mta and an mda delivery line share, as read from their matches. */
function envelopeOutcome(
  line: string,
  fields: { session: string; envelopeId: string; from: string; to: string; rcpt: string | undefined; delay: string; result: string; stat: string },
) {
  const { rcpt, result, ...rest } = fields;
  return { line, ...rest, messageId: fields.envelopeId.slice(0, 8), ...(rcpt !== undefined && { rcpt }), result: result as DeliveryResult };
}

/** One event for a line OpenSMTPD logs about delivery and TLS; null for any other line. */
export function parseOpensmtpdLine(rawLine: string): OpensmtpdEvent | null {
  const line = rawLine.replace(/\r?\n$/, "");
  let match: RegExpExecArray | null;
  if ((match = STARTING.exec(line))) return { kind: "starting", line, version: match[1]! };
  if ((match = CONNECTING.exec(line))) {
    const tls = SCHEMES[match[2]!];
    if (!tls) return null;
    return { kind: "connecting", line, session: match[1]!, tls, address: match[3]!, port: Number(match[4]), host: match[5]! };
  }
  if ((match = TLS.exec(line))) {
    return { kind: "tls", line, session: match[1]!, side: match[2] as TlsEvent["side"], version: match[3]!, cipher: match[4]!, bits: Number(match[5]) };
  }
  if ((match = CERT_CHECK.exec(line))) return { kind: "certCheck", line, session: match[1]!, result: match[2] as CertCheckEvent["result"], fingerprint: match[3]! };
  if ((match = SESSION_ERROR.exec(line))) return { kind: "sessionError", line, session: match[1]!, reason: match[2]! };
  if ((match = DOWNGRADE.exec(line))) return { kind: "tlsDowngrade", line, session: match[1]! };
  if ((match = ROUTE_DISABLED.exec(line))) return { kind: "routeDisabled", line, route: match[1]!, for: match[2]! };
  if ((match = DELIVERY.exec(line))) {
    const [, session, envelopeId, from, to, rcpt, source, relay, delay, result, stat] = match;
    const sourceValue = present(source!);
    return {
      kind: "delivery",
      ...envelopeOutcome(line, { session: session!, envelopeId: envelopeId!, from: from!, to: to!, rcpt: present(rcpt!), delay: delay!, result: result!, stat: stat! }),
      ...(sourceValue !== undefined && { source: sourceValue }),
      relay: relay!,
    };
  }
  if ((match = LOCAL_DELIVERY.exec(line))) {
    const [, session, envelopeId, from, to, rcpt, user, delay, result, stat] = match;
    return {
      kind: "localDelivery",
      ...envelopeOutcome(line, { session: session!, envelopeId: envelopeId!, from: from!, to: to!, rcpt, delay: delay!, result: result!, stat: stat! }),
      user: user!,
    };
  }
  if ((match = REMOVED.exec(line))) return { kind: "removed", line, envelopeId: match[1]!, messageId: match[1]!.slice(0, 8) };
  if ((match = BOUNCE_MESSAGE.exec(line))) return { kind: "bounceMessage", line, bounceSession: match[1]!, messageId: match[2]! };
  if ((match = BOUNCE_REPLY.exec(line))) {
    const accepted = MESSAGE_ACCEPTED.exec(match[2]!);
    return accepted ? { kind: "bounceAccepted", line, bounceSession: match[1]!, messageId: accepted[1]! } : null;
  }
  return null;
}

/** Every event in a log text, in order. */
export function parseOpensmtpdLog(text: string): OpensmtpdEvent[] {
  return text.split("\n").flatMap((line) => {
    const event = parseOpensmtpdLine(line);
    return event ? [event] : [];
  });
}

/** The outgoing session's events (connecting, TLS, certificate, error) with this id, in order. */
export function sessionEvents(events: readonly OpensmtpdEvent[], session: string): OpensmtpdEvent[] {
  return events.filter((event) => "session" in event && event.session === session);
}

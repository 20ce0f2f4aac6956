/**
 * Parses the Postfix log lines the harness needs, one line at a time, into a
 * discriminated union of events. Everything else (Dovecot lines, TLS debug
 * chatter, anvil statistics, …) parses to null.
 *
 * Line format, as `maillog_file = /dev/stdout` writes it in our containers:
 *   `Nov 27 22:47:19 smtp postfix/smtp[112]: <message>`
 * The program may carry a syslog_name prefix (`postfix/submissions/smtpd`);
 * `service` is its last segment (`smtpd`).
 */
import type { Trust } from "../scenario/types.js";

/** Fields every event carries. */
export interface LogLineBase {
  /** The raw line, as logged (without a trailing newline). */
  line: string;
  /** The timestamp as logged, e.g. "Nov 27 22:47:19". */
  time: string;
  /** The host name in the line, e.g. "smtp". */
  host: string;
  /** The full program name, e.g. "postfix/submissions/smtpd". */
  program: string;
  /** The program's last segment, e.g. "smtpd", "smtp", "lmtp", "error", "cleanup". */
  service: string;
  pid: number;
}

/** Client side: `Trusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher …`. */
export interface TlsEstablishedEvent extends LogLineBase {
  kind: "tlsEstablished";
  trust: Trust;
  /** e.g. "mx.iroco.test[172.18.0.3]:25" */
  peer: string;
  /** e.g. "mx.iroco.test" */
  peerHost: string;
  /** e.g. "TLSv1.3" */
  version: string;
  /** e.g. "TLS_AES_256_GCM_SHA384" */
  cipher: string;
  /** As logged: "X25519" (3.7), "x25519" or "X25519MLKEM768" (3.10), "ECDHE (P-256)", "DHE (2048 bits)". */
  keyExchange?: string;
}

/** Server side: `Anonymous TLS connection established from unknown[172.18.0.1]: TLSv1.3 with cipher …`. */
export interface SmtpdTlsEvent extends LogLineBase {
  kind: "smtpdTls";
  trust: Trust;
  /** e.g. "m-sender.manualnet[172.18.0.2]" */
  client: string;
  version: string;
  cipher: string;
  keyExchange?: string;
}

/** With `smtp_tls_loglevel` including `peercert`: `mx.iroco.test[172.18.0.3]:25: subject_CN=…, issuer_CN=…, fingerprint=…, pkey_fingerprint=…`. */
export interface PeerCertificateEvent extends LogLineBase {
  kind: "peerCertificate";
  peer: string;
  subjectCN: string;
  issuerCN: string;
  fingerprint: string;
  pkeyFingerprint: string;
}

export type DeliveryStatus = "sent" | "deferred" | "bounced" | "expired";

/** A recipient's status line: `QUEUEID: to=<…>, relay=…, …, dsn=X.Y.Z, status=… (TEXT)`. */
export interface DeliveryEvent extends LogLineBase {
  kind: "delivery";
  queueId: string;
  to: string;
  origTo?: string;
  /** e.g. "mx.iroco.test[172.18.0.3]:25", "smtp.infomaniak.test[private/dovecot-lmtp]", "none" */
  relay: string;
  /** Present when the smtp client reused a cached connection (then it may log no TLS line of its own). */
  connUse?: number;
  dsn: string;
  status: DeliveryStatus;
  /** The text in the outer parentheses, e.g. "250 2.0.0 Ok: queued as 2426C178491". */
  detail: string;
  /** For status=sent: the next hop's queue id, from "queued as XYZ". */
  remoteQueueId?: string;
  /**
   * Postfix 3.11's TLS feature status (`smtp_log_tls_feature_status`), the
   * `tls=` field between delays= and dsn=, as logged: "dane/requiretls",
   * "may?/!requiretls:nocertmatch", "none". Read it with parseTlsFeatureStatus.
   */
  tlsFeatures?: string;
}

/**
 * The smtp/lmtp client gave up on one server session for this message but
 * keeps the recipients for another server or for a plaintext retry:
 * `QUEUEID: Cannot start TLS: handshake failure`. Postfix logs these with
 * msg_info("%s: %s", queue_id, reason) in smtp_bulk_fail (smtp_trouble.c);
 * the format comes from the Postfix source, not from one of our captures.
 */
export interface SessionAbandonedEvent extends LogLineBase {
  kind: "sessionAbandoned";
  queueId: string;
  reason: string;
}

/** `postfix/bounce[271]: D674E178002: sender non-delivery notification: E8A45178073`. */
export interface NonDeliveryNoticeEvent extends LogLineBase {
  kind: "nonDeliveryNotice";
  queueId: string;
  /** The queue id of the bounce message (NDR) sent back to the sender. */
  ndrQueueId: string;
}

/** `postfix/cleanup[111]: 0CDCF178411: message-id=<m1.1795819638894@infomaniak.test>`. */
export interface MessageIdEvent extends LogLineBase {
  kind: "messageId";
  queueId: string;
  /** The id without its angle brackets, e.g. "m1.1795819638894@infomaniak.test". */
  messageId: string;
}

/** `postfix/master[1]: reload -- version 3.7.11, configuration /etc/postfix`. */
export interface ReloadedEvent extends LogLineBase {
  kind: "reloaded";
  version: string;
  configDir: string;
}

/** `postfix/master[1]: daemon started -- version 3.7.11, configuration /etc/postfix`. */
export interface StartedEvent extends LogLineBase {
  kind: "started";
  version: string;
  configDir: string;
}

export type PostfixEvent =
  | TlsEstablishedEvent
  | SmtpdTlsEvent
  | PeerCertificateEvent
  | DeliveryEvent
  | SessionAbandonedEvent
  | NonDeliveryNoticeEvent
  | MessageIdEvent
  | ReloadedEvent
  | StartedEvent;

const HEADER =
  /^(?<time>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T\S+) (?<host>\S+) (?<program>[^\s[\]]+)\[(?<pid>\d+)\]: (?<msg>.*)$/;

/**
 * A Postfix queue id: short (hex, `0CDCF178411`) or long
 * (`enable_long_queue_ids`, vowel-free base 52 with a "z" separator).
 * Neither shape matches words such as "warning" or "NOQUEUE".
 */
const QID = "(?:[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]+)";

const TRUST = "(Verified|Trusted|Untrusted|Anonymous)";
const TLS_TO = new RegExp(`^${TRUST} TLS connection established to (.+?): (\\S+) with cipher (\\S+)`);
const TLS_FROM = new RegExp(`^${TRUST} TLS connection established from (.+?): (\\S+) with cipher (\\S+)`);
/** Postfix's summary after the cipher: `key-exchange NAME` or `key-exchange KIND (DETAIL)`. */
const KEY_EXCHANGE = / key-exchange (\S+(?: \([^)]*\))?)/;
// Postfix 3.7 writes "issuer_CN=…, fingerprint=…, pkey_fingerprint=…";
// later releases (3.10, 3.11) "issuer=…, cert fingerprint=…, pkey fingerprint=…".
const PEER_CERT =
  /^(.+?): subject_CN=(.*?), issuer(?:_CN)?=(.*?), (?:cert )?fingerprint=([0-9A-Fa-f:]+), pkey[_ ]fingerprint=([0-9A-Fa-f:]+)$/;
const DELIVERY = new RegExp(
  `^(${QID}): to=<([^>]*)>, (?:orig_to=<([^>]*)>, )?relay=([^,]+), (?:conn_use=(\\d+), )?(?:.*?, )?` +
    `dsn=(\\d\\.\\d{1,3}\\.\\d{1,3}), status=(sent|deferred|bounced|expired) \\((.*)\\)$`,
);
const TLS_FEATURES = /, tls=([^,\s]+), dsn=/;
const NDR = new RegExp(`^(${QID}): sender non-delivery notification: (${QID})$`);
const MESSAGE_ID = new RegExp(`^(${QID}): message-id=(.*)$`);
const QID_NOTICE = new RegExp(`^(${QID}): (.+)$`);
const REQUIRETLS_NOT_OFFERED = /^Sender requested REQUIRETLS, but REQUIRETLS support was not offered by host /;
const MASTER = /^(reload|daemon started) -- version (\S+), configuration (\S+)$/;

function trustOf(word: string): Trust {
  return word.toLowerCase() as Trust;
}

function keyExchangeOf(msg: string): { keyExchange?: string } {
  const found = KEY_EXCHANGE.exec(msg)?.[1];
  return found === undefined ? {} : { keyExchange: found };
}

/**
 * The queue ID a server names in its 250 reply to the message: Postfix's
 * "250 2.0.0 Ok: queued as 4dKxyz", Exim's "250 OK id=1xYYLI-00000000011-1MKC"
 * (in a status line's parentheses, in Exim's C= field, in the reply to
 * Alice's submission).
 */
export function queuedAs(reply: string): string | undefined {
  return /(?:queued as |\bid=)([0-9A-Za-z]+(?:-[0-9A-Za-z]+)*)\)?\s*$/.exec(reply)?.[1];
}

/** The queue ID of a "QUEUEID: removed" line (the queue manager's, or postsuper's): the message left the queue. */
export function removedQueueId(line: string): string | undefined {
  return /: ([0-9A-Za-z]+): removed$/.exec(line)?.[1];
}

/** Parses one log line into an event, or null when the line is not one we need. */
export function parseLogLine(rawLine: string): PostfixEvent | null {
  const line = rawLine.replace(/[\r\n]+$/, "");
  const head = HEADER.exec(line);
  if (!head?.groups) return null;
  const { time, host, program, pid, msg } = head.groups as Record<"time" | "host" | "program" | "pid" | "msg", string>;
  const service = program.slice(program.lastIndexOf("/") + 1);
  const base: LogLineBase = { line, time, host, program, service, pid: Number(pid) };

  let m: RegExpExecArray | null;

  if (service === "master") {
    if ((m = MASTER.exec(msg))) {
      const kind = m[1] === "reload" ? "reloaded" : "started";
      return { ...base, kind, version: m[2]!, configDir: m[3]! };
    }
    return null;
  }

  if ((m = TLS_TO.exec(msg))) {
    const peer = m[2]!;
    const bracket = peer.indexOf("[");
    return {
      ...base,
      kind: "tlsEstablished",
      trust: trustOf(m[1]!),
      peer,
      peerHost: bracket >= 0 ? peer.slice(0, bracket) : peer,
      version: m[3]!,
      cipher: m[4]!,
      ...keyExchangeOf(msg),
    };
  }
  if ((m = TLS_FROM.exec(msg))) {
    return { ...base, kind: "smtpdTls", trust: trustOf(m[1]!), client: m[2]!, version: m[3]!, cipher: m[4]!, ...keyExchangeOf(msg) };
  }
  if ((m = PEER_CERT.exec(msg))) {
    return {
      ...base,
      kind: "peerCertificate",
      peer: m[1]!,
      subjectCN: m[2]!,
      issuerCN: m[3]!,
      fingerprint: m[4]!,
      pkeyFingerprint: m[5]!,
    };
  }
  if ((m = DELIVERY.exec(msg))) {
    const event: DeliveryEvent = {
      ...base,
      kind: "delivery",
      queueId: m[1]!,
      to: m[2]!,
      relay: m[4]!,
      dsn: m[6]!,
      status: m[7] as DeliveryStatus,
      detail: m[8]!,
    };
    if (m[3] !== undefined) event.origTo = m[3];
    if (m[5] !== undefined) event.connUse = Number(m[5]);
    const tlsFeatures = TLS_FEATURES.exec(msg)?.[1];
    if (tlsFeatures !== undefined) event.tlsFeatures = tlsFeatures;
    if (event.status === "sent") {
      const queued = queuedAs(event.detail);
      if (queued !== undefined) event.remoteQueueId = queued;
    }
    return event;
  }
  if (service === "bounce" && (m = NDR.exec(msg))) {
    return { ...base, kind: "nonDeliveryNotice", queueId: m[1]!, ndrQueueId: m[2]! };
  }
  if (service === "cleanup" && (m = MESSAGE_ID.exec(msg))) {
    const raw = m[2]!.trim();
    const messageId = raw.startsWith("<") && raw.endsWith(">") ? raw.slice(1, -1) : raw;
    return { ...base, kind: "messageId", queueId: m[1]!, messageId };
  }
  if ((service === "smtp" || service === "lmtp") && (m = QID_NOTICE.exec(msg))) {
    const reason = m[2]!;
    // Session notes that are not a failure: the session goes on (an
    // opportunistic REQUIRETLS policy delivers without REQUIRETLS, and its
    // tls= field says so).
    if (reason.startsWith("enabling PIX workarounds") || REQUIRETLS_NOT_OFFERED.test(reason)) return null;
    return { ...base, kind: "sessionAbandoned", queueId: m[1]!, reason };
  }
  return null;
}

/** Parses a whole log text (any line endings); lines that are not events are dropped. */
export function parseLog(text: string): PostfixEvent[] {
  const events: PostfixEvent[] = [];
  for (const line of text.split(/\r?\n/)) {
    const event = parseLogLine(line);
    if (event) events.push(event);
  }
  return events;
}

/**
 * One feature of a `tls=` field, e.g. "!requiretls:nocertmatch". Postfix's
 * notation (postconf(5), smtp_log_tls_feature_status): a leading "!" means
 * the policy for the feature was violated and the connection was not used;
 * ":level" that the feature was downgraded to that level ("none": it was
 * unavailable); a trailing "?" that its status was undecided (no connection,
 * or one lost before or in the TLS handshake).
 */
export interface TlsFeature {
  name: string;
  violated: boolean;
  downgradedTo?: string;
  undecided: boolean;
}

/** The `tls=` field read: the TLS security level first, then the features that were activated (e.g. requiretls). */
export interface TlsFeatureStatus {
  level: TlsFeature;
  features: TlsFeature[];
}

const TLS_FEATURE = /^(!)?([a-z][a-z0-9+-]*)(\?)?(?::([a-z][a-z0-9+-]*))?(\?)?$/;

/** Reads a `tls=` field; undefined when a part is not in Postfix's notation. */
export function parseTlsFeatureStatus(field: string): TlsFeatureStatus | undefined {
  const features: TlsFeature[] = [];
  for (const part of field.split("/")) {
    const m = TLS_FEATURE.exec(part);
    if (!m) return undefined;
    features.push({ name: m[2]!, violated: m[1] === "!", ...(m[4] !== undefined && { downgradedTo: m[4] }), undecided: m[3] === "?" || m[5] === "?" });
  }
  const [level, ...rest] = features;
  return level ? { level, features: rest } : undefined;
}

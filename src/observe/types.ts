/**
 * The observation contract: what really happened to one scenario's message,
 * assembled from the providers' logs, the queue, the Received header and the
 * mailboxes. Judged against a scenario's Expectation by judge/.
 */
import type { AttemptStatus, Outcome, Role, Transport, Trust } from "../scenario/types.js";
import type { WireMode, WireTranscript } from "../wire/transcript.js";
import type { Evidence } from "./evidence.js";

/**
 * How the sending MTA judged the receiver's certificate, as its log says;
 * "unknown" when no MTA sent the message on (Alice's client handed it straight
 * to the provider that stored it), so no log judged the certificate.
 */
export type ObservedTrust = Trust | "unknown";

export interface TlsObservation {
  /** e.g. "TLSv1.3" */
  version: string;
  /** e.g. "TLS_AES_256_GCM_SHA384" */
  cipher: string;
  trust: ObservedTrust;
  /** The name in the certificate the receiver presented, when the log shows it. */
  peerName?: string;
  /** The key exchange group as the sending Postfix logged it, e.g. "X25519", "X25519MLKEM768", "ECDHE (P-256)". */
  keyExchange?: string;
}

export interface Observation {
  outcome: Outcome;
  /** Only for delivered messages. */
  transport?: Transport;
  /** Delivered: the provider that relayed the message to the one that stored it; absent when nobody relayed it. */
  relayedBy?: Role;
  tls?: TlsObservation;
  /** The deferral, bounce or rejection text, as Postfix or the SMTP server said it. */
  reason?: string;
  /** What the wire on the port-25 hop saw (absent when the message never reached the hop's world, e.g. refused). */
  wire?: WireObservation;
  /**
   * The TLS-relevant header fields (TLS-Required, and any the scenario added
   * or expects) as the copy Bob's provider STORED carries them; for a bounce,
   * as the non-delivery report returns them. Keyed by the name as the
   * harness asked for it ("TLS-Required", the others as the scenario first
   * spelled them), whatever the copy's spelling; a field written twice has
   * its values joined by ", "; one the copy does not carry is left out.
   * Absent altogether when no copy was read (deferred, rejected).
   */
  headers?: Record<string, string>;
  /**
   * What Alice's provider's TLSRPT library reported during this scenario, one
   * event per TLS success or failure, in order (RFC 8460: what Bob's provider
   * would find in its daily report). Absent when the sender's Postfix has no
   * TLSRPT (before 3.10); empty when it reported nothing.
   */
  tlsrpt?: TlsrptEvent[];
  /** REQUIRETLS (RFC 8689), read from the sending Postfix's status line; absent when that line has no tls= field (before Postfix 3.11). */
  requireTls?: RequireTlsObservation;
  /**
   * Every delivery attempt of the sender for this message, in order, with
   * the changes the harness made before it (events). Present when the
   * scenario follows more than one attempt.
   */
  attempts?: DeliveryAttempt[];
  /** Events the harness did not apply because the message had settled before their turn, in words. */
  eventsNotApplied?: string[];
  /** Evidence behind the verdict: the log lines and headers that decided it, each with its witness. */
  evidence: Evidence[];
}

/** One attempt of the sending provider, as its status line says. */
export interface DeliveryAttempt {
  /** 1, 2, … */
  number: number;
  /** What the harness changed in the world just before this attempt, in words (events); empty when nothing. */
  after: string[];
  status: AttemptStatus;
  /** What Postfix said, e.g. "TLS is required, but was not offered by host mx.iroco.test[…]". */
  detail: string;
  /** For a sent attempt: whether it crossed the hop over TLS (the sending process logged a TLS session for it). */
  transport?: Transport;
  /** The sender's status line itself. */
  line: string;
  /** What Postfix said on the retries it made on its own while the change before this attempt was being made (not counted as attempts). */
  meanwhile?: string[];
}

/**
 * REQUIRETLS on the relay hop, as Postfix 3.11 summarises it in the `tls=`
 * field of the sending provider's status line (smtp_log_tls_feature_status).
 * The receiver announces REQUIRETLS only after STARTTLS, inside TLS, so the
 * wire cannot see it: the sending Postfix is the witness, and the provider
 * that stored the message a second one for the request itself.
 */
export interface RequireTlsObservation {
  /** The relayed message carried REQUIRETLS: the tls= field names the requiretls feature (Postfix logs it only then). */
  requested: boolean;
  /**
   * The receiver announced REQUIRETLS in its EHLO after STARTTLS: true for
   * "requiretls" (and "requiretls:nocertmatch"), false for "requiretls:none"
   * (announced neither STARTTLS nor REQUIRETLS, or TLS without REQUIRETLS).
   * Absent when the sender never read that EHLO (no STARTTLS, no certificate
   * match, undecided) or did not request REQUIRETLS.
   */
  receiverAnnounced?: boolean;
  /** The sender's REQUIRETLS policy was violated and the server not used (the "!" of "!requiretls:none"). */
  policyViolated?: boolean;
  /** The provider that stored the message kept the request: its own status line's tls= field names requiretls too (absent when not delivered by a 3.11 relay). */
  keptByReceiver?: boolean;
  /** The sender's tls= field as logged, e.g. "dane/requiretls", "may?/!requiretls:nocertmatch". */
  tlsField: string;
}

/** RFC 8460 policy-type: what protected the destination when the sender tried TLS. */
export type TlsrptPolicyType = "sts" | "tlsa" | "no-policy-found";
export type TlsrptResult = "success" | "failure";

/**
 * One TLSRPT event, read from the datagram libtlsrpt sent to the harness's
 * collector and checked against the "TLSRPT: status=…" line Postfix logged
 * for the same handshake (the two witnesses must agree).
 */
export interface TlsrptEvent {
  /** The RFC 8460 policy-domain: the recipient domain for MTA-STS and no-policy-found, the MX host (the TLSA base domain) for DANE. */
  policyDomain: string;
  policyType: TlsrptPolicyType;
  result: TlsrptResult;
  /** RFC 8460 result-type of a failure, e.g. "starttls-not-supported", "certificate-not-trusted". */
  failureType?: string;
  /** The MX host the sender was talking to (from Postfix's line: its datagram names it only for failures). */
  receivingMx?: string;
  /** The domain whose _smtp._tls record asked for the report: the recipient's domain (Postfix's "domain="). */
  domain: string;
  /** Where the report would go: the _smtp._tls TXT record the sender found. */
  reportPolicy: string;
  /** The policy as reported: the TLSA records ("3 1 1 …"), or the MTA-STS policy's lines. */
  policyStrings?: string[];
  /** MTA-STS: the policy's mx patterns. */
  mxHosts?: string[];
  /** A failure's receiving IP address and the EHLO reply the sender saw before STARTTLS. */
  receivingIp?: string;
  receivingMxHelo?: string;
}

/** The port-25 hop as the wire saw it, over every connection of the scenario. */
export interface WireObservation {
  mode: WireMode;
  /** The body's marker crossed the hop readable by anyone listening (outside TLS). */
  plaintextBody: boolean;
  /** mitm: the wire terminated TLS itself and read the body. */
  attackerReadBody: boolean;
  /** inject: what the wire pipelined after STARTTLS, and whether the receiver threw it away. */
  injection?: { command: string; discarded: boolean; evidence?: string };
  /**
   * The key exchange group of the last connection whose handshake showed one
   * (the ServerHello's key_share, or a TLS 1.2 ServerKeyExchange), e.g. "x25519":
   * the second witness to the sending Postfix's log.
   */
  keyExchange?: string;
  /** Every connection the wire relayed for this scenario, in the order they were accepted. */
  hops: WireTranscript[];
}

/**
 * The observation contract: what really happened to one scenario's message,
 * assembled from the providers' logs, the queue, the Received header and the
 * mailboxes. Judged against a scenario's Expectation by judge/.
 */
import type { Outcome, Role, Transport, Trust } from "../scenario/types.js";
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
  /** What the sender's TLSRPT library reported during this scenario. */
  tlsrpt?: TlsrptEvent[];
  /** REQUIRETLS: asked for, announced, and the sender's tls= field. */
  requireTls?: RequireTlsObservation;
  /** Evidence behind the verdict: the log lines and headers that decided it, each with its witness. */
  evidence: Evidence[];
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

export interface TlsrptEvent {
  policyDomain: string;
  policyType: "sts" | "tlsa" | "no-policy-found";
  result: "success" | "failure";
  failureType?: string;
  receivingMx?: string;
}

export interface RequireTlsObservation {
  requested: boolean;
  receiverAnnounced?: boolean;
  tlsField?: string;
}

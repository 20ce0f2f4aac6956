/**
 * The observation contract: what really happened to one scenario's message,
 * assembled from the providers' logs, the queue, the Received header and the
 * mailboxes. Judged against a scenario's Expectation by judge/.
 */
import type { Outcome, Transport, Trust } from "../scenario/types.js";

export interface TlsObservation {
  /** e.g. "TLSv1.3" */
  version: string;
  /** e.g. "TLS_AES_256_GCM_SHA384" */
  cipher: string;
  trust: Trust;
  /** The name in the certificate the receiver presented, when the log shows it. */
  peerName?: string;
}

export interface Observation {
  outcome: Outcome;
  /** Only for delivered messages. */
  transport?: Transport;
  tls?: TlsObservation;
  /** The deferral, bounce or rejection text, as Postfix or the SMTP server said it. */
  reason?: string;
  /** Reserved for the wire container; absent until a wire observes the hop. */
  wire?: { plaintextBody: boolean };
  /** Evidence behind the verdict, for humans: the log lines and headers that decided it. */
  evidence: string[];
}

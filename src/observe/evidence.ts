/**
 * Evidence: the lines behind a verdict, each kept with the witness it came
 * from and, when the harness parsed it, what it read from it. Consumers
 * (explain, the reports) use `event` as read where the line was read, and
 * never parse `line` back.
 */
import type { Role } from "../scenario/types.js";
import type { DnsEvent } from "./dnsLog.js";
import type { TlsrptEvent } from "./types.js";
import { parseLogLine, type PostfixEvent } from "./postfixLog.js";

/** A line of one provider's Postfix log, verbatim; `event` when it is one of the lines the parser knows. */
export interface LogEvidence {
  source: `${Role}-log`;
  line: string;
  event?: PostfixEvent;
}

/** A question the resolver answered, a validation failure or a policy fetch, from the dns container's log. */
export interface DnsEvidence {
  source: "dns-log";
  /** The harness's one-line account of the dns container's line (unbound's own lines are not for humans). */
  line: string;
  event: DnsEvent;
}

/** A datagram the sender's TLSRPT library sent to the harness's collector, verbatim, with what the harness read from it. */
export interface TlsrptEvidence {
  source: "tlsrpt";
  line: string;
  event: TlsrptEvent;
}

/** Witnesses whose lines the harness writes itself from what it read; nothing further is parsed from them. */
export type StatementSource =
  /** The wire's transcripts of the port-25 hop. */
  | "wire"
  /** `postqueue -j` of a provider. */
  | "queue"
  /** A mailbox read over IMAPS: the Received header, a non-delivery report. */
  | "mailbox"
  /** The SMTP server's answer to Alice's client, when it refused the message. */
  | "submission"
  /** The harness's own account: the retries it followed, the tally of every mailbox. */
  | "harness";

export interface StatementEvidence {
  source: StatementSource;
  line: string;
}

export type Evidence = LogEvidence | DnsEvidence | TlsrptEvidence | StatementEvidence;
export type EvidenceSource = Evidence["source"];

/** A line of `role`'s log: an event the harness already parsed, or a raw line, parsed here once. */
export function logEvidence(role: Role, read: PostfixEvent | string): LogEvidence {
  const event = typeof read === "string" ? parseLogLine(read) : read;
  const line = typeof read === "string" ? read : read.line;
  return event ? { source: `${role}-log`, line, event } : { source: `${role}-log`, line };
}

export function statement(source: StatementSource, line: string): StatementEvidence {
  return { source, line };
}

export function isLogEvidence(item: Evidence): item is LogEvidence {
  return item.source === "sender-log" || item.source === "receiver-log";
}

/** The Postfix events among the evidence, in order. */
export function postfixEvents(evidence: readonly Evidence[]): PostfixEvent[] {
  return evidence.filter(isLogEvidence).flatMap((item) => (item.event ? [item.event] : []));
}

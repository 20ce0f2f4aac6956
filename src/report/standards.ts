/**
 * The TLS standards a message can meet on its way (the TLS-Required header,
 * TLSRPT reports, REQUIRETLS), worded once for every report: what a
 * scenario expected of them and what the world showed. The console, JUnit,
 * HTML, explain and compare all print these lines, so each standard reads
 * the same wherever it appears.
 */
import { describeTlsrptEvent } from "../observe/tlsrpt.js";
import type { RequireTlsObservation, Observation } from "../observe/types.js";
import { formatMatcher } from "../judge/matchText.js";
import type { Expectation, RequireTlsExpectation, TlsrptExpectation } from "../scenario/types.js";

function yesNo(value: boolean, yes: string, no: string): string {
  return value ? yes : no;
}

/** e.g. "TLSRPT sts failure starttls-not-supported" (the shape a reporting domain's aggregate report groups by). */
function tlsrptExpected(e: TlsrptExpectation): string {
  return ["TLSRPT", e.policy, e.result, ...(e.failure !== undefined ? [e.failure] : [])].join(" ");
}

function requireTlsExpected(e: RequireTlsExpectation): string {
  const parts: string[] = [];
  if (e.requested !== undefined) parts.push(yesNo(e.requested, "requested", "not requested"));
  if (e.receiverAnnounced !== undefined) parts.push(yesNo(e.receiverAnnounced, "announced by the receiver", "not announced by the receiver"));
  if (e.tlsField !== undefined) parts.push(`sender logs tls=${e.tlsField}`);
  return `REQUIRETLS ${parts.join(", ")}`.trimEnd();
}

/** e.g. "REQUIRETLS requested, announced by the receiver, kept by the receiver, sender logged tls=dane/requiretls". */
export function describeRequireTls(o: RequireTlsObservation): string {
  const parts = [yesNo(o.requested, "requested", "not requested")];
  if (o.receiverAnnounced !== undefined) parts.push(yesNo(o.receiverAnnounced, "announced by the receiver", "not announced by the receiver"));
  if (o.policyViolated === true) parts.push("the sender's policy was violated: the server was not used");
  if (o.keptByReceiver !== undefined) parts.push(yesNo(o.keptByReceiver, "kept by the receiver", "not kept by the receiver"));
  parts.push(`sender logged tls=${o.tlsField}`);
  return `REQUIRETLS ${parts.join(", ")}`;
}

/** What a scenario expected of the standards, one short phrase each; empty when it expected nothing of them. */
export function expectedStandards(e: Expectation): string[] {
  const phrases: string[] = [];
  for (const [name, value] of Object.entries(e.headers ?? {})) phrases.push(`header ${name}: ${formatMatcher(value)}`);
  if (e.tlsrpt !== undefined) phrases.push(tlsrptExpected(e.tlsrpt));
  if (e.requireTls !== undefined) phrases.push(requireTlsExpected(e.requireTls));
  return phrases;
}

/** What the world showed of the standards, one line each; empty when none of them was observed. */
export function observedStandards(o: Observation): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(o.headers ?? {})) lines.push(`header ${name}: ${value} (as Bob's provider stored the message)`);
  for (const event of o.tlsrpt ?? []) lines.push(describeTlsrptEvent(event));
  if (o.requireTls !== undefined) lines.push(describeRequireTls(o.requireTls));
  return lines;
}

/**
 * A message's delivery attempts and the changes made between them (events),
 * worded once for every report: what a scenario expected of them and what
 * the sender's status lines showed. Console, JUnit, HTML and explain print
 * these lines.
 */
import type { Observation } from "../observe/types.js";
import { formatMatcher } from "../judge/matchText.js";
import type { Expectation } from "../scenario/types.js";

/** e.g. "attempts: deferred (TLS is required), sent" — empty when the scenario expects nothing of them. */
export function expectedAttempts(e: Expectation): string[] {
  if (!e.attempts) return [];
  return [`attempts: ${e.attempts.map((attempt) => (attempt.reason ? `${attempt.status} (${formatMatcher(attempt.reason)})` : attempt.status)).join(", ")}`];
}

/**
 * One line per change and per attempt, in time order:
 *   "then: Bob's provider starts Postfix"
 *   "attempt 2: sent over TLS: 250 2.0.0 Ok: queued as …"
 * Empty when the scenario followed one attempt only.
 */
export function observedAttempts(o: Observation): string[] {
  const lines: string[] = [];
  for (const attempt of o.attempts ?? []) {
    for (const change of attempt.after) lines.push(`${attempt.number === 1 ? "before" : "then"}: ${change}`);
    for (const retry of attempt.meanwhile ?? []) lines.push(`meanwhile, Postfix retried on its own: ${retry}`);
    const over = attempt.transport === undefined ? "" : attempt.transport === "tls" ? " over TLS" : " in plaintext";
    lines.push(`attempt ${attempt.number}: ${attempt.status}${over}: ${attempt.detail}`);
  }
  for (const skipped of o.eventsNotApplied ?? []) lines.push(`not applied, the message had settled: ${skipped}`);
  return lines;
}

/**
 * The diagnosis as support staff read it: what the input shows, what is
 * only probable, the shipped scenarios that reproduce it with their stories
 * and the fix beside them, and what to ask the customer.
 */
import type { Scenario } from "../scenario/types.js";
import type { Diagnosis } from "./diagnose.js";

export const NOT_RECOGNISED = "not a TLS problem I recognise";

/** The story's first sentence: enough to tell the scenarios apart. */
function firstSentence(story: string | undefined): string | undefined {
  const flat = story?.replace(/\s+/g, " ").trim();
  return flat ? (/^.*?[.!?](?=\s|$)/.exec(flat)?.[0] ?? flat) : undefined;
}

/** Each scenario with its story's opening; a matrix's cells share one story, said once. */
function scenarioLines(names: readonly string[], shipped: ReadonlyMap<string, Scenario>, mark: string): string[] {
  const told = new Set<string>();
  return names.flatMap((name) => {
    const scenario = shipped.get(name);
    const story = firstSentence(scenario?.story);
    const untold = story !== undefined && !told.has(story);
    if (story) told.add(story);
    return [`  ${mark} ${name}${scenario ? `  (${scenario.source.file})` : ""}`, ...(untold ? [`      ${story}`] : [])];
  });
}

export function formatDiagnosis(diagnosis: Diagnosis, shipped: ReadonlyMap<string, Scenario>): string {
  if (!diagnosis.recognised) {
    const read = diagnosis.facts.quotes;
    return [
      `${NOT_RECOGNISED}.`,
      ...(read.length > 0 ? ["", "Read from the input, without a TLS failure:", ...read.map((line) => `  - ${line}`)] : []),
      "",
      "If the customer reports a TLS problem, ask for the sender's log lines for this message (postfix/smtp, Exim's main log, or OpenSMTPD's session lines: its queue's \"Network error on destination MXs\" hides the cause, its \"mta error reason=\" line says it) or the bounce with its Diagnostic-Code.",
    ].join("\n") + "\n";
  }
  const { situation, detail, facts, shownBy, probably, ask, reproducedBy, fixedBy, alsoShows } = diagnosis;
  return [
    `Recognised: ${situation.title}.`,
    "",
    "The input shows:",
    ...shownBy.map((line) => `  > ${line}`),
    ...facts.quotes.map((line) => `  - ${line}`),
    ...(detail ? [`  - ${detail.says}`] : []),
    ...(probably.length > 0 ? ["", "Probably (inferred, not in the input):", ...probably.map((line) => `  - ${line}`)] : []),
    ...(alsoShows.length > 0 ? ["", "The input also shows:", ...alsoShows.map((other) => `  - ${other.title}`)] : []),
    "",
    "Shipped scenarios that reproduce it:",
    ...scenarioLines(reproducedBy, shipped, "✗"),
    "The fix beside it:",
    ...scenarioLines(fixedBy, shipped, "✓"),
    "",
    "Ask the customer for:",
    ...ask.map((line) => `  - ${line}`),
  ].join("\n") + "\n";
}

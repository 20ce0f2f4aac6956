/**
 * TLSRPT came with Postfix 3.10: a scenario that expects a TLSRPT report from
 * a sender pinned to an older release (or run with --postfix on one) cannot
 * pass, and is refused before anything starts. Whether a release has it is
 * read from its recorded parameter names (smtp_tlsrpt_enable, from
 * `postconf -d` of its image), not assumed from its number.
 */
import type { PostfixRelease } from "../core/releases.js";
import type { ScenarioProblem } from "./errors.js";
import { mtaOf } from "./levels.js";
import { releasesWith } from "./postfixNames.js";
import type { Scenario } from "./types.js";

export function tlsrptReleaseProblems(scenarios: readonly Scenario[], unpinned: PostfixRelease | undefined): ScenarioProblem[] {
  return scenarios.flatMap((scenario) => {
    const release = scenario.sender.postfix ?? unpinned;
    if (scenario.expect.tlsrpt === undefined || release === undefined || mtaOf(scenario.sender) !== "postfix") return [];
    if (releasesWith("smtp_tlsrpt_enable").includes(release)) return [];
    return [
      {
        file: scenario.source.file,
        line: scenario.source.line,
        field: "expect.tlsrpt",
        message: `the sender runs Postfix ${release}, which has no TLSRPT (smtp_tlsrpt_enable came with 3.10): pin sender.postfix to "3.10" or later`,
      },
    ];
  });
}

/** One line saying whether a scenario held, and if not, where it differed. */
import type { ScenarioResult } from "../report/types.js";

export function judgeSummary(result: ScenarioResult): string {
  if (result.error) return `FAIL (harness): ${result.error}`;
  if (result.verdict.passed) return "PASS: real Postfix did what the scenario expects.";
  return (
    "FAIL: " +
    result.verdict.differences.map((difference) => `${difference.field}: expected ${difference.expected}, observed ${difference.observed}`).join("; ")
  );
}

/** One line saying whether a scenario held, and if not, where it differed. */
import { scenarioPassed, type ScenarioResult } from "../core/result.js";

export function judgeSummary(result: ScenarioResult): string {
  if (result.error) return `FAIL (harness): ${result.error}`;
  if (scenarioPassed(result)) return "PASS: real Postfix did what the scenario expects.";
  return (
    "FAIL: " +
    result.verdict.differences.map((difference) => `${difference.field}: expected ${difference.expected}, observed ${difference.observed}`).join("; ")
  );
}

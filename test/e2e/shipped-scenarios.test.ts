/**
 * Every scenario shipped in scenarios/ holds against real Postfix, through
 * the same code path as `starttls-lab run`.
 */
import { expect } from "vitest";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { runScenarios, worldTest as test } from "../../src/vitest.js";
import { judgeSummary } from "../../src/judge/summary.js";

test("the shipped suite passes", async ({ world }) => {
  const scenarios = await loadScenarioFiles(["scenarios"]);
  const run = await runScenarios(scenarios, { world });
  const failures = run.results.filter((result) => !result.verdict.passed || result.error).map((result) => `${result.scenario.name}: ${judgeSummary(result)}`);
  expect(failures).toEqual([]);
  expect(run.results.length).toBe(scenarios.length);
}, 300_000);

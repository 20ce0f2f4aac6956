/**
 * Every scenario shipped in scenarios/ holds against real Postfix, through
 * the same code path as `starttls-lab run`, and the verdicts do not depend
 * on the order the scenarios run in.
 */
import { expect } from "vitest";
import { judgeSummary } from "../../src/judge/summary.js";
import type { RunResult } from "../../src/report/types.js";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { shuffled } from "../../src/scenario/order.js";
import { runScenarios, worldTest as test } from "../../src/vitest.js";

function verdictsByName(run: RunResult): Record<string, string> {
  return Object.fromEntries(run.results.map((result) => [result.scenario.name, judgeSummary(result)]));
}

test("the shipped suite passes, in file order and shuffled", async ({ world }) => {
  const scenarios = await loadScenarioFiles(["scenarios"]);
  const inOrder = await runScenarios(scenarios, { world });
  const failures = inOrder.results.filter((result) => !result.verdict.passed || result.error).map((result) => `${result.scenario.name}: ${judgeSummary(result)}`);
  expect(failures).toEqual([]);
  expect(inOrder.results.length).toBe(scenarios.length);

  const seed = 20261127;
  const reordered = await runScenarios(shuffled(scenarios, seed), { world });
  expect(reordered.results.map((result) => result.scenario.name)).not.toEqual(scenarios.map((scenario) => scenario.name));
  expect(verdictsByName(reordered)).toEqual(verdictsByName(inOrder));
}, 300_000);

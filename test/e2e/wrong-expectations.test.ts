/**
 * Honest results: a scenario passes only because real Postfix did what it
 * expects. For every kind of expectation, a scenario that expects the wrong
 * thing must FAIL, on exactly that field.
 */
import path from "node:path";
import { expect } from "vitest";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { runScenarios, worldTest as test } from "../../src/vitest.js";

const FILE = path.join("test", "fixtures", "scenarios", "wrong", "every-kind-of-expectation.yaml");

test("every kind of wrong expectation fails on its own field", async ({ world }) => {
  const scenarios = await loadScenarioFiles([FILE]);
  expect(scenarios.length).toBe(23);
  const run = await runScenarios(scenarios, { world });

  for (const result of run.results) {
    const field = result.scenario.name.split(":")[0];
    expect(result.error, result.scenario.name).toBeUndefined();
    expect(result.verdict.passed, result.scenario.name).toBe(false);
    expect(
      result.verdict.differences.map((difference) => difference.field),
      result.scenario.name,
    ).toEqual([field]);
  }
});

/**
 * Every scenario shipped in scenarios/ holds against real Postfix, through
 * the same code path as `starttls-lab run`, and the verdicts do not depend
 * on the order the scenarios run in.
 */
import { expect } from "vitest";
import { judgeSummary } from "../../src/judge/summary.js";
import type { RunResult } from "../../src/core/result.js";
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

  // "Encrypted" means encrypted: for every shipped delivery, what the wire saw
  // agrees with the transport the sender and the Received header reported.
  const deliveries = inOrder.results.filter((result) => result.observation?.outcome === "delivered");
  expect(deliveries.length).toBeGreaterThan(30);
  const disagreements = deliveries
    .filter((result) => result.observation!.wire?.plaintextBody !== (result.observation!.transport === "plaintext"))
    .map((result) => `${result.scenario.name}: transport ${result.observation!.transport}, plaintextBody ${result.observation!.wire?.plaintextBody}`);
  expect(disagreements).toEqual([]);
  for (const result of deliveries) expect(result.observation!.wire!.hops.length, result.scenario.name).toBeGreaterThan(0);

  const seed = 20261127;
  const reordered = await runScenarios(shuffled(scenarios, seed), { world });
  expect(reordered.results.map((result) => result.scenario.name)).not.toEqual(scenarios.map((scenario) => scenario.name));
  expect(verdictsByName(reordered)).toEqual(verdictsByName(inOrder));
}, 300_000);

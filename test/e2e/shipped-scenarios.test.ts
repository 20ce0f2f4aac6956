/**
 * Every scenario shipped in scenarios/ holds against real servers (Postfix,
 * and Exim or OpenSMTPD where a scenario chooses them), through
 * the same code path as `starttls-lab run`, on the default release (3.10)
 * and on 3.7; the 3.7 pass runs shuffled, so the verdicts are also shown
 * not to depend on the order the scenarios run in.
 */
import { expect, test } from "vitest";
import { judgeSummary } from "../../src/judge/summary.js";
import type { PostfixRelease } from "../../src/core/releases.js";
import type { RunResult } from "../../src/core/result.js";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { shuffled } from "../../src/scenario/order.js";
import type { Scenario } from "../../src/scenario/types.js";
import { runScenarios } from "../../src/vitest.js";

/** Runs the suite with every unpinned provider at `postfix` and checks what must hold on any release. */
async function expectSuitePasses(scenarios: Scenario[], postfix: PostfixRelease): Promise<RunResult> {
  const run = await runScenarios(scenarios, { postfix, workers: 2 });
  const failures = run.results.filter((result) => !result.verdict.passed || result.error).map((result) => `${result.scenario.name}: ${judgeSummary(result)}`);
  expect(failures, `Postfix ${postfix}`).toEqual([]);
  expect(run.results.map((result) => result.scenario.name)).toEqual(scenarios.map((scenario) => scenario.name));

  // What each result ran on is read from its containers: the MTA the scenario chose, and an unpinned Postfix really ran `postfix`.
  for (const result of run.results) {
    for (const role of ["sender", "receiver"] as const) {
      const mta = result.scenario[role].mta ?? "postfix";
      expect(result.world?.[role].mta, `${result.scenario.name}: ${role}`).toBe(mta);
      if (mta !== "postfix") continue;
      expect(result.world?.[role].version, `${result.scenario.name}: ${role}`).toMatch(new RegExp(`^${(result.scenario[role].postfix ?? postfix).replace(".", "\\.")}\\.`));
    }
  }

  // "Encrypted" means encrypted: for every shipped delivery, what the wire saw
  // agrees with the transport the sender and the Received header reported.
  const deliveries = run.results.filter((result) => result.observation?.outcome === "delivered");
  expect(deliveries.length).toBeGreaterThan(30);
  const disagreements = deliveries
    .filter((result) => result.observation!.wire?.plaintextBody !== (result.observation!.transport === "plaintext"))
    .map((result) => `${result.scenario.name}: transport ${result.observation!.transport}, plaintextBody ${result.observation!.wire?.plaintextBody}`);
  expect(disagreements).toEqual([]);
  for (const result of deliveries) expect(result.observation!.wire!.hops.length, result.scenario.name).toBeGreaterThan(0);
  return run;
}

test("the shipped suite passes on Postfix 3.10 in file order", async () => {
  await expectSuitePasses(await loadScenarioFiles(["scenarios"]), "3.10");
}, 900_000);

test("the shipped suite passes on Postfix 3.7, shuffled", async () => {
  const scenarios = await loadScenarioFiles(["scenarios"]);
  const reordered = shuffled(scenarios, 20261127);
  expect(reordered.map((scenario) => scenario.name)).not.toEqual(scenarios.map((scenario) => scenario.name));
  await expectSuitePasses(reordered, "3.7");
}, 900_000);

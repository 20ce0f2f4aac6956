/**
 * What must hold of a run of shipped scenarios, whichever part of the suite
 * it is: every scenario passed, each ran on the MTA and release it asked for
 * (read from its containers), and "encrypted" means encrypted on the wire.
 */
import { expect } from "vitest";
import { DEFAULT_POSTFIX_RELEASE } from "../../../src/core/releases.js";
import { loadScenarioFiles } from "../../../src/scenario/load.js";
import { mtaOf } from "../../../src/scenario/levels.js";
import type { Scenario } from "../../../src/scenario/types.js";
import { runScenarios } from "../../../src/vitest.js";
import { expectEachToFailOnItsField, expectEachToPass } from "./results.js";
import { worldPool } from "./worldPool.js";

/**
 * Runs these scenarios, each on its pinned release or the default, and checks
 * what must hold of every run; `wrong` scenarios run in the same worlds and
 * must each fail on the field their name starts with.
 */
export async function expectSuitePasses(scenarios: Scenario[], minimumDeliveries: number, wrong: Scenario[] = []): Promise<void> {
  const postfix = DEFAULT_POSTFIX_RELEASE;
  const all = await runScenarios([...scenarios, ...wrong], { postfix, workers: 2, worlds: worldPool });
  // Each wrong scenario ran on the MTAs it chose.
  const wrongResults = all.results.slice(scenarios.length);
  expect(wrongResults.map((result) => [result.world?.sender.mta, result.world?.receiver.mta])).toEqual(wrong.map((scenario) => [mtaOf(scenario.sender), mtaOf(scenario.receiver)]));
  expectEachToFailOnItsField(wrongResults);
  const results = all.results.slice(0, scenarios.length);
  expectEachToPass(results, `Postfix ${postfix}`);
  expect(results.map((result) => result.scenario.name)).toEqual(scenarios.map((scenario) => scenario.name));

  // What each result ran on is read from its containers: the MTA the scenario chose, and an unpinned Postfix really ran `postfix`.
  for (const result of results) {
    for (const role of ["sender", "receiver"] as const) {
      const mta = mtaOf(result.scenario[role]);
      expect(result.world?.[role].mta, `${result.scenario.name}: ${role}`).toBe(mta);
      if (mta !== "postfix") continue;
      expect(result.world?.[role].version, `${result.scenario.name}: ${role}`).toMatch(new RegExp(`^${(result.scenario[role].postfix ?? postfix).replace(".", "\\.")}\\.`));
    }
  }

  // "Encrypted" means encrypted: for every shipped delivery, what the wire saw
  // agrees with the transport the sender and the Received header reported.
  const deliveries = results.filter((result) => result.observation?.outcome === "delivered");
  expect(deliveries.length).toBeGreaterThanOrEqual(minimumDeliveries);
  const disagreements = deliveries
    .filter((result) => result.observation!.wire?.plaintextBody !== (result.observation!.transport === "plaintext"))
    .map((result) => `${result.scenario.name}: transport ${result.observation!.transport}, plaintextBody ${result.observation!.wire?.plaintextBody}`);
  expect(disagreements).toEqual([]);
  for (const result of deliveries) expect(result.observation!.wire!.hops.length, result.scenario.name).toBeGreaterThan(0);
}

/**
 * The shipped scenarios in two parts that need no world in common, so that
 * two test files can run them side by side: those where both providers run
 * Postfix, and those where either runs another MTA.
 */
export async function shippedScenarios(part: "postfix" | "other-mtas"): Promise<Scenario[]> {
  const scenarios = await loadScenarioFiles(["scenarios"]);
  const postfixOnly = (scenario: Scenario) => mtaOf(scenario.sender) === "postfix" && mtaOf(scenario.receiver) === "postfix";
  return scenarios.filter((scenario) => postfixOnly(scenario) === (part === "postfix"));
}

/**
 * Honest results: a scenario passes only because real Postfix did what it
 * expects. For every kind of expectation, a scenario that expects the wrong
 * thing must FAIL, on exactly that field.
 */
import path from "node:path";
import { expect } from "vitest";
import { loadScenarioFiles, loadScenarioText } from "../../src/scenario/load.js";
import { runScenario } from "../../src/runner.js";
import { runScenarios } from "../../src/vitest.js";
import { expectEachToFailOnItsField } from "./helpers/results.js";
import { pooledWorldTest as test, worldPool } from "./helpers/worldPool.js";

const FILE = path.join("test", "fixtures", "scenarios", "wrong", "every-kind-of-expectation.yaml");
const RELEASES = path.join("test", "fixtures", "scenarios", "wrong", "releases.yaml");

test("every kind of wrong expectation fails on its own field", async ({ world }) => {
  const scenarios = await loadScenarioFiles([FILE]);
  expect(scenarios.length).toBe(23);
  const run = await runScenarios(scenarios, { world });
  expectEachToFailOnItsField(run.results);
});

// Pinned releases need worlds of their own shape (3.10 ↔ 3.10, 3.7 → 3.10, 3.10 → 3.7): the runner starts them.
test("wrong expectations about releases and key exchange fail on their own field", async () => {
  const scenarios = await loadScenarioFiles([RELEASES]);
  expect(scenarios.length).toBe(4);
  const run = await runScenarios(scenarios, { workers: 1, worlds: worldPool });
  expect(run.results.map((result) => Object.values(result.world ?? {}).map((provider) => provider.version.split(".").slice(0, 2).join(".")))).toEqual([
    ["3.10", "3.10"],
    ["3.7", "3.10"],
    ["3.10", "3.10"],
    ["3.10", "3.7"],
  ]);
  expectEachToFailOnItsField(run.results);
}, 600_000);

// Wrong expectations about Exim and OpenSMTPD run in the shipped suite's worlds of those MTAs: shipped-other-mtas.test.ts.

// A world runs one MTA per role: a scenario for another is refused before anything changes, never run on the wrong server.
test("a scenario that chooses Exim is not applied to a world whose sender runs Postfix", async ({ world }) => {
  const [scenario] = loadScenarioText("name: Exim sender\nsender: { mta: exim, level: may }\nexpect: { outcome: delivered, transport: tls }\n", "mta.yaml");
  const result = await runScenario(world, scenario!);
  expect(result.observation).toBeUndefined();
  expect(result.error).toBe('"Exim sender" needs Exim as the sender, and this world\'s sender runs Postfix: `starttls-lab run` starts a world of each scenario\'s shape');
});

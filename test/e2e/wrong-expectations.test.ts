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
import { pooledWorldTest as test, worldPool } from "./helpers/worldPool.js";

const FILE = path.join("test", "fixtures", "scenarios", "wrong", "every-kind-of-expectation.yaml");
const RELEASES = path.join("test", "fixtures", "scenarios", "wrong", "releases.yaml");
const OTHER_MTAS = path.join("test", "fixtures", "scenarios", "wrong", "other-mtas.yaml");

/** Each scenario's name starts with the one field it expects wrongly. */
function expectEachToFailOnItsField(results: Awaited<ReturnType<typeof runScenarios>>["results"]): void {
  for (const result of results) {
    const field = result.scenario.name.split(":")[0];
    expect(result.error, result.scenario.name).toBeUndefined();
    expect(result.verdict.passed, result.scenario.name).toBe(false);
    expect(
      result.verdict.differences.map((difference) => difference.field),
      result.scenario.name,
    ).toEqual([field]);
  }
}

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

// Exim and OpenSMTPD are read by their own log readers and Exim's Received header: each reading must be able to say no.
test("wrong expectations about Exim and OpenSMTPD fail on their own field", async () => {
  const scenarios = await loadScenarioFiles([OTHER_MTAS]);
  expect(scenarios.length).toBe(10);
  const run = await runScenarios(scenarios, { workers: 2, worlds: worldPool });
  expect(run.results.map((result) => [result.world?.sender.mta, result.world?.receiver.mta])).toEqual(
    scenarios.map((scenario) => [scenario.sender.mta ?? "postfix", scenario.receiver.mta ?? "postfix"]),
  );
  expectEachToFailOnItsField(run.results);
}, 600_000);

// A world runs one MTA per role: a scenario for another is refused before anything changes, never run on the wrong server.
test("a scenario that chooses Exim is not applied to a world whose sender runs Postfix", async ({ world }) => {
  const [scenario] = loadScenarioText("name: Exim sender\nsender: { mta: exim, level: may }\nexpect: { outcome: delivered, transport: tls }\n", "mta.yaml");
  const result = await runScenario(world, scenario!);
  expect(result.observation).toBeUndefined();
  expect(result.error).toBe('"Exim sender" needs Exim as the sender, and this world\'s sender runs Postfix: `starttls-lab run` starts a world of each scenario\'s shape');
});

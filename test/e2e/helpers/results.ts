/**
 * Reading a run's results in an e2e test: one scenario by part of its
 * name, and the evidence lines of one witness.
 */
import { expect } from "vitest";
import type { ScenarioResult } from "../../../src/core/result.js";
import { judgeSummary } from "../../../src/judge/summary.js";
import type { Evidence } from "../../../src/observe/evidence.js";
import { loadScenarioFiles } from "../../../src/scenario/load.js";
import { runScenarios } from "../../../src/vitest.js";
import { worldPool } from "./worldPool.js";

/** The evidence lines of one witness, in order. */
export const lines = (evidence: readonly Evidence[], source: Evidence["source"]): string[] =>
  evidence.filter((item) => item.source === source).map((item) => item.line);

/** The one result whose scenario name contains `part` (fails the test when there is not exactly one). */
export function named(results: readonly ScenarioResult[], part: string): ScenarioResult {
  const found = results.filter((result) => result.scenario.name.includes(part));
  expect(found, part).toHaveLength(1);
  return found[0]!;
}

/**
 * Runs a shipped file and its deliberately wrong twin in one run (the wrong
 * ones reuse the shipped ones' worlds, borrowed from the pool): every shipped scenario must pass,
 * every wrong one must fail on exactly the field its name starts with
 * ("attempts.2.status: …").
 */
export async function runShippedAndWrong(shippedFile: string, wrongFile: string, counts: { shipped: number; wrong: number }): Promise<{ results: ScenarioResult[]; wrongResults: ScenarioResult[] }> {
  const shipped = await loadScenarioFiles([shippedFile]);
  const wrong = await loadScenarioFiles([wrongFile]);
  expect(shipped).toHaveLength(counts.shipped);
  expect(wrong).toHaveLength(counts.wrong);
  const run = await runScenarios([...shipped, ...wrong], { workers: 1, worlds: worldPool });
  const results = run.results.filter((result) => result.scenario.source.file === shippedFile);
  const wrongResults = run.results.filter((result) => result.scenario.source.file === wrongFile);
  expectEachToPass(results);
  expectEachToFailOnItsField(wrongResults);
  return { results, wrongResults };
}

/** Every one of these scenarios ran and met its expectation; the message lists each that did not, with the judge's summary. */
export function expectEachToPass(results: readonly ScenarioResult[], label?: string): void {
  const failures = results.filter((result) => !result.verdict.passed || result.error).map((result) => `${result.scenario.name}: ${judgeSummary(result)}`);
  expect(failures, label).toEqual([]);
}

/** Each of these deliberately wrong scenarios ran, and failed on exactly the one field its name starts with ("tls.trust: …"). */
export function expectEachToFailOnItsField(results: readonly ScenarioResult[]): void {
  for (const result of results) {
    expect(result.error, result.scenario.name).toBeUndefined();
    expect(result.verdict.passed, result.scenario.name).toBe(false);
    expect(result.verdict.differences.map((difference) => difference.field), result.scenario.name).toEqual([result.scenario.name.split(":")[0]]);
  }
}

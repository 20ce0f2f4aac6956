/**
 * Reading a run's results in an e2e test: one scenario by part of its
 * name, and the evidence lines of one witness.
 */
import { expect } from "vitest";
import type { ScenarioResult } from "../../../src/core/result.js";
import type { Evidence } from "../../../src/observe/evidence.js";

/** The evidence lines of one witness, in order. */
export const lines = (evidence: readonly Evidence[], source: Evidence["source"]): string[] =>
  evidence.filter((item) => item.source === source).map((item) => item.line);

/** The one result whose scenario name contains `part` (fails the test when there is not exactly one). */
export function named(results: readonly ScenarioResult[], part: string): ScenarioResult {
  const found = results.filter((result) => result.scenario.name.includes(part));
  expect(found, part).toHaveLength(1);
  return found[0]!;
}

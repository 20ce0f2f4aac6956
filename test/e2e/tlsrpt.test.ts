/**
 * TLSRPT on real Postfix 3.10: the shipped stories pass with the events the
 * sender's TLSRPT library really sent to the harness's collector, and a
 * scenario that expects the wrong report fails, on the field tlsrpt alone.
 */
import path from "node:path";
import { expect } from "vitest";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { runScenarios } from "../../src/vitest.js";
import { test } from "vitest";

const SHIPPED = path.join("scenarios", "tlsrpt.yaml");
const WRONG = path.join("test", "fixtures", "scenarios", "wrong", "tlsrpt.yaml");

test("TLSRPT stories pass, each with its datagram and Postfix's line as evidence; wrong reports fail on tlsrpt", async () => {
  const shipped = await loadScenarioFiles([SHIPPED]);
  const wrong = await loadScenarioFiles([WRONG]);
  expect(wrong.length).toBe(3);
  // Every scenario pins 3.10 on both ends: one world runs them all.
  const run = await runScenarios([...shipped, ...wrong], { workers: 1 });

  const shippedResults = run.results.slice(0, shipped.length);
  for (const result of shippedResults) {
    expect(result.error, result.scenario.name).toBeUndefined();
    expect(result.verdict, result.scenario.name).toEqual({ passed: true, differences: [] });
    const reported = result.observation?.tlsrpt ?? [];
    expect(reported.length, result.scenario.name).toBe(1);
    // Each event stands on both witnesses: the collector's datagram and Postfix's own line.
    const evidence = result.observation?.evidence ?? [];
    expect(evidence.filter((item) => item.source === "tlsrpt").map((item) => JSON.parse(item.line).d)).toEqual(["iroco.test"]);
    expect(evidence.some((item) => item.source === "sender-log" && / TLSRPT: status=(success|failure), domain=iroco\.test, /.test(item.line))).toBe(true);
  }
  const stripped = shippedResults.find((result) => result.scenario.wire === "strip-starttls")!;
  expect(stripped.observation?.tlsrpt?.[0]).toMatchObject({ policyType: "sts", receivingMx: "mx.iroco.test", mxHosts: ["mx.iroco.test"] });
  expect(stripped.observation?.tlsrpt?.[0]?.receivingMxHelo).not.toContain("STARTTLS");

  for (const result of run.results.slice(shipped.length)) {
    expect(result.error, result.scenario.name).toBeUndefined();
    expect(result.verdict.passed, result.scenario.name).toBe(false);
    expect(result.verdict.differences.map((difference) => difference.field), result.scenario.name).toEqual(["tlsrpt"]);
  }
}, 600_000);

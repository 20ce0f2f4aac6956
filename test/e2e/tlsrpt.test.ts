/**
 * TLSRPT on real Postfix 3.10: the shipped stories pass with the events the
 * sender's TLSRPT library really sent to the harness's collector, and a
 * scenario that expects the wrong report fails, on the field tlsrpt alone.
 */
import path from "node:path";
import { expect } from "vitest";
import { loadScenarioFiles, loadScenarioText } from "../../src/scenario/load.js";
import { runScenarios } from "../../src/vitest.js";
import { worldPool } from "./helpers/worldPool.js";
import { test } from "vitest";

const SHIPPED = path.join("scenarios", "tlsrpt.yaml");
const WRONG = path.join("test", "fixtures", "scenarios", "wrong", "tlsrpt.yaml");

test("TLSRPT stories pass, each with its datagram and Postfix's line as evidence; wrong reports fail on tlsrpt", async () => {
  const shipped = await loadScenarioFiles([SHIPPED]);
  const wrong = await loadScenarioFiles([WRONG]);
  expect(wrong.length).toBe(3);
  // Every scenario pins 3.10 on both ends: one world runs them all.
  const run = await runScenarios([...shipped, ...wrong], { workers: 1, worlds: worldPool });

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

// Postfix 3.7 has no TLSRPT. A pinned 3.7 sender is refused when loaded (unit tests); an unpinned one
// run in a 3.7 world cannot be caught there, so the run says why instead of judging an empty report.
test("a scenario expecting a TLSRPT report from a 3.7 sender fails with the reason, and 3.7 keeps its MTA-STS answers", async () => {
  const scenarios = loadScenarioText(
    `
name: "expects a report from 3.7"
sender: { postconf: { smtp_tls_security_level: may } }
dns: { tlsrpt: true, mtaSts: { mode: enforce } }
expect: { outcome: delivered, transport: tls, tlsrpt: { policy: sts, result: success } }
---
name: "publishes TLSRPT, expects nothing of it"
sender: { postconf: { smtp_tls_security_level: may } }
dns: { tlsrpt: true, mtaSts: { mode: enforce } }
expect: { outcome: delivered, transport: tls, tls: { trust: verified } }
`,
    "inline.yaml",
  );
  const run = await runScenarios(scenarios, { postfix: "3.7", workers: 1, worlds: worldPool });
  const [expecting, silent] = run.results;
  expect(expecting?.error).toContain("expect.tlsrpt: the sender's Postfix is built without TLSRPT");
  // The MTA-STS resolver's answer to a 3.7 sender carries no TLSRPT attributes, which 3.7 would refuse.
  expect(silent?.verdict, silent?.error).toEqual({ passed: true, differences: [] });
  expect(silent?.observation?.tlsrpt).toBeUndefined();
}, 600_000);

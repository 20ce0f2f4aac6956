/**
 * `starttls-lab compare` against real Postfix 3.7 and 3.10 servers, on
 * scenarios whose results really depend on the release: what it prints,
 * its JSON report and its exit code are contracts.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { toComparisonJson } from "../../src/report/compare.js";
import { runCli } from "./helpers/cli.js";

const FIXTURE = "test/fixtures/scenarios/compare/releases.yaml";
let reports: string;

beforeAll(async () => {
  reports = await mkdtemp(path.join(os.tmpdir(), "starttls-lab-compare-"));
});
afterAll(async () => {
  await rm(reports, { recursive: true, force: true });
});

describe("compare --postfix 3.7 --postfix 3.10", () => {
  test("names what differs, with each release's value, lists the pinned scenario once, and exits 1", async () => {
    const json = path.join(reports, "compare.json");
    const html = path.join(reports, "compare.html");
    const result = await runCli(["compare", "--postfix", "3.7", "--postfix", "3.10", FIXTURE, "--report", `json=${json}`, "--report", `html=${html}`, "--no-color"]);
    expect(result.code, result.stderr).toBe(1);

    const report = JSON.parse(await readFile(json, "utf8")) as ReturnType<typeof toComparisonJson>;
    // The versions come from the running containers, not from the release names.
    expect(report.releases.map(({ release, world }) => [release, world?.sender.version, world?.sender.tls.split(" ").slice(0, 2).join(" ")])).toEqual([
      ["3.7", "3.7.11", "OpenSSL 3.0.20"],
      ["3.10", "3.10.13", "OpenSSL 3.5.9"],
    ]);
    const byName = Object.fromEntries(report.scenarios.map((scenario) => [scenario.name, scenario]));
    // OpenSSL 3.0 has no ML-KEM: 3.7 falls back to X25519, 3.10 uses the hybrid both sides list.
    expect(byName["the hybrid group listed on both sides"]!.differences).toEqual([
      { field: "verdict", values: ["failed", "passed"] },
      { field: "tls.keyExchange", values: ["x25519", "x25519mlkem768"] },
    ]);
    // Postfix 3.9+ on OpenSSL 3.2+ asks for a raw public key under DANE 3 1 1: no certificate, no name.
    expect(byName["DANE 3 1 1: what the receiver presents"]!.differences).toEqual([{ field: "tls.peerName", values: ["mx.iroco.test", "(none)"] }]);
    expect(byName["a strict sender, a receiver without STARTTLS"]!.differences).toEqual([]);
    expect(byName["a 3.7 sender to a 3.10 receiver"]).toMatchObject({ pinned: "sender Postfix 3.7, receiver Postfix 3.10", passed: [true], differences: [] });
    expect(report.summary).toEqual({ scenarios: 4, differing: 2, pinned: 1 });

    expect(result.stdout).toContain("≠ the hybrid group listed on both sides (test/fixtures/scenarios/compare/releases.yaml)");
    expect(result.stdout).toMatch(/tls\.keyExchange\s+3\.7: x25519 \| 3\.10: x25519mlkem768/);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("4 scenarios: 2 differ, 1 the same, 1 pinned");
    expect(await readFile(html, "utf8")).toContain("<td>tls.peerName</td><td>mx.iroco.test</td><td>(none)</td>");
  }, 900_000);

  test("exits 0 when nothing differs", async () => {
    const result = await runCli(["compare", "--postfix", "3.7", "--postfix", "3.10", FIXTURE, "--only", "strict sender", "--no-color"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("1 scenarios: 0 differ, 1 the same, 0 pinned");
  }, 600_000);
});

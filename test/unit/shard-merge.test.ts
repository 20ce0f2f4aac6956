/**
 * Large suites across machines: `run --shard K/N` splits the scenarios the
 * same way everywhere, each in exactly one shard, and `merge` puts the
 * shards' JSON reports back into the report one machine would have written.
 */
import { describe, expect, it } from "vitest";
import type { RunResult } from "../../src/core/result.js";
import { toHtmlReport } from "../../src/report/html.js";
import { toJsonReport, type JsonReport } from "../../src/report/json.js";
import { toJunitXml } from "../../src/report/junit.js";
import { mergeReports, MergeError } from "../../src/report/merge.js";
import { orderByState } from "../../src/scenario/order.js";
import { parseShard, scenariosOfShard, ShardError } from "../../src/scenario/shard.js";
import type { Scenario } from "../../src/scenario/types.js";
import { erroring, failing, passing, scenario } from "./report-fixtures.js";

/** 23 scenarios over three files, as a loader would give them. */
function suite(): Scenario[] {
  return Array.from({ length: 23 }, (_, i) => scenario(`scenario ${String(i).padStart(2, "0")}`, `scenarios/${["a", "b", "c"][i % 3]}.yaml`, { outcome: "delivered", transport: "tls" }, i + 1));
}

describe("--shard K/N", () => {
  it("reads K/N and refuses what is not a shard", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    for (const text of ["0/3", "4/3", "1/0", "1", "a/b", "1/2/3"]) expect(() => parseShard(text), text).toThrow(ShardError);
  });

  it("puts every scenario in exactly one shard, the shards within one of each other", () => {
    const scenarios = suite();
    for (const count of [1, 2, 3, 5, 30]) {
      const shards = Array.from({ length: count }, (_, k) => scenariosOfShard(scenarios, { index: k + 1, count }));
      const names = shards.flat().map((s) => s.name);
      expect(names.sort()).toEqual(scenarios.map((s) => s.name).sort());
      const sizes = shards.map((shard) => shard.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it("splits the same way whatever order the scenarios were loaded in", () => {
    const scenarios = suite();
    const reversed = [...scenarios].reverse();
    const names = (list: Scenario[]) => list.map((s) => s.name).sort();
    expect(names(scenariosOfShard(reversed, { index: 2, count: 3 }))).toEqual(names(scenariosOfShard(scenarios, { index: 2, count: 3 })));
  });
});

describe("order by state", () => {
  it("keeps every scenario and puts those in the same state next to each other", () => {
    const base = suite().slice(0, 6);
    const expired = (s: Scenario): Scenario => ({ ...s, receiver: { ...s.receiver, certificate: "expired" } });
    const mixed = base.map((s, i) => (i % 2 === 0 ? expired(s) : s));
    const ordered = orderByState(mixed);
    expect(ordered.map((s) => s.name).sort()).toEqual(mixed.map((s) => s.name).sort());
    expect(ordered.map((s) => s.receiver.certificate)).toEqual(["expired", "expired", "expired", "valid", "valid", "valid"]);
    expect(orderByState(mixed)).toEqual(ordered);
  });
});

describe("merge", () => {
  // What one machine's run would report: the runner's order.
  const order = orderByState([passing, failing, erroring].map((r) => r.scenario));
  const single: RunResult = { results: order.map((s) => [passing, failing, erroring].find((r) => r.scenario === s)!), durationMs: 41_000 };
  const json = JSON.parse(JSON.stringify(toJsonReport(single))) as JsonReport;
  const shardReport = (k: number): JsonReport => {
    const names = new Set(scenariosOfShard(single.results.map((r) => r.scenario), { index: k, count: 2 }).map((s) => s.name));
    return { scenarios: json.scenarios.filter((s) => names.has(s.name)), summary: json.summary };
  };

  it("gives back the single run's JSON, JUnit and HTML reports from its shards, whichever shard comes first", () => {
    for (const files of [[1, 2], [2, 1]]) {
      const merged = mergeReports(files.map((k) => ({ file: `shard-${k}.json`, report: shardReport(k) })));
      expect(toJsonReport(merged)).toEqual(json);
      expect(toJunitXml(merged)).toBe(toJunitXml(single));
      expect(toHtmlReport(merged)).toBe(toHtmlReport(single));
    }
  });

  it("refuses a scenario that two shards both ran", () => {
    expect(() => mergeReports([{ file: "a.json", report: json }, { file: "b.json", report: shardReport(1) }])).toThrow(MergeError);
  });
});

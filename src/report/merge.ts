/**
 * `starttls-lab merge`: the JSON reports of the shards of one run (`run
 * --shard K/N` on N machines) put back together as the run a single machine
 * would have made: every scenario once, in the order that run gives them
 * (files in order, then nearest state first), from which the JSON, JUnit
 * and HTML reports are written as usual.
 */
import { readFile } from "node:fs/promises";
import type { RunResult, ScenarioResult } from "../core/result.js";
import { byLoadOrder, orderByState } from "../scenario/order.js";
import { asJsonReport, scenarioResultFromJson, type JsonReport } from "./json.js";

export class MergeError extends Error {
  override name = "MergeError";
}

/**
 * One run from the shards' reports. A scenario in two shards is an error
 * (the shards were not of one split); the run's duration is the longest
 * shard's, since shards run side by side.
 */
export function mergeReports(reports: ReadonlyArray<{ file: string; report: JsonReport }>): RunResult {
  const seen = new Map<string, string>();
  const results: ScenarioResult[] = [];
  for (const { file, report } of reports) {
    for (const json of report.scenarios) {
      const earlier = seen.get(json.name);
      if (earlier !== undefined) throw new MergeError(`scenario "${json.name}" is in both ${earlier} and ${file}: these are not shards of one run`);
      seen.set(json.name, file);
      results.push(scenarioResultFromJson(json));
    }
  }
  const byScenario = new Map(results.map((result) => [result.scenario, result]));
  const ordered = orderByState(results.map((result) => result.scenario).sort(byLoadOrder)).map((scenario) => byScenario.get(scenario)!);
  return { results: ordered, durationMs: Math.max(0, ...reports.map(({ report }) => report.summary.durationMs)) };
}

export async function readShardReports(files: readonly string[]): Promise<Array<{ file: string; report: JsonReport }>> {
  return Promise.all(
    files.map(async (file) => {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw new MergeError(`cannot read ${file}: ${(error as Error).message}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new MergeError(`${file}: not JSON (${(error as Error).message})`);
      }
      try {
        return { file, report: asJsonReport(parsed, file) };
      } catch (error) {
        throw new MergeError((error as Error).message);
      }
    }),
  );
}

/**
 * `npm run bench`: how fast the harness is, measured, never asserted.
 * Prints machine-readable figures (`name=value`, one per line) for the
 * shipped suite on one shared world, side by side with the naive way (a
 * fresh world for every scenario) in the same run, and with two worlds.
 * Progress goes to stderr, figures to stdout.
 */
import os from "node:os";
import { runScenario, runScenarios } from "./runner.js";
import { scenarioPassed, type ScenarioPhases, type ScenarioResult } from "./core/result.js";
import { loadScenarioFiles } from "./scenario/load.js";
import { MailWorld } from "./world/world.js";

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const median = (values: number[]) => quantile(values, 0.5);

function figure(name: string, value: number | string): void {
  process.stdout.write(`${name}=${typeof value === "number" ? Math.round(value) : value}\n`);
}

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

function verdicts(results: ScenarioResult[]): string[] {
  return results.map((result) => `${result.scenario.name}: ${scenarioPassed(result) ? "pass" : "fail"}`);
}

async function main(): Promise<void> {
  const paths = process.argv.slice(2);
  const scenarios = await loadScenarioFiles(paths.length > 0 ? paths : ["scenarios"]);
  figure("# machine", `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  figure("scenarios", scenarios.length);

  progress("cold start (images present, no container running)");
  const cold = await timed(() => MailWorld.start());
  figure("cold_start_ms", cold.ms);
  await cold.value.stop();

  progress("warm start (same process, second world)");
  const warm = await timed(() => MailWorld.start());
  figure("warm_start_ms", warm.ms);

  progress(`shared world: ${scenarios.length} scenarios`);
  const perScenario: ScenarioResult[] = [];
  for (const scenario of scenarios) perScenario.push(await runScenario(warm.value, scenario));
  await warm.value.stop();
  const durations = perScenario.map((result) => result.durationMs);
  figure("scenario_median_ms", median(durations));
  figure("scenario_p95_ms", quantile(durations, 0.95));
  for (const phase of ["applyMs", "submitMs", "relayMs", "observeMs"] as Array<keyof ScenarioPhases>) {
    const values = perScenario.flatMap((result) => (result.phases ? [result.phases[phase]] : []));
    figure(`phase_${phase.replace("Ms", "")}_median_ms`, median(values));
  }

  progress("whole suite, one world (start + scenarios + stop), as `starttls-lab run` does");
  const shared = await timed(() => runScenarios(scenarios));
  figure("suite_one_world_ms", shared.ms);

  progress("whole suite, two worlds side by side (--workers 2)");
  const twoWorlds = await timed(() => runScenarios(scenarios, { workers: 2 }));
  figure("suite_two_worlds_ms", twoWorlds.ms);

  progress("baseline: a fresh world for every scenario (the naive way)");
  const naive = await timed(async () => {
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      const world = await MailWorld.start();
      try {
        results.push(await runScenario(world, scenario));
      } finally {
        await world.stop();
      }
    }
    return results;
  });
  figure("suite_fresh_world_per_scenario_ms", naive.ms);
  figure("speedup_vs_fresh_world_per_scenario", (naive.ms / shared.ms).toFixed(1));

  const same = [shared.value.results, twoWorlds.value.results].every(
    (run) => JSON.stringify(verdicts(run)) === JSON.stringify(verdicts(naive.value)),
  );
  figure("same_verdicts_every_way", same ? "yes" : "no");
  if (!same) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

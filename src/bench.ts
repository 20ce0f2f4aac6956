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
import { byLoadOrder, orderByState } from "./scenario/order.js";
import { fitsWorld, postfixWorld } from "./scenario/worldShape.js";
import { DEFAULT_WORKERS } from "./commands/shared.js";
import type { Mta } from "./scenario/levels.js";
import type { Role, Scenario } from "./scenario/types.js";
import { DEFAULT_POSTFIX_RELEASE, POSTFIX_RELEASES } from "./core/releases.js";
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

/** The run's own order, as `starttls-lab run` uses it. */
function runOrder(scenarios: readonly Scenario[]): Scenario[] {
  return orderByState(scenarios);
}

/** Every k-th scenario, about `count` of them: the fresh-world baseline costs a world start each. */
function sample<T>(items: readonly T[], count: number): T[] {
  const step = Math.max(1, Math.floor(items.length / count));
  return items.filter((_, index) => index % step === 0).slice(0, count);
}

async function main(): Promise<void> {
  const paths = process.argv.slice(2);
  const scenarios = runOrder(await loadScenarioFiles(paths.length > 0 ? paths : ["scenarios"]));
  figure("# machine", `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  figure("scenarios", scenarios.length);

  progress("cold start (images present, no container running)");
  const cold = await timed(() => MailWorld.start());
  figure("cold_start_ms", cold.ms);
  // The floor under "apply": one command run in a container through the engine.
  const execs: number[] = [];
  for (let i = 0; i < 7; i++) execs.push((await timed(() => cold.value.sender.run(["true"]))).ms);
  figure("exec_roundtrip_median_ms", median(execs));
  await cold.value.stop();

  // Three warm starts, the last world kept for the scenarios: one start alone can land on the engine still tearing down the last world.
  progress("warm start (same process, after a world; three times)");
  const warmStarts: number[] = [];
  let warm = await timed(() => MailWorld.start());
  for (let i = 1; i < 3; i++) {
    warmStarts.push(warm.ms);
    await warm.value.stop();
    warm = await timed(() => MailWorld.start());
  }
  warmStarts.push(warm.ms);
  figure("warm_start_ms", median(warmStarts));
  figure("warm_start_each_ms", warmStarts.map((ms) => Math.round(ms)).join(" "));
  figure("goal_warm_start_ms", 3000);

  // One world runs the scenarios its releases fit; those pinned to other releases count in the whole-suite figures.
  const fitting = scenarios.filter((scenario) => fitsWorld(scenario, postfixWorld(DEFAULT_POSTFIX_RELEASE)));
  figure("scenarios_on_one_default_world", fitting.length);
  progress(`shared world, nearest-state order: ${fitting.length} scenarios one after the other`);
  const perScenario: ScenarioResult[] = [];
  for (const scenario of fitting) perScenario.push(await runScenario(warm.value, scenario));
  await warm.value.stop();
  const durations = perScenario.map((result) => result.durationMs);
  figure("scenario_median_ms", median(durations));
  figure("goal_scenario_median_ms", 300);
  figure("scenario_p95_ms", quantile(durations, 0.95));
  for (const phase of ["applyMs", "submitMs", "relayMs", "observeMs"] as Array<keyof ScenarioPhases>) {
    const values = perScenario.flatMap((result) => (result.phases ? [result.phases[phase]] : []));
    figure(`phase_${phase.replace("Ms", "")}_median_ms`, median(values));
  }
  figure("goal_phase_apply_median_ms", 100);
  figure("goal_phase_observe_median_ms", 60);

  progress(`whole suite as \`starttls-lab run\` does it (--workers ${DEFAULT_WORKERS}, nearest-state order, start + scenarios + stop)`);
  const suite = await timed(() => runScenarios(scenarios, { workers: DEFAULT_WORKERS }));
  figure("suite_ms", suite.ms);
  figure("goal_suite_ms", 30_000);
  // What a scenario costs with each pair of MTAs, in the same run (worlds side by side, as `run` has them).
  const byMtas = new Map<string, number[]>();
  for (const result of suite.value.results) {
    if (!result.world) continue;
    const pair = `${result.world.sender.mta}_to_${result.world.receiver.mta}`;
    const durations = byMtas.get(pair) ?? [];
    durations.push(result.durationMs);
    byMtas.set(pair, durations);
  }
  for (const [pair, values] of [...byMtas].sort(([a], [b]) => a.localeCompare(b))) {
    figure(`suite_scenario_median_ms_${pair}`, median(values));
    figure(`suite_scenarios_${pair}`, values.length);
  }

  progress("whole suite, one world");
  const oneWorld = await timed(() => runScenarios(scenarios, { workers: 1 }));
  figure("suite_one_world_ms", oneWorld.ms);

  progress("whole suite, one world, in the files' order (what nearest-state order saves)");
  const fileOrder = await timed(() => runScenarios([...scenarios].sort(byLoadOrder), { workers: 1 }));
  figure("suite_one_world_file_order_ms", fileOrder.ms);

  // What another release costs a run that has scenarios pinned to it: its world's start and stop (and its image, if absent).
  for (const release of POSTFIX_RELEASES.filter((release) => release !== DEFAULT_POSTFIX_RELEASE)) {
    progress(`an extra release in a run: one Postfix ${release} world, started and stopped`);
    const extra = await timed(async () => (await MailWorld.start({ postfix: { sender: release, receiver: release } })).stop());
    figure(`extra_release_${release}_world_ms`, extra.ms);
  }
  // And another MTA: a world whose role runs Exim or OpenSMTPD (the other role Postfix 3.10).
  const otherMtas: Array<{ role: Role; mta: Mta }> = [
    { role: "sender", mta: "exim" },
    { role: "receiver", mta: "exim" },
    { role: "sender", mta: "opensmtpd" },
  ];
  for (const { role, mta } of otherMtas) {
    progress(`another MTA in a run: one world with ${mta} as the ${role}, started and stopped`);
    const extra = await timed(async () => (await MailWorld.start({ mta: { [role]: mta } })).stop());
    figure(`extra_mta_${role}_${mta}_world_ms`, extra.ms);
  }

  const baseline = sample(fitting, 12);
  progress(`baseline: a fresh world for each of ${baseline.length} scenarios (the naive way)`);
  const fresh: Array<{ result: ScenarioResult; ms: number }> = [];
  for (const scenario of baseline) {
    fresh.push(
      await timed(async () => {
        const world = await MailWorld.start();
        try {
          return await runScenario(world, scenario);
        } finally {
          await world.stop();
        }
      }).then(({ value, ms }) => ({ result: value, ms })),
    );
  }
  const freshMedian = median(fresh.map(({ ms }) => ms));
  figure("fresh_world_scenario_median_ms", freshMedian);
  figure("suite_fresh_world_per_scenario_estimate_ms", freshMedian * fitting.length);
  figure("speedup_vs_fresh_world_per_scenario", (freshMedian / median(durations)).toFixed(1));
  figure("goal_speedup_vs_fresh_world_per_scenario", 20);

  const byName = (results: ScenarioResult[]) => new Map(verdicts(results).map((line, index) => [results[index]!.scenario.name, line]));
  const wholeSuites = [suite.value.results, oneWorld.value.results, fileOrder.value.results].map(byName);
  const shared = byName(perScenario);
  const same =
    wholeSuites.every((reference) => JSON.stringify([...reference.entries()].sort()) === JSON.stringify([...wholeSuites[0]!.entries()].sort())) &&
    [...shared.entries()].every(([name, verdict]) => wholeSuites[0]!.get(name) === verdict) &&
    fresh.every(({ result }) => shared.get(result.scenario.name) === verdicts([result])[0]);
  figure("same_verdicts_every_way", same ? "yes" : "no");
  if (!same) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

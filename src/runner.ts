/**
 * Runs scenarios through one world: for each, put both providers into the
 * scenario's state, let Alice submit, follow the message until it settles,
 * and judge what was observed. The data flows one way:
 * scenario → world → observation → verdict → result.
 */
import { followMessage } from "./drive/follow.js";
import { submitAsAlice } from "./drive/alice.js";
import { markMessage } from "./drive/message.js";
import { judge } from "./judge/judge.js";
import type { RunResult, ScenarioResult } from "./report/types.js";
import type { Scenario } from "./scenario/types.js";
import { MailWorld, type WorldOptions } from "./world/world.js";

/** Live progress; every method optional so a caller may listen to what it needs. */
export interface RunListener {
  worldStarting?(step: string): void;
  worldReady?(ms: number): void;
  scenarioStarted?(index: number, total: number, scenario: Scenario): void;
  scenarioFinished?(index: number, total: number, result: ScenarioResult): void;
}

export interface RunOptions extends WorldOptions {
  listener?: RunListener;
  /** Use this already started world (not stopped at the end) instead of starting one. */
  world?: MailWorld;
  /** Stop between scenarios when aborted (Ctrl-C); the results so far are returned. */
  signal?: AbortSignal;
}

/** Put both providers into the scenario's state (in parallel: they are independent). */
export async function applyScenario(world: MailWorld, scenario: Scenario): Promise<void> {
  await Promise.all([world.sender.applySettings(scenario.sender.postconf), world.receiver.applySettings(scenario.receiver.postconf)]);
}

export async function runScenario(world: MailWorld, scenario: Scenario): Promise<ScenarioResult> {
  const started = Date.now();
  try {
    await applyScenario(world, scenario);
    const message = markMessage(scenario.message, scenario.name);
    const cursors = { sender: world.sender.log.cursor, receiver: world.receiver.log.cursor };
    const submission = await submitAsAlice(world, message);
    const observation = await followMessage(world, message, submission, cursors);
    return { scenario, observation, verdict: judge(scenario.expect, observation), durationMs: Date.now() - started };
  } catch (error) {
    return {
      scenario,
      verdict: { passed: false, differences: [] },
      error: error instanceof Error ? error.message : String(error),
      durationMs: Date.now() - started,
    };
  }
}

export async function runScenarios(scenarios: readonly Scenario[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const listener = options.listener ?? {};
  const world =
    options.world ?? (await MailWorld.start({ ...options, onProgress: (step) => listener.worldStarting?.(step) }));
  if (!options.world) listener.worldReady?.(world.timings.totalMs);
  const results: ScenarioResult[] = [];
  try {
    for (const [index, scenario] of scenarios.entries()) {
      if (options.signal?.aborted) break;
      listener.scenarioStarted?.(index, scenarios.length, scenario);
      const result = await runScenario(world, scenario);
      if (options.signal?.aborted) break; // its failure is the interruption's, not Postfix's
      results.push(result);
      listener.scenarioFinished?.(index, scenarios.length, result);
    }
  } finally {
    if (!options.world) await world.stop();
  }
  return { results, durationMs: Date.now() - started };
}

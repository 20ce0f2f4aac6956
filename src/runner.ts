/**
 * Runs scenarios through worlds: for each, put both providers into the
 * scenario's state, let Alice submit, follow the message until it settles,
 * and judge what was observed. The data flows one way:
 * scenario → world → observation → verdict → result.
 */
import { accountForMessage } from "./drive/accounting.js";
import { submitAsAlice } from "./drive/alice.js";
import { followMessage, type FollowTimeline } from "./drive/follow.js";
import { markMessage } from "./drive/message.js";
import { riskFlags } from "./judge/flags.js";
import { judge } from "./judge/judge.js";
import { readTlsrpt } from "./drive/tlsrpt.js";
import { readWire } from "./drive/wire.js";
import { EventPlayer } from "./drive/events.js";
import { dnsEvidence } from "./observe/dnsLog.js";
import { statement } from "./observe/evidence.js";
import { chosenPostfixRelease, type PostfixRelease } from "./core/releases.js";
import type { RunResult, ScenarioResult, WorldSoftware } from "./core/result.js";
import type { Scenario } from "./scenario/types.js";
import {
  describePins,
  describeShape,
  fitsWorld,
  groupByWorldShape,
  providerShapeOf,
  worldOptionsOf,
  type ShapeGroup,
  type WorldShape,
} from "./scenario/worldShape.js";
import { domainOf } from "./world/providers.js";
import { MailWorld, type WorldOptions } from "./world/world.js";
import { applyScenario, FAST_RETRY_SETTINGS } from "./world/scenarioState.js";

export { applyScenario, FAST_RETRY_SETTINGS };

/** Live progress; every method optional so a caller may listen to what it needs. */
export interface RunListener {
  worldStarting?(step: string): void;
  /** Once per world started: how long it took to start and what its providers really run. */
  worldReady?(ms: number, software: WorldSoftware): void;
  scenarioStarted?(index: number, total: number, scenario: Scenario): void;
  scenarioFinished?(index: number, total: number, result: ScenarioResult): void;
}

/** Where runScenarios gets a world of a shape, and where the world goes when its shape's scenarios are done. */
export interface WorldSource {
  acquire(options: WorldOptions): Promise<MailWorld>;
  release(world: MailWorld): Promise<void>;
}

/** Each world started for its shape and stopped after its last scenario. */
export const FRESH_WORLDS: WorldSource = {
  acquire: (options) => MailWorld.start(options),
  release: (world) => world.stop(),
};

export interface RunOptions extends Omit<WorldOptions, "postfix"> {
  /** The release of every provider a scenario does not pin (default: chosenPostfixRelease()). */
  postfix?: PostfixRelease;
  listener?: RunListener;
  /** Use this already started world (not stopped at the end) instead of starting one; scenarios pinning other releases are not run. */
  world?: MailWorld;
  /** Where the worlds come from (default FRESH_WORLDS); a caller that keeps worlds between runs lends them here. */
  worlds?: WorldSource;
  /** Worlds side by side, at most; how the slots share the world shapes is runScenarios' (default 1). */
  workers?: number;
  /** Stop between scenarios when aborted (Ctrl-C); the results so far are returned. */
  signal?: AbortSignal;
}

/** The moments of one scenario a live view shows as they happen (the lab); each ends the phase of ScenarioPhases it names. */
export type ScenarioMoment = "applied" | "submitted" | "settled";

export function runScenario(world: MailWorld, scenario: Scenario, onMoment?: (moment: ScenarioMoment) => void): Promise<ScenarioResult> {
  return playScenario(world, scenario, { apply: true, ...(onMoment && { onMoment }) });
}

/**
 * Submit the scenario's message to a world already in the scenario's state
 * (`starttls-lab send`: `up` or `apply` put it there) and judge what happens.
 */
export function sendInAppliedState(world: MailWorld, scenario: Scenario): Promise<ScenarioResult> {
  return playScenario(world, scenario, { apply: false });
}

async function playScenario(world: MailWorld, scenario: Scenario, options: { apply: boolean; onMoment?: (moment: ScenarioMoment) => void }): Promise<ScenarioResult> {
  const onMoment = options.onMoment;
  const started = performance.now();
  const events = new EventPlayer(world, scenario);
  try {
    const native = options.apply ? await applyScenario(world, scenario) : undefined;
    const applied = performance.now();
    onMoment?.("applied");
    const message = markMessage(scenario.message, scenario.name, Object.keys(scenario.expect.headers ?? {}));
    await world.wire.prepare(scenario.wire, message.marker);
    const cursors = { sender: world.sender.log.cursor, receiver: world.receiver.log.cursor };
    const dnsCursor = world.dns.log.cursor;
    for (const provider of [world.sender, world.receiver]) provider.mayHoldMail();
    const beforeFirst = await events.applyAfter(0);
    const submission = await submitAsAlice(world, message);
    const submitted = performance.now();
    onMoment?.("submitted");
    const timeline: FollowTimeline = {};
    const between = events.hasEvents ? { beforeFirst, afterDeferral: (attempt: number) => events.applyAfter(attempt) } : undefined;
    const observation = await followMessage(world, message, submission, cursors, timeline, { attempts: scenario.attempts, ...(between && { between }) });
    onMoment?.("settled");
    if (between) {
      const notApplied = events.notApplied();
      if (notApplied.length > 0) observation.eventsNotApplied = notApplied;
      observation.evidence.unshift(
        statement("harness", `harness: followed up to ${scenario.attempts} delivery attempts, changing the world between them; each retry asked for by name (postqueue -i)`),
      );
    } else if (scenario.attempts > 1) {
      const timers = Object.entries(FAST_RETRY_SETTINGS).map(([name, value]) => `${name}=${value}`).join(", ");
      observation.evidence.unshift(
        statement("harness", `harness: followed up to ${scenario.attempts} delivery attempts; the sender retried after 1 s (${timers})`),
      );
    }
    const { wire, evidence } = await readWire(world, events.wireMode, cursors);
    observation.wire = wire;
    observation.evidence.push(...evidence);
    const reported = await readTlsrpt(world.sender, cursors.sender, { published: scenario.dns.tlsrpt === true, expected: scenario.expect.tlsrpt !== undefined });
    if (reported.tlsrpt) observation.tlsrpt = reported.tlsrpt;
    observation.evidence.push(...reported.evidence);
    observation.evidence.push(...dnsEvidence(world.dns.log.since(dnsCursor), world.addresses.sender));
    observation.evidence.push(...(await accountForMessage(world, message, observation)));
    await events.restore();
    // Followed to its end and accounted for: nothing of it is left in any queue (a deferral is).
    if (observation.outcome !== "deferred") for (const provider of [world.sender, world.receiver]) provider.queueSettled();
    const verdict = judge(scenario.expect, observation, { recipientDomain: domainOf(scenario.message.to) });
    const flags = riskFlags(scenario, observation);
    const ended = performance.now();
    const settled = timeline.settledAt ?? ended;
    return {
      scenario,
      world: world.software,
      observation,
      verdict,
      ...(flags.length > 0 ? { flags } : {}),
      durationMs: ended - started,
      ...(native && Object.keys(native).length > 0 && { native }),
      phases: { applyMs: applied - started, submitMs: submitted - applied, relayMs: settled - submitted, observeMs: ended - settled },
    };
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    // The next scenario must not meet a stopped Postfix or resolver; if even this fails, the world is in trouble and says so below.
    await events.restore().catch(() => undefined);
    // A dead container explains the failure better than its symptom (a refused connection, a timeout).
    const death = await world.deathNotice();
    return {
      scenario,
      world: world.software,
      verdict: { passed: false, differences: [] },
      error: death ? `${death}\n  (the scenario was at: ${cause})` : cause,
      durationMs: performance.now() - started,
      ...(death ? { worldDied: true } : {}),
    };
  }
}

/** The result for a scenario that a dead world could not run. */
function notRun(scenario: Scenario, why: string): ScenarioResult {
  return { scenario, verdict: { passed: false, differences: [] }, error: `not run: ${why}`, durationMs: 0 };
}

/** What a started world runs, as a shape. */
function shapeOfWorld(world: MailWorld): WorldShape {
  return { sender: providerShapeOf(world.software.sender), receiver: providerShapeOf(world.software.receiver) };
}

/**
 * Runs every scenario in worlds of its shape (sender release, receiver
 * release). `workers` slots work side by side, each with at most one world
 * at a time: a free slot starts a world for the next shape nobody has
 * started yet, or, when every shape is under way, a second world for the
 * shape with the most scenarios left (if enough are left to pay for a world
 * start), and takes that shape's scenarios one at a time until none is
 * left. So small shapes run beside the big one instead of after it, and a
 * run never holds more than `workers` worlds. Results keep the scenarios'
 * order.
 */
export async function runScenarios(scenarios: readonly Scenario[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const listener = options.listener ?? {};
  const results: Array<ScenarioResult | undefined> = new Array(scenarios.length);
  let groups: ShapeGroup[];
  if (options.world) {
    // A given world runs the scenarios its releases fit; an unpinned provider takes the world's release.
    const shape = shapeOfWorld(options.world);
    groups = [{ shape, indices: [...scenarios.keys()].filter((index) => fitsWorld(scenarios[index]!, shape)) }];
    for (const [index, scenario] of scenarios.entries()) {
      if (!fitsWorld(scenario, shape)) results[index] = notRun(scenario, `it pins ${describePins(scenario)}; the world given runs ${describeShape(shape)}`);
    }
  } else {
    groups = groupByWorldShape(scenarios, options.postfix ?? chosenPostfixRelease());
  }
  const deadWorld = await runGroups(scenarios, groups, results, options);
  if (deadWorld && !options.signal?.aborted) {
    for (const [index, scenario] of scenarios.entries()) {
      if (results[index]) continue;
      results[index] = notRun(scenario, deadWorld);
      listener.scenarioFinished?.(index, scenarios.length, results[index]);
    }
  }
  return { results: results.filter((result): result is ScenarioResult => result !== undefined), durationMs: Date.now() - started };
}

/**
 * A second world for a shape already under way pays for its start (about
 * ten seconds on 2 cores) only when this many of its scenarios are left
 * (about 0.4 s each).
 */
export const SCENARIOS_WORTH_ANOTHER_WORLD = 24;

export interface ShapeWork {
  shape: WorldShape;
  /** Positions of the scenarios nobody has taken yet, in order. */
  queue: number[];
  /** Worlds of this shape started so far. */
  worlds: number;
}

/** The next shape a free slot should start a world for, if any is worth one. */
export function nextShape(work: readonly ShapeWork[]): ShapeWork | undefined {
  const unstarted = work.find((shape) => shape.worlds === 0 && shape.queue.length > 0);
  if (unstarted) return unstarted;
  const busiest = [...work].sort((a, b) => b.queue.length - a.queue.length)[0];
  return busiest && busiest.queue.length >= SCENARIOS_WORTH_ANOTHER_WORLD ? busiest : undefined;
}

/** Every shape's scenarios through worlds of that shape, `workers` slots side by side; says why the run cannot go on when a container died. */
async function runGroups(
  scenarios: readonly Scenario[],
  groups: readonly ShapeGroup[],
  results: Array<ScenarioResult | undefined>,
  options: RunOptions,
): Promise<string | undefined> {
  const listener = options.listener ?? {};
  const work: ShapeWork[] = groups.map((group) => ({ shape: group.shape, queue: [...group.indices], worlds: 0 }));
  const slots = options.world ? 1 : Math.max(1, options.workers ?? 1);
  let deadWorld: string | undefined;
  let failedStart: unknown;
  const stopped = () => options.signal?.aborted === true || deadWorld !== undefined || failedStart !== undefined;

  // A container that dies stops the run cleanly: the scenario it broke
  // fails with the container's last log lines, the ones after it are
  // reported as not run, so every scenario is still accounted for.
  const runIn = async (world: MailWorld, shape: ShapeWork): Promise<void> => {
    for (let index = shape.queue.shift(); index !== undefined; index = shape.queue.shift()) {
      const scenario = scenarios[index]!;
      listener.scenarioStarted?.(index, scenarios.length, scenario);
      const result = await runScenario(world, scenario);
      if (options.signal?.aborted) return; // its failure is the interruption's, not Postfix's
      results[index] = result;
      listener.scenarioFinished?.(index, scenarios.length, result);
      if (result.worldDied) deadWorld = `a container of the world died during "${scenario.name}"`;
      if (stopped()) return;
    }
  };

  const slot = async (): Promise<void> => {
    for (let shape = nextShape(work); shape !== undefined && !stopped(); shape = nextShape(work)) {
      shape.worlds++;
      if (options.world) {
        await runIn(options.world, shape);
        continue;
      }
      const worldStarted = Date.now();
      const source = options.worlds ?? FRESH_WORLDS;
      let world: MailWorld;
      try {
        world = await source.acquire({ ...options, ...worldOptionsOf(shape.shape), onProgress: (step) => listener.worldStarting?.(step) });
      } catch (error) {
        failedStart ??= error;
        return;
      }
      try {
        listener.worldReady?.(Date.now() - worldStarted, world.software);
        await runIn(world, shape);
      } finally {
        await source.release(world);
      }
    }
  };
  await Promise.all(Array.from({ length: slots }, slot));
  if (failedStart !== undefined) throw failedStart;
  return deadWorld;
}

/**
 * The lab's state, shared by every browser tab: one world per Postfix
 * release (started on demand, kept until the lab stops), the queue that runs
 * one scenario at a time, the history of the session's runs, and the event
 * stream each tab listens to.
 */
import { EventEmitter } from "node:events";
import type { PostfixRelease } from "../core/releases.js";
import { scenarioPassed, type ScenarioResult } from "../core/result.js";
import { describeExpectation, describeResultObserved, describeWorldSoftware, evidenceLines } from "../report/describe.js";
import { eavesdropperSection } from "../report/explainWire.js";
import { toHtmlReport } from "../report/html.js";
import { liveSequenceDiagram, sequenceDiagram } from "../report/sequenceDiagram.js";
import { runScenario, type ScenarioMoment } from "../runner.js";
import type { Scenario } from "../scenario/types.js";
import { MailWorld } from "../world/world.js";
import { choicesToScenario, type LabChoices } from "./choices.js";

/** The phase in progress, in order; "applying" starts when the run leaves the queue, and a finished run has passed them all. */
export const PHASES = ["applying", "submitting", "relaying", "observing"] as const;
export type Phase = (typeof PHASES)[number];

/** The longest a live view's question to the wire waits for something new (it answers as soon as bytes move). */
const LIVE_POLL_MS = 2_000;

/** Each runner moment ends one phase and starts the next. */
const PHASE_AFTER: Record<ScenarioMoment, Phase> = { applied: "submitting", submitted: "relaying", settled: "observing" };

export type WorldState =
  | { release: PostfixRelease; state: "starting"; step: string }
  | { release: PostfixRelease; state: "ready"; ms: number }
  | { release: PostfixRelease; state: "failed"; message: string };

/** How the page colours a finished run. */
export type OutcomeKind = "delivered-tls" | "delivered-plaintext" | "deferred" | "bounced" | "rejected" | "failed";

function outcomeKind(result: ScenarioResult): OutcomeKind {
  const observation = result.observation;
  if (!observation) return "failed";
  if (observation.outcome === "delivered") return observation.transport === "plaintext" ? "delivered-plaintext" : "delivered-tls";
  return observation.outcome;
}

/** What a tab shows of one run: everything is computed here, once, from the result. */
export interface RunView {
  id: number;
  name: string;
  choices: LabChoices;
  status: "queued" | "running" | "finished";
  phase?: Phase;
  /** While the message is on its way: the diagram as far as the wire has seen the hop, redrawn as bytes move. */
  liveDiagramSvg?: string;
  /** Filled when finished. */
  outcome?: {
    kind: OutcomeKind;
    /** The headline: delivered over TLS / in plaintext, deferred, bounced, rejected, or the harness error. */
    headline: string;
    observed: string;
    expected: string;
    predictionHeld: boolean;
    bodyReadable: boolean;
    attackerReadBody: boolean;
    flags: string[];
    error?: string;
    diagramSvg: string;
    eavesdropper: string;
    dnsLookups: string[];
    evidence: string[];
    /** The providers' software as read from the running containers. */
    software?: string;
    durationMs: number;
  };
}

export type LabEvent =
  | { type: "world"; world: WorldState }
  | { type: "run"; run: RunView };

interface Entry {
  view: RunView;
  yaml: string;
  scenario: Scenario;
  result?: ScenarioResult;
}

function headline(result: ScenarioResult): string {
  const observation = result.observation;
  // The error's first line names what broke; the whole text (log lines included) is shown beside it.
  if (!observation) return `The run failed: ${(result.error ?? "no observation").split("\n")[0]!.replace(/; its last log lines:$/, "")}`;
  switch (observation.outcome) {
    case "delivered":
      return observation.transport === "plaintext" ? "Delivered in plaintext" : `Delivered over TLS${observation.tls ? ` (${observation.tls.version}, ${observation.tls.trust})` : ""}`;
    case "deferred":
      return `Deferred: ${observation.reason ?? "no reason given"}`;
    case "bounced":
      return `Bounced: ${observation.reason ?? "no reason given"}`;
    case "rejected":
      return `Rejected at submission: ${observation.reason ?? "no reason given"}`;
  }
}

function outcomeView(result: ScenarioResult): NonNullable<RunView["outcome"]> {
  const evidence = result.observation?.evidence ?? [];
  const wire = result.observation?.wire;
  return {
    kind: outcomeKind(result),
    headline: headline(result),
    observed: describeResultObserved(result),
    expected: describeExpectation(result.scenario.expect),
    predictionHeld: scenarioPassed(result),
    bodyReadable: wire?.plaintextBody ?? false,
    attackerReadBody: wire?.attackerReadBody ?? false,
    flags: result.flags ?? [],
    ...(result.error !== undefined ? { error: result.error } : {}),
    diagramSvg: sequenceDiagram(result),
    eavesdropper: wire ? eavesdropperSection(wire).join("\n") : "Nothing: the message never reached the port-25 hop.",
    dnsLookups: evidence.filter((item) => item.source === "dns-log").map((item) => item.line),
    evidence: evidenceLines(result),
    ...(result.world ? { software: describeWorldSoftware(result.world) } : {}),
    durationMs: result.durationMs,
  };
}

export interface LabSessionOptions {
  /** Called for every start-up step of a world (besides the event stream), e.g. to log to the terminal. */
  log?: (line: string) => void;
  /** Where the worlds keep their certificates (default: the user's cache). */
  cacheDir?: string;
}

export class LabSession {
  private readonly events = new EventEmitter();
  private readonly worlds = new Map<PostfixRelease, Promise<MailWorld>>();
  private readonly worldStates = new Map<PostfixRelease, WorldState>();
  private readonly entries: Entry[] = [];
  /** The end of the queue: each run starts when the one before it settled. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LabSessionOptions = {}) {
    // Every open tab listens; the default limit of 10 would warn about a class.
    this.events.setMaxListeners(0);
  }

  subscribe(listener: (event: LabEvent) => void): () => void {
    this.events.on("event", listener);
    return () => this.events.off("event", listener);
  }

  /** What a tab that just connected needs to catch up. */
  snapshot(): { worlds: WorldState[]; runs: RunView[] } {
    return { worlds: [...this.worldStates.values()], runs: this.entries.map((entry) => entry.view) };
  }

  private emit(event: LabEvent): void {
    this.events.emit("event", event);
  }

  private setWorldState(world: WorldState): void {
    this.worldStates.set(world.release, world);
    this.emit({ type: "world", world });
  }

  /** The release's world, started the first time it is asked for; a failed start is forgotten so the next run tries again. */
  world(release: PostfixRelease): Promise<MailWorld> {
    const known = this.worlds.get(release);
    if (known) return known;
    const started = Date.now();
    this.setWorldState({ release, state: "starting", step: "starting the world" });
    const starting = MailWorld.start({
      postfix: release,
      ...(this.options.cacheDir !== undefined && { cacheDir: this.options.cacheDir }),
      onProgress: (step) => {
        this.options.log?.(`Postfix ${release} world: ${step}`);
        this.setWorldState({ release, state: "starting", step });
      },
    }).then(
      (world) => {
        if (this.closed) {
          void world.stop();
          throw new Error("the lab is stopping");
        }
        this.setWorldState({ release, state: "ready", ms: Date.now() - started });
        return world;
      },
      (error: unknown) => {
        this.worlds.delete(release);
        this.setWorldState({ release, state: "failed", message: error instanceof Error ? error.message : String(error) });
        throw error;
      },
    );
    this.worlds.set(release, starting);
    return starting;
  }

  /** Queues a run of these choices and returns at once with its id; the run's progress comes as events. */
  submit(choices: LabChoices): RunView {
    const id = this.entries.length + 1;
    const { scenario, yaml } = choicesToScenario(choices, id);
    const entry: Entry = { view: { id, name: scenario.name, choices, status: "queued" }, yaml, scenario };
    this.entries.push(entry);
    this.emit({ type: "run", run: entry.view });
    // execute() turns every failure into the run's result; a throw here is a lab bug, logged so the queue goes on.
    this.queue = this.queue.then(() => this.execute(entry)).catch((error: unknown) => this.options.log?.(`lab: run ${id} failed: ${String(error)}`));
    return entry.view;
  }

  private update(entry: Entry, change: Partial<RunView>): void {
    entry.view = { ...entry.view, ...change };
    this.emit({ type: "run", run: entry.view });
  }

  /**
   * From the submission until the run settles: each time the wire's record
   * changes, the diagram of the hop so far goes to every tab. Long polls on
   * the wire, so it redraws when bytes move; it stops with the run.
   */
  private async streamHop(entry: Entry, world: MailWorld, running: { done: boolean }): Promise<void> {
    let since = -1;
    while (!running.done) {
      const live = await world.wire.live(since, LIVE_POLL_MS);
      if (running.done) return;
      if (live.version === since) continue;
      since = live.version;
      this.update(entry, { liveDiagramSvg: liveSequenceDiagram(entry.scenario, live.hops) });
    }
  }

  private async execute(entry: Entry): Promise<void> {
    this.update(entry, { status: "running", phase: "applying" });
    let result: ScenarioResult;
    try {
      const world = await this.world(entry.view.choices.release);
      const running = { done: false };
      result = await runScenario(world, entry.scenario, (moment) => {
        this.update(entry, { phase: PHASE_AFTER[moment] });
        // A live view is a nicety: if the wire cannot say, the run goes on and its result still shows everything.
        if (moment === "submitted") void this.streamHop(entry, world, running).catch((error: unknown) => this.options.log?.(`lab: live view of run ${entry.view.id}: ${String(error)}`));
      }).finally(() => {
        running.done = true;
      });
      if (result.worldDied) {
        // A dead world cannot run the next scenario: start a fresh one on the next request.
        this.worlds.delete(entry.view.choices.release);
        void world.stop();
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result = { scenario: entry.scenario, verdict: { passed: false, differences: [] }, error: `the world could not start: ${message}`, durationMs: 0 };
    }
    entry.result = result;
    this.update(entry, { status: "finished", liveDiagramSvg: undefined, outcome: outcomeView(result) });
  }

  private finished(id: number): Entry & { result: ScenarioResult } {
    const entry = this.entries[id - 1];
    if (!entry) throw new RunNotFound(`no run ${id} in this session`);
    if (!entry.result) throw new RunNotFound(`run ${id} has not finished yet`);
    return entry as Entry & { result: ScenarioResult };
  }

  /** The scenario file of a run, as the loader read it. */
  scenarioFile(id: number): string {
    const entry = this.entries[id - 1];
    if (!entry) throw new RunNotFound(`no run ${id} in this session`);
    return entry.yaml;
  }

  htmlReport(id: number): string {
    const entry = this.finished(id);
    return toHtmlReport({ results: [entry.result], durationMs: entry.result.durationMs });
  }

  /** Waits for the queue to drain, then stops every world. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const worlds = await Promise.allSettled(this.worlds.values());
    this.worlds.clear();
    await Promise.allSettled(worlds.flatMap((world) => (world.status === "fulfilled" ? [world.value.stop()] : [])));
  }
}

export class RunNotFound extends Error {}

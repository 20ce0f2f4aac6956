#!/usr/bin/env node
/**
 * The starttls-lab command line: run, validate, explain, clean.
 * Exit codes (a contract): 0 every expectation held, 1 some did not,
 * 2 bad usage, an invalid scenario file or no Docker engine (then nothing
 * was started), 130/143 interrupted.
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { createConsoleReporter, parseReportFlag, ReportFlagError, writeReports, type ReportRequest } from "./report/index.js";
import { runPassed, scenarioPassed, type RunResult, type ScenarioResult } from "./core/result.js";
import { explainResult } from "./report/explain.js";
import { DEFAULT_WORKERS, EXIT, loadOne, loadSelected, releaseOption, UsageError, type CommandInput } from "./commands/shared.js";
import { loadScenarioFiles, ScenarioError } from "./scenario/load.js";
import { orderByState, shuffled } from "./scenario/order.js";
import { parseShard, scenariosOfShard, ShardError, type Shard } from "./scenario/shard.js";
import type { Scenario } from "./scenario/types.js";

/**
 * The harness (testcontainers, dockerode, the PKI) loads only when a command
 * needs Docker, so `validate` and bad input answer fast.
 */
const harness = async () => {
  const [{ runScenarios }, { removeLiveRuns }, { removeLeftovers }] = await Promise.all([
    import("./runner.js"),
    import("./world/world.js"),
    import("./world/runLabels.js"),
  ]);
  return { runScenarios, removeLiveRuns, removeLeftovers };
};

/** Environment failures the user fixes outside starttls-lab (named by class, so their modules stay unloaded). */
const ENVIRONMENT_ERRORS = new Set(["DockerUnavailableError", "ImageBuildError"]);


const HELP: Record<string, string> = {
  main: `starttls-lab — real Postfix servers in containers, scenario by scenario

Usage: starttls-lab <command> [options]

Commands:
  run [paths…]       run scenario files (default: scenarios/)
  validate [paths…]  check scenario files without Docker
  explain FILE       run one scenario and print what happened, step by step
  compare --postfix A --postfix B [paths…]
                     run the same scenarios under each Postfix release and
                     print what differs
  merge FILE…        one run from the JSON reports of its shards (run --shard K/N)
  clean              remove containers and networks left by runs that died
  serve              the lab in the browser: choose settings, send, watch the hop
  diagnose [FILE|-]  from a customer's bounce, log lines or error text to the scenario that reproduces it
  up [FILE]          start a world that stays up, in a scenario's state (default: may to may)
  apply FILE         put the running world into another scenario's state
  send               submit a message as Alice and print what happened
  logs [CONTAINER]   the logs of sender, receiver, wire or dns
  status             whether the world is up, and how to reach it
  down               remove the world that stays up

Run "starttls-lab <command> --help" for a command's options.
Exit codes: 0 all expectations held, 1 some did not, 2 bad usage or invalid scenario file.`,
  run: `Usage: starttls-lab run [paths…] [options]

Runs every scenario in the given files or folders (default: scenarios/)
against one world of real Postfix containers, and compares what happened
with each scenario's expectation.

Options:
  --only NAME          run only scenarios whose name contains NAME (repeatable)
  --report KIND=FILE   also write a report: json=FILE, junit=FILE or html=FILE (repeatable)
  --workers N          worlds side by side (default 2): each starts a world
                       for the next release pair nobody has started, or a
                       second one for the pair with the most scenarios left,
                       and takes that pair's scenarios one at a time (README "Speed")
  --shuffle SEED       run in a random order fixed by SEED (an integer), to
                       show that verdicts do not depend on order (default: each
                       next scenario is the one nearest the world's state)
  --shard K/N          run only the K-th of N shares of the scenarios (split by
                       file and name, the same on every machine); combine the
                       shards' --report json=FILE with "starttls-lab merge"
  --postfix VERSION    the Postfix release (3.7, 3.10, 3.11) of every provider a
                       scenario does not pin with sender.postfix / receiver.postfix
                       (default: $STARTTLS_LAB_POSTFIX, else 3.10)
  --no-color           plain output (also when NO_COLOR is set or output is not a terminal)
  -h, --help           this help

Exit: 0 every expectation held, 1 some did not, 2 invalid input (nothing started).`,
  compare: `Usage: starttls-lab compare --postfix VERSION --postfix VERSION [paths…] [options]

Runs the scenarios (default: scenarios/) once per release, every provider at
that release, and prints scenario by scenario what differs: verdict, outcome,
transport, TLS version, cipher, key exchange, trust, peer name, reason.
Scenarios that pin every provider's release run once and are listed as pinned.

Options:
  --postfix VERSION    a release to compare (3.7, 3.10, 3.11); at least two
  --only NAME          only scenarios whose name contains NAME (repeatable)
  --report KIND=FILE   also write the comparison: json=FILE or html=FILE (repeatable)
  --workers N          worlds side by side per release (default 2)
  --no-color           plain output
  -h, --help           this help

Exit: 0 nothing differs, 1 something does, 2 bad usage (nothing started).`,
  merge: `Usage: starttls-lab merge FILE… [--report KIND=FILE]…

Reads the JSON reports of the shards of one run (starttls-lab run --shard K/N
--report json=FILE, one per machine) and prints the run they make together,
as one machine would have: every scenario once, in that run's order, then the
table and "N passed, M failed". --report writes the merged json, junit or
html report.

Exit: 0 every expectation held, 1 some did not, 2 a file that is not a
report of this version, or a scenario in two shards.`,
  validate: `Usage: starttls-lab validate [paths…]

Checks scenario files (default: scenarios/) without starting anything.
Prints each problem as file:line:column: field: message.
Exit: 0 valid, 2 invalid.`,
  explain: `Usage: starttls-lab explain FILE [--only NAME] [--postfix VERSION]

Runs one scenario (the file's only one, or the one --only selects) and prints
its story, the settings applied on each side, what Alice's client was told,
every log line that decided the outcome, and the verdict.`,
  clean: `Usage: starttls-lab clean [--all]

Removes the containers and networks of starttls-lab runs whose process is
gone (a run killed with SIGKILL, a crashed CI job). With --all, also those of
runs still going and worlds started with "up".`,
  serve: `Usage: starttls-lab serve [--port 8025]

Starts the lab: a web page on http://127.0.0.1:PORT/ (this machine only)
over a world of real Postfix containers, started in this process and shared
by every tab. Choose both providers' TLS levels, the certificate, the wire,
DANE and MTA-STS and the Postfix release, press Send, and watch the run:
phases, sequence diagram, what an eavesdropper saw, DNS lookups, verdict.
Runs are queued one at a time. Ctrl-C stops the lab and removes its containers.

Options:
  --port PORT   the port on 127.0.0.1 (default 8025)`,
  diagnose: `Usage: starttls-lab diagnose [FILE|-] [--write SCENARIO]

Reads what a customer sent (a bounce message or .eml, Postfix or Exim log
lines, or just the error text; from FILE, or standard input with - or no
FILE), names the TLS situation it shows, what is read and what is only
probable, the shipped scenarios that reproduce it with the fix beside them,
and what to ask the customer for. Starts nothing.

Options:
  --write SCENARIO   also write the case and its fix as a scenario file for
                     "starttls-lab run" (checked like any scenario file)
  -h, --help         this help

Exit: 0 recognised, 1 not a TLS problem it recognises, 2 bad usage.`,
  up: `Usage: starttls-lab up [FILE] [--only NAME] [--postfix V] [--name N]

Starts a world that stays up after this command returns, puts it into the
state of FILE's scenario (one, or the one --only selects; default: may to
may), and prints its endpoints on 127.0.0.1, the credentials, the CA file and
commands for swaks, openssl, posttls-finger, postqueue and doveadm.
One world per name (default "default"); "starttls-lab down" removes it.

Options:
  --only NAME     the scenario whose name contains NAME
  --postfix V     the Postfix release both providers run (3.7, 3.10, 3.11)
  --name N        a world of its own beside the default one`,
  apply: `Usage: starttls-lab apply FILE [--only NAME] [--name N]

Puts the running world into the state of FILE's scenario (certificates, DNS,
both providers' settings); the next "send" is judged by its expectation.`,
  send: `Usage: starttls-lab send [--to ADDRESS] [--subject TEXT] [--json] [--name N]

Alice submits a message (the applied scenario's, with these changes), the
harness follows it and prints what happened and the verdict.
Exit: 0 the applied scenario's expectation held, 1 it did not.`,
  logs: `Usage: starttls-lab logs [sender|receiver|wire|dns] [--follow] [--name N]

The containers' logs (default: all four, one after the other).`,
  status: `Usage: starttls-lab status [--name N]

Whether the world is up, the scenario applied, and how to reach it.`,
  down: `Usage: starttls-lab down [--name N]

Removes the world that stays up (its containers and network) and forgets it.`,
};

const common = { help: { type: "boolean", short: "h" } } as const;
const OPTIONS: Record<string, ParseArgsConfig["options"]> = {
  run: {
    ...common,
    only: { type: "string", multiple: true },
    report: { type: "string", multiple: true },
    workers: { type: "string" },
    shuffle: { type: "string" },
    shard: { type: "string" },
    postfix: { type: "string" },
    "no-color": { type: "boolean" },
  },
  merge: { ...common, report: { type: "string", multiple: true }, "no-color": { type: "boolean" } },
  validate: { ...common },
  compare: {
    ...common,
    postfix: { type: "string", multiple: true },
    only: { type: "string", multiple: true },
    report: { type: "string", multiple: true },
    workers: { type: "string" },
    "no-color": { type: "boolean" },
  },
  explain: { ...common, only: { type: "string", multiple: true }, postfix: { type: "string" }, "no-color": { type: "boolean" } },
  clean: { ...common, all: { type: "boolean" } },
  serve: { ...common, port: { type: "string" } },
  diagnose: { ...common, write: { type: "string" } },
  up: { ...common, only: { type: "string", multiple: true }, postfix: { type: "string" }, name: { type: "string" } },
  apply: { ...common, only: { type: "string", multiple: true }, name: { type: "string" } },
  send: { ...common, to: { type: "string" }, subject: { type: "string" }, json: { type: "boolean" }, name: { type: "string" } },
  logs: { ...common, follow: { type: "boolean", short: "f" }, name: { type: "string" } },
  status: { ...common, name: { type: "string" } },
  down: { ...common, name: { type: "string" } },
};

function parse(command: string, args: string[]): CommandInput {
  try {
    const { values, positionals } = parseArgs({ args, options: OPTIONS[command], allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${HELP[command]}`);
  }
}

/** What the admins' own files change of the harness's settings, once per file. */
function ownConfigNotes(scenarios: readonly Scenario[]): string[] {
  return [...new Set(scenarios.flatMap((scenario) => [...(scenario.sender.own?.overrides ?? []), ...(scenario.receiver.own?.overrides ?? [])]))];
}

function integerOption(flag: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${flag} takes an integer from ${min} to ${max}, not "${String(value)}"`);
  }
  return number;
}

function useColor(flag: unknown): boolean {
  return flag !== true && !process.env.NO_COLOR && process.stdout.isTTY === true;
}

/**
 * On SIGINT/SIGTERM: stop between scenarios, remove this run's containers,
 * write the reports for the scenarios finished so far, and exit 130/143.
 * Returns the signal to hand to the runner.
 */
function onInterrupt(partial: () => RunResult, reports: ReportRequest[]): AbortSignal {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    controller.abort();
    process.stderr.write(`\n${signal}: stopping; removing this run's containers…\n`);
    void harness()
      .then(({ removeLiveRuns }) => removeLiveRuns())
      .then(() => (reports.length > 0 ? writeReports(partial(), reports) : undefined))
      .catch((error: unknown) => process.stderr.write(`starttls-lab: ${String(error)}\n`))
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  // "on", not "once": a library that re-raises the signal when it is the last listener (signal-exit) must keep seeing ours.
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return controller.signal;
}

/** After an interruption the handler exits the process; never return a verdict in the meantime. */
function untilExit(): Promise<never> {
  return new Promise(() => {});
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parse("run", args);
  if (values.help) return printHelp("run");
  const reports = ((values.report as string[] | undefined) ?? []).map(parseReportFlag);
  const workers = integerOption("--workers", values.workers, 1, 8) ?? DEFAULT_WORKERS;
  const seed = integerOption("--shuffle", values.shuffle, 0, 2 ** 32 - 1);
  const postfix = releaseOption(values.postfix);
  const shard = values.shard === undefined ? undefined : shardOption(values.shard);
  const loaded = await loadSelected(positionals, values.only as string[] | undefined, postfix);
  const selected = shard ? scenariosOfShard(loaded, shard) : loaded;
  if (shard) process.stdout.write(`shard ${shard.index}/${shard.count}: ${selected.length} of ${loaded.length} scenarios\n`);
  const scenarios = seed === undefined ? orderByState(selected) : shuffled(selected, seed);
  if (seed !== undefined) process.stdout.write(`order shuffled with seed ${seed}\n`);
  for (const note of ownConfigNotes(scenarios)) process.stdout.write(`note: ${note}\n`);
  const reporter = createConsoleReporter(process.stdout, { color: useColor(values["no-color"]) });
  const finished: ScenarioResult[] = [];
  const started = Date.now();
  const signal = onInterrupt(() => ({ results: finished, durationMs: Date.now() - started }), reports);
  const { runScenarios } = await harness();

  const result = await runScenarios(scenarios, {
    signal,
    workers,
    ...(postfix && { postfix }),
    listener: {
      worldStarting: (step) => reporter.worldStarting(step),
      worldReady: (ms, software) => reporter.worldReady(ms, software),
      scenarioStarted: (index, total, scenario) => reporter.scenarioStarted(index, total, scenario),
      scenarioFinished: (index, total, outcome) => {
        if (signal.aborted) return;
        finished.push(outcome);
        reporter.scenarioFinished(index, total, outcome);
      },
    },
  });
  if (signal.aborted) return untilExit();
  await writeReports(result, reports);
  reporter.summary(result);
  return runPassed(result) ? EXIT.passed : EXIT.failed;
}

async function compare(args: string[]): Promise<number> {
  const { values, positionals } = parse("compare", args);
  if (values.help) return printHelp("compare");
  const releases = [...new Set(((values.postfix as string[] | undefined) ?? []).map((value) => releaseOption(value)!))];
  if (releases.length < 2) throw new UsageError(`compare needs two different releases, e.g. --postfix 3.7 --postfix 3.10\n\n${HELP.compare}`);
  const reports = ((values.report as string[] | undefined) ?? []).map(parseReportFlag);
  for (const report of reports) {
    if (report.kind === "junit") throw new UsageError("compare writes json=FILE or html=FILE reports (JUnit has no place for a comparison)");
  }
  const workers = integerOption("--workers", values.workers, 1, 8) ?? DEFAULT_WORKERS;
  const scenarios = await loadSelected(positionals, values.only as string[] | undefined);
  const reporter = createConsoleReporter(process.stderr, { color: useColor(values["no-color"]) });
  const signal = onInterrupt(() => ({ results: [], durationMs: 0 }), []);
  const { runScenarios } = await harness();
  const { compareRuns, comparisonDiffers, pinnedUnder, renderComparison, writeComparisonReport } = await import("./report/compare.js");
  const runs: ScenarioResult[][] = [];
  for (const [position, postfix] of releases.entries()) {
    // Pinned scenarios are the same world under every release: the first run covers them.
    const selected = position === 0 ? scenarios : scenarios.filter((scenario) => !pinnedUnder(scenario, releases));
    process.stderr.write(`== Postfix ${postfix}: ${selected.length} scenario(s)\n`);
    const run = await runScenarios(selected, {
      signal,
      workers,
      postfix,
      listener: {
        worldStarting: (step) => reporter.worldStarting(step),
        worldReady: (ms, software) => reporter.worldReady(ms, software),
        scenarioFinished: (index, total, result) => reporter.scenarioFinished(index, total, result),
      },
    });
    if (signal.aborted) return untilExit();
    process.stderr.write(`== Postfix ${postfix}: ${run.results.length} scenario(s) in ${Math.round(run.durationMs / 100) / 10} s\n`);
    runs.push(run.results);
  }
  const comparison = compareRuns(releases, scenarios, runs);
  for (const report of reports) await writeComparisonReport(comparison, report.kind as "json" | "html", report.file);
  process.stdout.write(renderComparison(comparison).join("\n") + "\n");
  return comparisonDiffers(comparison) ? EXIT.failed : EXIT.passed;
}

function shardOption(value: unknown): Shard {
  try {
    return parseShard(String(value));
  } catch (error) {
    if (error instanceof ShardError) throw new UsageError(error.message);
    throw error;
  }
}

async function merge(args: string[]): Promise<number> {
  const { values, positionals } = parse("merge", args);
  if (values.help) return printHelp("merge");
  if (positionals.length === 0) throw new UsageError(`merge takes the shards' JSON reports\n\n${HELP.merge}`);
  const reports = ((values.report as string[] | undefined) ?? []).map(parseReportFlag);
  const { mergeReports, readShardReports, MergeError } = await import("./report/merge.js");
  let run: RunResult;
  try {
    run = mergeReports(await readShardReports(positionals));
  } catch (error) {
    if (error instanceof MergeError) throw new UsageError(error.message);
    throw error;
  }
  await writeReports(run, reports);
  createConsoleReporter(process.stdout, { color: useColor(values["no-color"]) }).summary(run);
  return runPassed(run) ? EXIT.passed : EXIT.failed;
}

async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parse("validate", args);
  if (values.help) return printHelp("validate");
  const scenarios = await loadScenarioFiles(positionals.length > 0 ? positionals : ["scenarios"]);
  const files = new Set(scenarios.map((scenario) => scenario.source.file));
  process.stdout.write(`${scenarios.length} scenario(s) in ${files.size} file(s): valid\n`);
  return EXIT.passed;
}

async function explain(args: string[]): Promise<number> {
  const { values, positionals } = parse("explain", args);
  if (values.help) return printHelp("explain");
  if (positionals.length !== 1) throw new UsageError(`explain takes exactly one FILE\n\n${HELP.explain}`);
  const postfix = releaseOption(values.postfix);
  const scenario = await loadOne(positionals[0]!, values.only as string[] | undefined, postfix);
  const reporter = createConsoleReporter(process.stderr, { color: useColor(values["no-color"]) });
  const signal = onInterrupt(() => ({ results: [], durationMs: 0 }), []);
  const { runScenarios } = await harness();
  const result = await runScenarios([scenario], { signal, ...(postfix && { postfix }), listener: { worldStarting: (step) => reporter.worldStarting(step), worldReady: (ms, software) => reporter.worldReady(ms, software) } });
  if (signal.aborted) return untilExit();
  const only = result.results[0]!;
  process.stdout.write(explainResult(only));
  return scenarioPassed(only) ? EXIT.passed : EXIT.failed;
}

async function clean(args: string[]): Promise<number> {
  const { values } = parse("clean", args);
  if (values.help) return printHelp("clean");
  const { removeLeftovers } = await harness();
  const removed = await removeLeftovers({ all: values.all === true });
  process.stdout.write(
    removed.containers.length + removed.networks.length === 0
      ? "nothing to clean\n"
      : `removed ${removed.containers.length} container(s): ${removed.containers.join(", ") || "-"}\n` +
          `removed ${removed.networks.length} network(s): ${removed.networks.join(", ") || "-"}\n`,
  );
  return EXIT.passed;
}

async function serve(args: string[]): Promise<number> {
  const { values } = parse("serve", args);
  if (values.help) return printHelp("serve");
  const { startLabServer, DEFAULT_LAB_PORT } = await import("./lab/server.js");
  const port = integerOption("--port", values.port, 1, 65535) ?? DEFAULT_LAB_PORT;
  const lab = await startLabServer({ port, warmUp: true, log: (line) => process.stderr.write(`${line}\n`) }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new UsageError(`port ${port} on 127.0.0.1 is in use; choose another with --port`);
    throw error;
  });
  // The interrupt handler removes the worlds' containers (every live run of this process) and exits.
  onInterrupt(() => ({ results: [], durationMs: 0 }), []);
  process.stdout.write(`starttls-lab lab: ${lab.url} (this machine only; Ctrl-C stops it and removes its containers)\n`);
  return untilExit();
}

/** Exit codes of diagnose: whether the input showed a TLS situation it knows. */
const DIAGNOSE_EXIT = { recognised: 0, notRecognised: 1 } as const;

async function readInput(source: string | undefined): Promise<string> {
  if (source !== undefined && source !== "-") return readFile(source, "utf8");
  if (process.stdin.isTTY) throw new UsageError(`diagnose reads FILE, or standard input (- or a pipe)\n\n${HELP.diagnose}`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function diagnoseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("diagnose", args);
  if (values.help) return printHelp("diagnose");
  if (positionals.length > 1) throw new UsageError(`diagnose takes one FILE (or -)\n\n${HELP.diagnose}`);
  const raw = await readInput(positionals[0]).catch((error: unknown) => {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${positionals[0]}: ${(error as Error).message}`);
  });
  const { diagnose, formatDiagnosis, scenarioFileText, shippedScenarios } = await import("./diagnose/index.js");
  const diagnosis = await diagnose(raw);
  process.stdout.write(formatDiagnosis(diagnosis, await shippedScenarios()));
  const target = values.write as string | undefined;
  if (!diagnosis.recognised) {
    if (target !== undefined) process.stdout.write(`nothing written to ${target}\n`);
    return DIAGNOSE_EXIT.notRecognised;
  }
  if (target === undefined) {
    process.stdout.write("\nTo write the case and its fix as a scenario file: add --write FILE, then starttls-lab run FILE\n");
  } else {
    await writeFile(target, scenarioFileText(diagnosis, target));
    process.stdout.write(`\nwrote ${target}: the case and its fix; run it with: starttls-lab run ${target}\n`);
  }
  return DIAGNOSE_EXIT.recognised;
}

function printHelp(command: string): number {
  process.stdout.write(HELP[command] + "\n");
  return EXIT.passed;
}

/** The commands on a world that stays up, each in its own module under commands/ (loaded only when used). */
const WORLD_COMMANDS = {
  up: () => import("./commands/up.js").then((module) => module.up),
  apply: () => import("./commands/apply.js").then((module) => module.apply),
  send: () => import("./commands/send.js").then((module) => module.send),
  logs: () => import("./commands/logs.js").then((module) => module.logs),
  status: () => import("./commands/status.js").then((module) => module.status),
  down: () => import("./commands/down.js").then((module) => module.down),
};

function worldCommand(name: keyof typeof WORLD_COMMANDS): (args: string[]) => Promise<number> {
  return async (args) => {
    const input = parse(name, args);
    if (input.values.help) return printHelp(name);
    return (await WORLD_COMMANDS[name]())(input);
  };
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run,
  validate,
  explain,
  compare,
  merge,
  clean,
  diagnose: diagnoseCommand,
  serve,
  ...Object.fromEntries(Object.keys(WORLD_COMMANDS).map((name) => [name, worldCommand(name as keyof typeof WORLD_COMMANDS)])),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") return printHelp("main");
    const handler = COMMANDS[command];
    if (!handler) throw new UsageError(`unknown command "${command}"\n\n${HELP.main}`);
    return await handler(args);
  } catch (error) {
    if (error instanceof ScenarioError || error instanceof UsageError || error instanceof ReportFlagError) {
      process.stderr.write(`starttls-lab: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof Error && ENVIRONMENT_ERRORS.has(error.name)) {
      process.stderr.write(`starttls-lab: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`starttls-lab: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT.failed);
  },
);

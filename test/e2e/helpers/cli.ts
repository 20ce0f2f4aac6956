/**
 * Running the built command line (`node dist/cli.js …`) as a child process,
 * the way a user or a CI job does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const CLI = path.join(REPO_ROOT, "dist", "cli.js");

/** What every child process gets: our environment, plain output, no Ryuk, no host probing. */
export function childEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NO_COLOR: "1",
    TESTCONTAINERS_RYUK_DISABLED: "true",
    TESTCONTAINERS_HOST_OVERRIDE: "localhost",
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  durationMs: number;
}

/** A running `node dist/cli.js …`, with its output collected as it comes. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout = "";
  stderr = "";
  private readonly started = Date.now();
  private readonly exited: Promise<CliResult>;
  private readonly watchers = new Set<() => void>();

  constructor(args: string[], script = CLI, env: NodeJS.ProcessEnv = childEnv()) {
    this.child = spawn(process.execPath, [script, ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    if (this.child.pid === undefined) throw new Error(`could not spawn ${script}`);
    this.pid = this.child.pid;
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
      for (const watcher of this.watchers) watcher();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.once("error", reject);
      this.child.once("close", (code, signal) => {
        for (const watcher of this.watchers) watcher();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, pid: this.pid, durationMs: Date.now() - this.started });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first complete stdout line that matches; rejects if the process ends first. */
  waitForLine(matches: (line: string) => boolean, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const line = this.stdout.split("\n").slice(0, -1).find(matches);
        if (line !== undefined) {
          this.watchers.delete(check);
          resolve(line);
        } else if (!this.running) {
          this.watchers.delete(check);
          reject(new Error(`the process ended before ${what}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`));
        }
      };
      this.watchers.add(check);
      check();
    });
  }

  /** Resolves when the process has ended (its output streams closed). */
  finished(): Promise<CliResult> {
    return this.exited;
  }

  /** Like finished(), but rejects after `ms` so a hung process fails the test with its output. */
  finishedWithin(ms: number, what: string): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: still running after ${ms} ms\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`)),
        ms,
      );
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}

/**
 * Ends every child a test spawned and removes what each left in Docker, so a
 * failed test leaves nothing running (for afterEach).
 */
export async function endChildren(children: CliProcess[], removeLeftBy: (pid: number) => Promise<void>): Promise<void> {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child.finished().catch(() => undefined);
    await removeLeftBy(child.pid);
  }
}

/** Runs `node dist/cli.js …args` to the end. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new CliProcess(args, CLI, options.env).finished();
}

/** The lines a run prints when a scenario finishes: "✓ [1/3] name: …" or "✗ [2/3] name: …". */
export function resultLines(stdout: string): string[] {
  return stdout.split("\n").filter((line) => /^[✓✗] \[/.test(line));
}

/** The scenario name in a result line. */
export function nameInResultLine(line: string): string {
  return line.replace(/^[✓✗] \[\s*\d+\/\d+\] /, "").replace(/: (delivered|deferred|bounced|rejected|no observation).*$/, "");
}

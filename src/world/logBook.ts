/**
 * A container's log as an append-only list of lines, with event-driven
 * waiting: callers wait for a line that satisfies a predicate, starting from
 * a cursor (so a scenario only ever looks at its own lines), with a timeout
 * that names what was awaited.
 */
import type { Readable } from "node:stream";

interface Waiter {
  from: number;
  test: (line: string) => boolean;
  resolve: (found: { line: string; index: number }) => void;
  reject: (error: Error) => void;
}

/** The log stream ended: the container stopped, so nothing awaited can still come. */
export class LogEndedError extends Error {
  constructor(name: string, what: string) {
    super(`the ${name} log ended (its container stopped) while waiting for ${what}`);
    this.name = "LogEndedError";
  }
}

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, recentLines: string[]) {
    super(
      `timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}` +
        (recentLines.length > 0 ? `\n  last log lines:\n    ${recentLines.join("\n    ")}` : ""),
    );
    this.name = "WaitTimeoutError";
  }
}

export class LogBook {
  private readonly lines: string[] = [];
  private waiters: Waiter[] = [];
  private partial = "";
  private ended = false;
  private stream?: Readable;

  constructor(readonly name: string) {}

  /** Feed a log stream (testcontainers' log consumer). */
  attach(stream: Readable): void {
    this.stream = stream;
    stream.on("data", (chunk: Buffer | string) => this.append(chunk.toString()));
    stream.on("end", () => this.end());
    stream.on("close", () => this.end());
  }

  /** Stop following the container's log while it runs on (another process follows it now); ends the book. */
  detach(): void {
    this.stream?.destroy();
    this.end();
  }

  /** No more lines will come: fail every waiter now instead of at its timeout. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(new LogEndedError(this.name, "its next lines"));
  }


  append(text: string): void {
    const pieces = (this.partial + text).split("\n");
    this.partial = pieces.pop() ?? "";
    for (const raw of pieces) {
      const line = raw.replace(/\r$/, "");
      if (line.trim() === "") continue;
      this.lines.push(line);
      this.notify(line, this.lines.length - 1);
    }
  }

  /** Index of the next line to arrive: a cursor for "from now on". */
  get cursor(): number {
    return this.lines.length;
  }

  since(cursor: number): string[] {
    return this.lines.slice(cursor);
  }

  tail(count: number): string[] {
    return this.lines.slice(-count);
  }

  waitFor(test: (line: string) => boolean, options: { from: number; timeoutMs: number; what: string }): Promise<{ line: string; index: number }> {
    for (let index = options.from; index < this.lines.length; index++) {
      const line = this.lines[index]!;
      if (test(line)) return Promise.resolve({ line, index });
    }
    if (this.ended) return Promise.reject(new LogEndedError(this.name, options.what));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        from: options.from,
        test,
        resolve: (found) => {
          clearTimeout(timer);
          resolve(found);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(new WaitTimeoutError(`${options.what} in the ${this.name} log`, options.timeoutMs, this.tail(8)));
      }, options.timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private notify(line: string, index: number): void {
    const satisfied = this.waiters.filter((waiter) => index >= waiter.from && waiter.test(line));
    if (satisfied.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => !satisfied.includes(waiter));
    for (const waiter of satisfied) waiter.resolve({ line, index });
  }
}

/**
 * The wire container's program: the proxy on port 25 in front of Bob's
 * provider, and a small HTTP control port for the harness.
 *
 * Control (JSON over HTTP, published on 127.0.0.1 only):
 * - PUT /scenario {"mode": "...", "marker": "..."}: the next connections use
 *   this mode and look for this marker; transcripts of earlier scenarios are
 *   dropped.
 * - PUT /mode {"mode": "..."}: the next connections use this mode, within the
 *   same scenario (an event between two delivery attempts): nothing dropped.
 * - GET /hops?timeoutMs=N: waits until no connection is open (or N ms
 *   passed), then answers {"open": n, "hops": [WireTranscript, ...]}.
 * - GET /live?since=V&timeoutMs=N: waits until something happened after
 *   version V (bytes moved, a connection closed, a new scenario), or N ms
 *   passed, then answers {"version": v, "hops": [...]}: the scenario's
 *   connections so far, the open ones as recorded until now. For a live view.
 *
 * Configured by environment: WIRE_UPSTREAM (host:port of the real server),
 * WIRE_MITM_CERT / WIRE_MITM_KEY (PEM files for the mitm mode).
 *
 * Runs on Debian bookworm's nodejs 18: Node 18 APIs only, no npm dependencies.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { startWireProxy, type WireProxy } from "./proxy.js";
import { WIRE_MODES, type WireMode, type WireTranscript } from "./transcript.js";

const SMTP_PORT = 25;
const CONTROL_PORT = 8025;
const MAX_WAIT_MS = 60_000;

function upstreamFromEnv(): { host: string; port: number } {
  const [host, port] = (process.env.WIRE_UPSTREAM ?? "").split(":");
  if (!host) throw new Error("WIRE_UPSTREAM (host:port of the receiving server) is not set");
  return { host, port: Number(port ?? SMTP_PORT) || SMTP_PORT };
}

function mitmFromEnv(): { certPem: string; keyPem: string } | undefined {
  const cert = process.env.WIRE_MITM_CERT;
  const key = process.env.WIRE_MITM_KEY;
  if (!cert || !key) return undefined;
  return { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8") };
}

/** Per-scenario state, and the connections of the current scenario. */
class Control {
  mode: WireMode = "pass";
  marker = "";
  open = 0;
  hops: WireTranscript[] = [];
  /** Counts what happened, for /live: every change of the scenario's record makes it grow. */
  version = 0;
  private waiters: Array<() => void> = [];
  private watchers: Array<() => void> = [];

  /** Something of the scenario's record changed. */
  changed(): void {
    this.version++;
    for (const wake of this.watchers.splice(0)) wake();
  }

  /** Resolves once the version is past `since`, or after timeoutMs. */
  changedSince(since: number, timeoutMs: number): Promise<void> {
    return wakeUp(this.version > since, this.watchers, timeoutMs);
  }

  accepted(): WireMode {
    this.open++;
    return this.mode;
  }

  finished(hop: WireTranscript): void {
    this.open = Math.max(0, this.open - 1);
    this.hops.push(hop);
    const summary = `${hop.mode}, ${hop.transcript.events.length} events, plaintextBody=${hop.transcript.plaintextBody}`;
    process.stdout.write(`wire: connection ${hop.id} closed (${summary})\n`);
    if (this.open === 0) for (const wake of this.waiters.splice(0)) wake();
    this.changed();
  }

  reset(mode: WireMode, marker: string): void {
    this.mode = mode;
    this.marker = marker;
    this.hops = [];
    this.changed();
  }

  /** Resolves once no connection is open, or after timeoutMs. */
  settled(timeoutMs: number): Promise<void> {
    return wakeUp(this.open === 0, this.waiters, timeoutMs);
  }
}

/** Resolves now if `already`, else when one of `wakers` is called, or after timeoutMs. */
function wakeUp(already: boolean, wakers: Array<() => void>, timeoutMs: number): Promise<void> {
  if (already) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      resolve();
    }
    wakers.push(done);
  });
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function answer(response: http.ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json" });
  response.end(text);
}

async function handle(control: Control, proxy: WireProxy, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://wire");
  if (request.method === "PUT" && url.pathname === "/scenario") {
    const asked = JSON.parse(await readBody(request)) as { mode?: unknown; marker?: unknown };
    if (typeof asked.mode !== "string" || !(WIRE_MODES as readonly string[]).includes(asked.mode)) {
      answer(response, 400, { error: `mode must be one of ${WIRE_MODES.join(", ")}` });
      return;
    }
    control.reset(asked.mode as WireMode, typeof asked.marker === "string" ? asked.marker : "");
    process.stdout.write(`wire: scenario set, mode ${control.mode}\n`);
    answer(response, 204);
    return;
  }
  if (request.method === "PUT" && url.pathname === "/mode") {
    // An event of the scenario: a new mode from the next connection on, the scenario's record kept.
    const asked = JSON.parse(await readBody(request)) as { mode?: unknown };
    if (typeof asked.mode !== "string" || !(WIRE_MODES as readonly string[]).includes(asked.mode)) {
      answer(response, 400, { error: `mode must be one of ${WIRE_MODES.join(", ")}` });
      return;
    }
    control.mode = asked.mode as WireMode;
    process.stdout.write(`wire: mode changed to ${control.mode}, the scenario's connections kept\n`);
    answer(response, 204);
    return;
  }
  if (request.method === "GET" && url.pathname === "/hops") {
    const timeoutMs = Math.min(Number(url.searchParams.get("timeoutMs") ?? 10_000) || 0, MAX_WAIT_MS);
    await control.settled(timeoutMs);
    answer(response, 200, { open: control.open, hops: control.hops });
    return;
  }
  if (request.method === "GET" && url.pathname === "/live") {
    const since = Number(url.searchParams.get("since") ?? -1);
    const timeoutMs = Math.min(Number(url.searchParams.get("timeoutMs") ?? 10_000) || 0, MAX_WAIT_MS);
    await control.changedSince(Number.isFinite(since) ? since : -1, timeoutMs);
    answer(response, 200, { version: control.version, hops: [...control.hops, ...proxy.live()].sort((a, b) => a.id - b.id) });
    return;
  }
  answer(response, 404, { error: `no ${request.method} ${url.pathname}` });
}

async function main(): Promise<void> {
  const control = new Control();
  const upstream = upstreamFromEnv();
  const mitm = mitmFromEnv();
  const proxy = await startWireProxy({
    listenPort: SMTP_PORT,
    upstream,
    ...(mitm ? { mitm } : {}),
    mode: () => control.accepted(),
    marker: () => control.marker,
    onTranscript: (hop) => control.finished(hop),
    onActivity: () => control.changed(),
  });
  const server = http.createServer((request, response) => {
    handle(control, proxy, request, response).catch((error: unknown) => answer(response, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(CONTROL_PORT, "0.0.0.0", resolve));
  process.stdout.write(`wire: listening on port ${SMTP_PORT}, relaying to ${upstream.host}:${upstream.port}; control on port ${CONTROL_PORT}\n`);
  const stop = () => process.exit(0);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`wire: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

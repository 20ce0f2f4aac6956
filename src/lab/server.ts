/**
 * `starttls-lab serve`: the lab's HTTP server, on 127.0.0.1 only. It serves
 * the page and its assets from the package (nothing from elsewhere), the
 * choices and the lesson, a server-sent event stream shared by every tab,
 * and the exports of each run (scenario file, HTML report).
 *
 * Loopback only, twice: the socket must have been accepted on a loopback
 * address, and the Host header must name the loopback host and this port
 * (a page elsewhere that rebinds its DNS name to 127.0.0.1 still sends its
 * own name). A POST must also carry JSON and, when the browser says where it
 * comes from, come from this origin.
 */
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { CERTIFICATE_VARIANTS } from "../pki/variantNames.js";
import { DIAGRAM_CSS } from "../report/sequenceDiagram.js";
import { SERVER_SECURITY_LEVELS } from "../scenario/postfixValues.js";
import { mtaStsModes, tlsaRecords, wireModes, zoneSignings } from "../scenario/schema.js";
import { ScenarioError } from "../scenario/errors.js";
import { packageRoot } from "../paths.js";
import { ChoicesError, DEFAULT_CHOICES, LAB_RELEASES, LAB_SENDER_LEVELS, parseChoices, PREDICTIONS } from "./choices.js";
import { LESSON } from "./lesson.js";
import { LabSession, PHASES, RunNotFound, type LabEvent } from "./session.js";

export const DEFAULT_LAB_PORT = 8025;
/** The only address the lab listens on. */
export const LAB_HOST = "127.0.0.1";

const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::ffff:127.0.0.1", "::1"]);
const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** A JSON body of choices is a few hundred bytes. */
const MAX_BODY_BYTES = 16 * 1024;
/** Proxies and browsers drop an idle stream; a comment line keeps it open. */
const KEEPALIVE_MS = 15_000;

/** Why a request must be refused, or undefined when it came over loopback for this server's loopback name. */
export function loopbackRefusal(localAddress: string | undefined, hostHeader: string | undefined, port: number): string | undefined {
  if (localAddress === undefined || !LOOPBACK_ADDRESSES.has(localAddress)) return `the lab answers on loopback only, not on ${localAddress ?? "an unknown address"}`;
  if (hostHeader === undefined) return "a Host header is required";
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!match) return `Host "${hostHeader}" is not a host name`;
  const [, name, portText] = match;
  if (!LOOPBACK_NAMES.has(name!)) return `Host "${hostHeader}" is not this machine's loopback (use http://127.0.0.1:${port}/)`;
  if (Number(portText ?? "80") !== port) return `Host "${hostHeader}" names another port than ${port}`;
  return undefined;
}

/** A cross-site form or script may POST to 127.0.0.1; only a page of this origin may. */
function originRefusal(origin: string | undefined, port: number): string | undefined {
  if (origin === undefined) return undefined;
  const allowed = [...LOOPBACK_NAMES].map((name) => `http://${name}:${port}`);
  return allowed.includes(origin.toLowerCase()) ? undefined : `requests from ${origin} are not accepted`;
}

/** What the form offers, read from the same lists the scenario schema checks. */
function labOptions() {
  return {
    releases: LAB_RELEASES,
    senderLevels: LAB_SENDER_LEVELS,
    receiverLevels: SERVER_SECURITY_LEVELS,
    certificates: CERTIFICATE_VARIANTS,
    wireModes,
    zones: zoneSignings,
    tlsa: tlsaRecords,
    mtaSts: mtaStsModes,
    predictions: Object.keys(PREDICTIONS),
    phases: PHASES,
    defaults: DEFAULT_CHOICES,
    lesson: LESSON,
  };
}

interface Asset {
  type: string;
  body: string;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const folder = path.join(packageRoot(), "src", "lab", "public");
  const files: Array<[string, string, string]> = [
    ["/", "index.html", "text/html; charset=utf-8"],
    ["/lab.css", "lab.css", "text/css; charset=utf-8"],
    ["/lab.js", "lab.js", "text/javascript; charset=utf-8"],
  ];
  const assets = new Map<string, Asset>();
  for (const [route, file, type] of files) assets.set(route, { type, body: await readFile(path.join(folder, file), "utf8") });
  // The diagram's own stylesheet, from the renderer the HTML report uses.
  assets.set("/diagram.css", { type: "text/css; charset=utf-8", body: DIAGRAM_CSS });
  return assets;
}

/** Nothing is loaded from elsewhere; the diagram is inline SVG. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(response: http.ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "cache-control": "no-store", ...extra });
  response.end(body);
}

function sendJson(response: http.ServerResponse, status: number, value: unknown): void {
  send(response, status, "application/json; charset=utf-8", JSON.stringify(value));
}

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  if (!(request.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) throw new HttpError(415, "send the choices as application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `a request body may not exceed ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "the body is not JSON");
  }
}

function eventFrame(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function streamEvents(session: LabSession, request: http.IncomingMessage, response: http.ServerResponse): void {
  response.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
  response.write(eventFrame("snapshot", session.snapshot()));
  const unsubscribe = session.subscribe((event: LabEvent) => {
    response.write(eventFrame(event.type, event.type === "world" ? event.world : event.run));
  });
  const keepalive = setInterval(() => response.write(": keepalive\n\n"), KEEPALIVE_MS);
  request.on("close", () => {
    clearInterval(keepalive);
    unsubscribe();
  });
}

const RUN_EXPORT = /^\/api\/runs\/(\d+)\/(scenario\.yaml|report\.html)$/;

async function route(session: LabSession, assets: Map<string, Asset>, port: number, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", `http://${LAB_HOST}:${port}`);
  const method = request.method ?? "GET";
  const asset = assets.get(url.pathname);
  if (asset && (method === "GET" || method === "HEAD")) return send(response, 200, asset.type, asset.body);
  if (url.pathname === "/api/options" && method === "GET") return sendJson(response, 200, labOptions());
  if (url.pathname === "/api/events" && method === "GET") return streamEvents(session, request, response);
  if (url.pathname === "/api/runs" && method === "GET") return sendJson(response, 200, session.snapshot().runs);
  if (url.pathname === "/api/runs" && method === "POST") {
    const refused = originRefusal(request.headers.origin, port);
    if (refused) throw new HttpError(403, refused);
    const choices = parseChoices(await readJson(request));
    return sendJson(response, 202, session.submit(choices));
  }
  const exported = RUN_EXPORT.exec(url.pathname);
  if (exported && method === "GET") {
    const id = Number(exported[1]);
    if (exported[2] === "scenario.yaml") {
      return send(response, 200, "application/yaml; charset=utf-8", session.scenarioFile(id), { "content-disposition": `attachment; filename="lab-run-${id}.yaml"` });
    }
    return send(response, 200, "text/html; charset=utf-8", session.htmlReport(id), { "content-disposition": `attachment; filename="lab-run-${id}.html"` });
  }
  throw new HttpError(404, `nothing at ${method} ${url.pathname}`);
}

export interface LabServerOptions {
  /** 0 picks a free port (tests). */
  port?: number;
  /** Start the default release's world right away, so the first Send does not wait for it. */
  warmUp?: boolean;
  log?: (line: string) => void;
}

export interface RunningLab {
  url: string;
  port: number;
  session: LabSession;
  close(): Promise<void>;
}

export async function startLabServer(options: LabServerOptions = {}): Promise<RunningLab> {
  const assets = await loadAssets();
  const session = new LabSession({ log: options.log });
  let port = options.port ?? DEFAULT_LAB_PORT;
  const server = http.createServer((request, response) => {
    const refused = loopbackRefusal(request.socket.localAddress, request.headers.host, port);
    if (refused) return send(response, 403, "text/plain; charset=utf-8", `${refused}\n`);
    route(session, assets, port, request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : error instanceof ChoicesError || error instanceof ScenarioError ? 400 : error instanceof RunNotFound ? 404 : 500;
      if (status === 500) options.log?.(`lab: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (response.headersSent) return response.end();
      sendJson(response, status, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, LAB_HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  if (options.warmUp) session.world(DEFAULT_CHOICES.release).catch(() => undefined); // its failure is shown in the page as a world event
  return {
    url: `http://${LAB_HOST}:${port}/`,
    port,
    session,
    async close() {
      // Event streams never end by themselves.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await session.close();
    },
  };
}

/**
 * `starttls-lab serve`: the lab's server over HTTP, then with a real world
 * (one for the file, started by the lab itself): Debian's headless Chromium
 * drives the page through playwright-core, and the API's queue and exports
 * are checked over the same event stream the page reads.
 *
 * Screenshots are kept in reports/ (lab-*.png); LAB_DOCS_SCREENSHOT=docs/lab.png
 * also copies the README's one there.
 */
import { copyFile, mkdir } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { existsSync } from "node:fs";
import os from "node:os";
import { dirname } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startLabServer, loopbackRefusal, type RunningLab } from "../../src/lab/server.js";
import type { RunView } from "../../src/lab/session.js";
import { DIAGRAM_CSS } from "../../src/report/sequenceDiagram.js";
import { loadScenarioText } from "../../src/scenario/load.js";
import { CliProcess, endChildren } from "./helpers/cli.js";
import { ownedBy, removeOwnedBy } from "./helpers/docker.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** A world starts in about a minute on an idle 2-core machine; a busy one takes longer. */
const WORLD_START_MS = 280_000;
const RUN_MS = 120_000;

/** One HTTP request with headers fetch() would not let us set (Host). */
function rawRequest(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path ?? "/", headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

interface ServerEvent {
  name: string;
  data: unknown;
}

/** The lab's event stream, read as a browser's EventSource would; `next` waits for the first event that matches. */
async function openEvents(url: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}api/events`, { signal: controller.signal });
  const received: ServerEvent[] = [];
  const waiters: Array<{ match: (event: ServerEvent) => boolean; from: number; resolve: (event: ServerEvent) => void }> = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const settle = () => {
    for (const waiter of [...waiters]) {
      const found = received.slice(waiter.from).find(waiter.match);
      if (found) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(found);
      }
    }
  };
  void (async () => {
    const reader = response.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (name !== undefined && data !== undefined) received.push({ name, data: JSON.parse(data) });
      }
      settle();
    }
  })();
  return {
    received,
    contentType: response.headers.get("content-type"),
    next(match: (event: ServerEvent) => boolean, from = 0): Promise<ServerEvent> {
      return new Promise((resolve) => {
        waiters.push({ match, from, resolve });
        settle();
      });
    },
    close: () => controller.abort(),
  };
}

const runEvent = (id: number, status: RunView["status"]) => (event: ServerEvent) =>
  event.name === "run" && (event.data as RunView).id === id && (event.data as RunView).status === status;

describe("the lab's server, before any world", () => {
  let lab: RunningLab;
  beforeAll(async () => {
    lab = await startLabServer({ port: 0 });
  });
  afterAll(async () => {
    await lab?.close();
  });

  test.each([
    ["127.0.0.1", "127.0.0.1:8025", undefined],
    ["127.0.0.1", "localhost:8025", undefined],
    ["::ffff:127.0.0.1", "LOCALHOST:8025", undefined],
    ["192.168.1.20", "127.0.0.1:8025", "loopback only, not on 192.168.1.20"],
    ["127.0.0.1", "lab.evil.example:8025", `Host "lab.evil.example:8025" is not this machine's loopback`],
    ["127.0.0.1", "127.0.0.1:9999", "names another port than 8025"],
    ["127.0.0.1", "127.0.0.1", "names another port than 8025"],
    ["127.0.0.1", undefined, "a Host header is required"],
  ])("socket on %s, Host %s: %s", (local, host, refusal) => {
    const answer = loopbackRefusal(local, host, 8025);
    if (refusal === undefined) expect(answer).toBeUndefined();
    else expect(answer).toContain(refusal);
  });

  test("a request naming another host is refused, even over loopback (DNS rebinding)", async () => {
    const refused = await rawRequest(lab.port, { headers: { host: `rebound.evil.example:${lab.port}` } });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("is not this machine's loopback");
    const page = await rawRequest(lab.port, { headers: { host: `localhost:${lab.port}` } });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>starttls-lab: the lab</title>");
  });

  test("it listens on 127.0.0.1 only: this machine's other addresses are refused", async () => {
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal && address.family === "IPv4");
    if (others.length === 0) return; // a machine with loopback only: nothing else to connect to
    for (const address of others) {
      await expect(fetch(`http://${address!.address}:${lab.port}/`)).rejects.toThrow();
    }
  });

  test("a POST from another origin, or not JSON, starts nothing", async () => {
    const body = JSON.stringify({ senderLevel: "may" });
    const crossSite = await rawRequest(lab.port, {
      method: "POST",
      path: "/api/runs",
      headers: { host: `127.0.0.1:${lab.port}`, origin: "https://evil.example", "content-type": "application/json" },
      body,
    });
    expect(crossSite.status).toBe(403);
    const form = await fetch(`${lab.url}api/runs`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "senderLevel=may" });
    expect(form.status).toBe(415);
    expect(lab.session.snapshot().runs).toEqual([]);
  });

  test("choices outside the lists are refused with the field named, and nothing is queued", async () => {
    const response = await fetch(`${lab.url}api/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ senderLevel: "sometimes", wire: "pass" }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^senderLevel: .*"may"/);
    const unknown = await fetch(`${lab.url}api/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ relayhost: "[evil.example]" }) });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toContain("relayhost");
    expect(lab.session.snapshot().runs).toEqual([]);
  });

  test("a run that does not exist has no export", async () => {
    expect((await fetch(`${lab.url}api/runs/7/scenario.yaml`)).status).toBe(404);
    expect((await fetch(`${lab.url}api/runs/7/report.html`)).status).toBe(404);
  });

  test("the diagram's stylesheet is the HTML report's, and the event stream opens with a snapshot", async () => {
    expect(await (await fetch(`${lab.url}diagram.css`)).text()).toBe(DIAGRAM_CSS);
    const events = await openEvents(lab.url);
    try {
      expect(events.contentType).toMatch(/^text\/event-stream/);
      const snapshot = await events.next((event) => event.name === "snapshot");
      expect(snapshot.data).toEqual({ worlds: [], runs: [] });
    } finally {
      events.close();
    }
  });
});

describe("the lab with a real world", () => {
  let lab: RunningLab;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}; install it with: bash scripts/ensure-chromium.sh`);
    lab = await startLabServer({ port: 0, warmUp: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("request", (request) => requests.push(request.url()));
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(lab.url, { waitUntil: "load" });
  }, WORLD_START_MS);

  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  async function screenshot(name: string): Promise<string> {
    // The live diagram is drawn row by row; wait for the last row.
    await page.locator('#live-result figure.diagram[data-drawn="yes"]').waitFor();
    const file = `reports/lab-${name}.png`;
    await mkdir("reports", { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  /** Sends from the form and waits for that run's outcome to show in the live pane. */
  async function sendAndWait(runNumber: number, how: "click" | "keyboard"): Promise<string> {
    if (how === "click") await page.getByRole("button", { name: "Send" }).click();
    else {
      await page.getByRole("button", { name: "Send" }).focus();
      await page.keyboard.press("Enter");
    }
    const outcome = page.locator(`#live-result [data-run="${runNumber}"] [data-testid="outcome"]`);
    await outcome.waitFor({ timeout: WORLD_START_MS });
    return (await outcome.textContent()) ?? "";
  }

  test(
    "in the browser: may under strip-starttls arrives in plaintext, body flagged readable; encrypt is deferred",
    async () => {
      await page.getByRole("status").filter({ hasText: "Postfix 3.10 world" }).waitFor();
      await page.getByLabel("Sender's TLS level").selectOption("may");
      await page.getByLabel("Wire mode").selectOption("strip-starttls");
      await page.getByLabel("Your prediction").selectOption("delivered-plaintext");
      // Whether the page ever drew the hop while it happened (the live diagram is replaced by the final one).
      await page.evaluate(`new MutationObserver(() => {
        const live = document.querySelector('#live-result [data-testid="live-diagram"] svg.sd');
        if (live && live.textContent.includes("EHLO")) window.liveHopSeen = live.textContent;
      }).observe(document.body, { subtree: true, childList: true })`);
      const stripped = await sendAndWait(1, "click");
      expect(await page.evaluate("window.liveHopSeen")).toContain("EHLO smtp.infomaniak.test");
      expect(stripped).toBe("Delivered in plaintext");
      await expect(page.locator('#live-result [data-testid="body-readable"]').textContent()).resolves.toContain("Body readable");
      await expect(page.locator("#live-result .prediction").textContent()).resolves.toBe("Your prediction held");
      // The eavesdropper's view and the DNS lane are read from this run's evidence.
      await expect(page.locator("#live-result pre.eavesdropper").textContent()).resolves.toContain("the whole message, headers and body");
      await expect(page.locator("#live-result .dns-lookups").textContent()).resolves.toContain("asked iroco.test. MX: NOERROR");
      // The diagram is the report's: its clear-text band, and the attacker's note on the wire.
      await page.locator("#live-result svg.sd g.band-clear").waitFor();
      await expect(page.locator("#live-result svg.sd").textContent()).resolves.toContain("ATTACKER on the wire");
      expect(await page.locator("#phases li.done").count()).toBe(4);
      await screenshot("strip-may");

      await page.getByLabel("Sender's TLS level").selectOption("encrypt");
      await page.getByLabel("Your prediction").selectOption("deferred");
      const deferred = await sendAndWait(2, "keyboard");
      expect(deferred).toMatch(/^Deferred: .*TLS is required, but was not offered/);
      expect(await page.locator('#live-result [data-testid="body-readable"]').count()).toBe(0);
      await expect(page.locator("#live-result .prediction").textContent()).resolves.toBe("Your prediction held");

      // Side by side: the same attack against may and against encrypt.
      await page.getByRole("button", { name: "Compare run 1 on the left" }).click();
      await page.getByRole("button", { name: "Compare run 2 on the right" }).click();
      await expect(page.locator("#compare-left [data-testid=outcome]").textContent()).resolves.toBe("Delivered in plaintext");
      await expect(page.locator("#compare-right [data-testid=outcome]").textContent()).resolves.toMatch(/^Deferred/);
      const file = await screenshot("encrypt-deferred");

      await page.getByRole("button", { name: "Large type" }).click();
      await expect(page.locator("html").getAttribute("class")).resolves.toContain("large");
      await screenshot("large-type");
      await page.getByRole("button", { name: "Large type" }).click();

      const docs = process.env.LAB_DOCS_SCREENSHOT;
      if (docs !== undefined && docs !== "") {
        await mkdir(dirname(docs), { recursive: true });
        await copyFile(file, docs);
      }
      // Every asset came from the lab itself, and the page raised no error.
      const origin = new URL(lab.url).origin;
      expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
    WORLD_START_MS + 2 * RUN_MS,
  );

  test("the guided lesson puts a step's settings in the form", async () => {
    await page.getByRole("button", { name: "Next step" }).click();
    await page.getByRole("button", { name: "Next step" }).click();
    await expect(page.locator("#lesson-step-title").textContent()).resolves.toContain("Stripping STARTTLS against an opportunistic sender");
    await page.getByRole("button", { name: "Use these settings" }).click();
    expect(await page.getByLabel("Wire mode").inputValue()).toBe("strip-starttls");
    expect(await page.getByLabel("Sender's TLS level").inputValue()).toBe("may");
    expect(await page.getByLabel("Your prediction").inputValue()).toBe("delivered-plaintext");
    // Keyboard users land on Send, ready to run the step.
    expect(await page.locator("#send").evaluate((send) => send.ownerDocument.activeElement === send)).toBe(true);
  });

  test(
    "requests are queued: two sent at once run one after the other, every tab sees both",
    async () => {
      const events = await openEvents(lab.url);
      try {
        const post = (choices: object) =>
          fetch(`${lab.url}api/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(choices) }).then(async (response) => {
            expect(response.status).toBe(202);
            return (await response.json()) as RunView;
          });
        const [first, second] = await Promise.all([
          post({ senderLevel: "encrypt", receiverLevel: "none", prediction: "deferred" }),
          post({ senderLevel: "encrypt", receiverLevel: "may", prediction: "delivered-tls" }),
        ]);
        expect(second.id).toBe(first.id + 1);
        await events.next(runEvent(second.id, "finished"));
        const order = events.received
          .filter((event) => event.name === "run" && [first.id, second.id].includes((event.data as RunView).id))
          .map((event) => `${(event.data as RunView).id}:${(event.data as RunView).status}:${(event.data as RunView).phase ?? ""}`);
        const index = (entry: string) => order.indexOf(entry);
        expect(index(`${first.id}:finished:observing`)).toBeGreaterThan(-1);
        expect(index(`${second.id}:running:applying`), order.join(" ")).toBeGreaterThan(index(`${first.id}:finished:observing`));
        // The phases, as they happened, in order (live redraws repeat a phase).
        expect(order.filter((entry, i) => entry.startsWith(`${first.id}:running`) && entry !== order[i - 1])).toEqual(
          ["applying", "submitting", "relaying", "observing"].map((phase) => `${first.id}:running:${phase}`),
        );
        // While the second message crossed the hop, every tab got the diagram as far as the wire had seen it.
        const secondEvents = events.received.filter((event) => event.name === "run" && (event.data as RunView).id === second.id).map((event) => event.data as RunView);
        const live = secondEvents.filter((run) => run.status === "running" && run.liveDiagramSvg !== undefined);
        expect(live.length, "live redraws of run 2").toBeGreaterThan(0);
        expect(live.some((run) => run.liveDiagramSvg!.includes("EHLO smtp.infomaniak.test"))).toBe(true);
        expect(live.every((run) => !run.liveDiagramSvg!.includes("in Bob&#39;s mailbox") && !run.liveDiagramSvg!.includes("in Bob's mailbox"))).toBe(true);
        expect(secondEvents.at(-1)?.liveDiagramSvg).toBeUndefined();
        const runs = lab.session.snapshot().runs;
        expect(runs.find((run) => run.id === first.id)?.outcome?.kind).toBe("deferred");
        expect(runs.find((run) => run.id === second.id)?.outcome?.kind).toBe("delivered-tls");
        // The page of the other tab caught up from the same stream.
        await page.locator(`#history-table tr[data-run="${second.id}"]`).waitFor();
      } finally {
        events.close();
      }
    },
    3 * RUN_MS,
  );

  test("each run exports as a scenario file that loads as it ran, and as the HTML report", async () => {
    const yaml = await (await fetch(`${lab.url}api/runs/1/scenario.yaml`)).text();
    const [scenario, ...more] = loadScenarioText(yaml, "lab-run-1.yaml");
    expect(more).toEqual([]);
    expect(scenario).toMatchObject({
      sender: { postfix: "3.10", postconf: { smtp_tls_security_level: "may" } },
      receiver: { postfix: "3.10" },
      wire: "strip-starttls",
      expect: { outcome: "delivered", transport: "plaintext" },
    });
    const report = await fetch(`${lab.url}api/runs/1/report.html`);
    expect(report.headers.get("content-disposition")).toBe('attachment; filename="lab-run-1.html"');
    const html = await report.text();
    expect(html).toContain(scenario!.name);
    expect(html).toContain('class="sd"');
    expect(html).toContain("1 passed");
  });

  test(
    "Postfix 3.7's world starts on demand beside 3.10's; a run whose world died says so, and the next one gets a fresh world",
    async () => {
      const events = await openEvents(lab.url);
      try {
        const post = async (choices: object) => {
          const response = await fetch(`${lab.url}api/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(choices) });
          expect(response.status).toBe(202);
          return (await response.json()) as RunView;
        };
        const old = await post({ release: "3.7", senderLevel: "encrypt", receiverLevel: "may", prediction: "delivered-tls" });
        const finished = (await events.next(runEvent(old.id, "finished"))).data as RunView;
        expect(finished.outcome?.kind, finished.outcome?.error).toBe("delivered-tls");
        expect(finished.outcome?.software).toMatch(/^sender Postfix 3\.7\.\d+, .*; receiver Postfix 3\.7\.\d+/);
        const worldOf = (release: string) => events.received.filter((event) => event.name === "world" && (event.data as { release: string }).release === release).map((event) => (event.data as { state: string }).state);
        expect(worldOf("3.7")[0]).toBe("starting");
        expect(worldOf("3.7")).toContain("ready");
        const [world37, world310] = await Promise.all([lab.session.world("3.7"), lab.session.world("3.10")]);
        const mailVersion = async (world: typeof world37) => (await world.sender.exec(["postconf", "-h", "mail_version"])).output.trim();
        expect(await mailVersion(world37)).toMatch(/^3\.7\./);
        expect(await mailVersion(world310)).toMatch(/^3\.10\./);
        await page.getByRole("status").filter({ hasText: "Postfix 3.7 world ready" }).waitFor();

        // A container dies under the lab: the run fails with the container's own notice, in the page too.
        await world37.receiver.stop({ remove: false, timeout: 0 });
        const broken = await post({ release: "3.7", senderLevel: "may", prediction: "delivered-tls" });
        const failed = (await events.next(runEvent(broken.id, "finished"))).data as RunView;
        expect(failed.outcome?.kind).toBe("failed");
        expect(failed.outcome?.error).toMatch(/receiver.* stopped \(exit code \d+\)/);
        expect(failed.outcome?.headline).toMatch(/^The run failed: .*receiver.* stopped \(exit code \d+\)$/);
        await page.getByRole("button", { name: `Show run ${broken.id}` }).click();
        await expect(page.locator(`#live-result [data-run="${broken.id}"] [role=alert]`).textContent()).resolves.toContain("The run failed.");
        await screenshot("world-died");

        const again = await post({ release: "3.7", senderLevel: "may", prediction: "delivered-tls" });
        const recovered = (await events.next(runEvent(again.id, "finished"))).data as RunView;
        expect(recovered.outcome?.kind, recovered.outcome?.error).toBe("delivered-tls");
        expect(worldOf("3.7").filter((state) => state === "starting").length).toBeGreaterThan(1);
      } finally {
        events.close();
      }
    },
    2 * WORLD_START_MS + 3 * RUN_MS,
  );
});

/** A port on 127.0.0.1 that something is listening on, and the means to free it. */
async function listening(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("starttls-lab serve, the command", () => {
  const children: CliProcess[] = [];
  afterAll(() => endChildren(children, removeOwnedBy));

  test("a bad or busy port is refused (exit 2) before anything starts", async () => {
    const bad = new CliProcess(["serve", "--port", "eighty"]);
    children.push(bad);
    const badResult = await bad.finishedWithin(30_000, "serve --port eighty");
    expect(badResult.code).toBe(2);
    expect(badResult.stderr).toContain('--port takes an integer from 1 to 65535, not "eighty"');

    const taken = await listening();
    try {
      const busy = new CliProcess(["serve", "--port", String(taken.port)]);
      children.push(busy);
      const busyResult = await busy.finishedWithin(30_000, "serve on a busy port");
      expect(busyResult.code).toBe(2);
      expect(busyResult.stderr).toContain(`port ${taken.port} on 127.0.0.1 is in use`);
      expect(await ownedBy(busy.pid)).toEqual({ containers: [], networks: [] });
    } finally {
      await taken.close();
    }
  });

  test(
    "it serves the page at once, starts its world, and Ctrl-C removes the world's containers",
    async () => {
      const free = await listening();
      await free.close();
      const serve = new CliProcess(["serve", "--port", String(free.port)]);
      children.push(serve);
      const line = await serve.waitForLine((text) => text.startsWith("starttls-lab lab: "), "the lab's address");
      const url = `http://127.0.0.1:${free.port}/`;
      expect(line).toContain(url);
      expect((await fetch(url)).status).toBe(200);
      const events = await openEvents(url);
      try {
        await events.next((event) => event.name === "world" && (event.data as { state: string }).state === "ready");
      } finally {
        events.close();
      }
      expect((await ownedBy(serve.pid)).containers).toHaveLength(4);
      serve.kill("SIGINT");
      const result = await serve.finishedWithin(60_000, "serve after SIGINT");
      expect(result.code).toBe(130);
      expect(await ownedBy(serve.pid)).toEqual({ containers: [], networks: [] });
    },
    WORLD_START_MS,
  );
});

/**
 * The HTML report: plain unit tests (escaping, how a hop becomes diagram
 * steps), then the page itself in a real headless Chromium (Debian's, at
 * /usr/bin/chromium; `bash scripts/ensure-chromium.sh` installs it).
 *
 * Set REPORT_HTML_DEMO=some/dir/report.html to keep a copy of the page the
 * browser test loads (e.g. for `npm run report:screenshot -- some/dir/report.html`).
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hopSteps, type ContentStep, type EncryptedStep, type HelloStep, type HopStep } from "../../src/report/hopSteps.js";
import { toHtmlReport, writeHtmlReport } from "../../src/report/html.js";
import { escapeMarkup } from "../../src/report/markup.js";
import { sequenceDiagram, wrapText } from "../../src/report/sequenceDiagram.js";
import type { RunResult, ScenarioResult } from "../../src/core/result.js";
import { HopRecorder } from "../../src/wire/recorder.js";
import type { Transcript, WireEvent } from "../../src/wire/transcript.js";
import {
  MARKER,
  bouncedResult,
  deferredResult,
  erroredResult,
  htmlRun,
  mitmResult,
  plaintextResult,
  rejectedResult,
  replay,
  retriedResult,
  strippedResult,
  tlsResult,
} from "../fixtures/report/htmlRun.js";

const CHROMIUM = "/usr/bin/chromium";
const MISSING_CHROMIUM = `Chromium is missing at ${CHROMIUM}; install it with: bash scripts/ensure-chromium.sh`;
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function transcriptOf(events: WireEvent[], plaintextBody = false): Transcript {
  return { events, plaintextBody, sawStarttlsOffer: false, sawStarttlsCommand: false };
}

function smtp(from: "client" | "server", line: string): WireEvent {
  return { kind: "smtp", from, line, at: 0 };
}

/** A result whose only hop is the given transcript. */
function withHop(base: ScenarioResult, transcript: Transcript): ScenarioResult {
  const observation = base.observation;
  if (!observation?.wire) throw new Error("fixture without wire");
  return {
    ...base,
    observation: { ...observation, wire: { ...observation.wire, hops: [{ id: 1, mode: "pass", transcript }] } },
  };
}

function only<K extends HopStep["kind"]>(steps: HopStep[], kind: K): Extract<HopStep, { kind: K }>[] {
  return steps.filter((s): s is Extract<HopStep, { kind: K }> => s.kind === kind);
}

describe("escaping", () => {
  it("escapes markup characters and replaces control characters", () => {
    expect(escapeMarkup(`<script>alert("x")</script> & 'co'`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;",
    );
    expect(escapeMarkup("bell \u0007 esc \u001b[31m")).toBe("bell \uFFFD esc \uFFFD[31m");
  });

  it("escapes SMTP lines from the network and scenario texts in the page", () => {
    const hostile = `250 <script>alert(1)</script> & <b>`;
    const base = plaintextResult();
    const result = withHop(
      { ...base, scenario: { ...base.scenario, name: `name <img src=x onerror=alert(1)> & co`, story: "<i>story</i>" } },
      transcriptOf([smtp("server", "220 mx.iroco.test ESMTP"), smtp("client", "EHLO x"), smtp("server", hostile)]),
    );
    const html = toHtmlReport({ results: [result], durationMs: 1 });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>");
    expect(html).not.toContain("<i>story");
    expect(html).toContain("250 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;");
    expect(html).toContain("name &lt;img src=x onerror=alert(1)&gt; &amp; co");
    expect(html).toContain("&lt;i&gt;story&lt;/i&gt;");
  });

  it("escapes a reason and a harness error", () => {
    const rejected = rejectedResult();
    const observation = rejected.observation;
    if (!observation) throw new Error("fixture without observation");
    const html = toHtmlReport({
      results: [
        { ...rejected, observation: { ...observation, reason: `554 <bob@iroco.test> & "you"` } },
        { ...erroredResult(), error: "</pre><script>x</script>" },
      ],
      durationMs: 1,
    });
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("&lt;bob@iroco.test&gt; &amp; &quot;you&quot;");
    expect(html).toContain("&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;");
  });
});

describe("hop steps", () => {
  it("collapses the DATA content into one step and says the body was readable", () => {
    const hop = replay("wire/plaintext.json", "pass");
    const steps = hopSteps(hop.transcript);
    const contents = only(steps, "content");
    expect(contents).toEqual<ContentStep[]>([
      // From:, To:, Subject:, the empty line, two body lines.
      { kind: "content", from: "client", via: "DATA", lines: 6, headerLines: 3, subject: "Subject: Hello Bob", ended: true, bodyReadable: true, zone: "clear" },
    ]);
    const lines = only(steps, "smtp").flatMap((s) => s.lines);
    expect(lines).toContain("DATA");
    expect(lines).toContain("250 2.0.0 Ok: queued as 4XyZ1a2B3c");
    expect(lines.some((l) => l.includes(MARKER) || l === "Hello Bob," || l === ".")).toBe(false);
    // One step per command, one per whole reply (the EHLO reply's six lines together).
    expect(only(steps, "smtp").find((s) => s.lines[0] === "250-mx.iroco.test")?.lines).toHaveLength(6);

    const html = sequenceDiagram(plaintextResult());
    expect(html).toContain("message content (6 lines)");
    expect(html).toContain("the body crossed readable");
    expect(html).not.toContain(MARKER);
  });

  it("collapses pipelined DATA and says when the marker was not seen", () => {
    const steps = hopSteps(
      transcriptOf([
        smtp("server", "220 mx.iroco.test ESMTP"),
        smtp("client", "EHLO a"),
        smtp("server", "250 mx.iroco.test"),
        smtp("client", "MAIL FROM:<a@x>"),
        smtp("client", "RCPT TO:<b@y>"),
        smtp("client", "DATA"),
        smtp("server", "250 2.1.0 Ok"),
        smtp("server", "250 2.1.5 Ok"),
        smtp("server", "354 go ahead"),
        smtp("client", "line 1"),
        smtp("client", "line 2"),
        smtp("client", "."),
        smtp("server", "250 2.0.0 Ok"),
      ]),
    );
    expect(only(steps, "content")).toEqual([
      // No empty line: every line counts as a header line.
      { kind: "content", from: "client", via: "DATA", lines: 2, headerLines: 2, ended: true, bodyReadable: false, zone: "clear" },
    ]);
    expect(steps.map((s) => s.kind)).toEqual(["smtp", "smtp", "smtp", "smtp", "smtp", "smtp", "smtp", "smtp", "smtp", "content", "smtp"]);
  });

  it("collapses each BDAT chunk into one content step, ended by the server's answer to it", () => {
    const first = "Subject: x\r\n\r\nQUIT\r\n";
    const last = "the end";
    const recorder = new HopRecorder();
    recorder.serverBytes(Buffer.from("220 mx.iroco.test ESMTP\r\n"));
    recorder.clientBytes(Buffer.from("EHLO a\r\n"));
    recorder.serverBytes(Buffer.from("250-mx.iroco.test\r\n250 CHUNKING\r\n"));
    recorder.clientBytes(Buffer.from(`MAIL FROM:<a@x>\r\nBDAT ${first.length}\r\n${first}BDAT ${last.length} LAST\r\n${last}`));
    recorder.serverBytes(Buffer.from("250 2.1.0 Ok\r\n250 2.0.0 chunk\r\n250 2.0.0 Ok: queued\r\n"));
    const steps = hopSteps(recorder.transcript("the end"));
    expect(only(steps, "content")).toEqual<ContentStep[]>([
      { kind: "content", from: "client", via: "BDAT", lines: 3, headerLines: 1, subject: "Subject: x", ended: true, bodyReadable: true, zone: "clear" },
      { kind: "content", from: "client", via: "BDAT", lines: 1, headerLines: 1, ended: true, bodyReadable: true, zone: "clear" },
    ]);
    // QUIT inside the chunk is content, not a command.
    expect(only(steps, "smtp").filter((s) => s.role === "command").map((s) => s.command)).toEqual(["EHLO", "MAIL", "BDAT", "BDAT"]);
  });

  it("reads the STARTTLS hop: clear part, the switch, the hellos, encrypted records aggregated", () => {
    const hop = replay("wire/starttls-tls13.json", "pass");
    const steps = hopSteps(hop.transcript);
    const kinds = steps.map((s) => s.kind);
    expect(kinds.slice(kinds.indexOf("starttls"))).toEqual(["starttls", "hello", "hello", "encrypted", "closed"]);
    const [client, server] = only(steps, "hello");
    expect(client).toMatchObject<Partial<HelloStep>>({ message: "ClientHello", sni: "mx.iroco.test", offeredVersions: ["TLSv1.3", "TLSv1.2"] });
    expect(server).toMatchObject<Partial<HelloStep>>({
      message: "ServerHello",
      chosenVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_256_GCM_SHA384",
      keyExchange: "x25519",
    });
    const data = hop.transcript.events.filter((e) => e.kind === "tls-data");
    const sum = (from: "client" | "server"): { records: number; bytes: number } => ({
      records: data.reduce((n, e) => n + (e.kind === "tls-data" && e.from === from ? e.records : 0), 0),
      bytes: data.reduce((n, e) => n + (e.kind === "tls-data" && e.from === from ? e.bytes : 0), 0),
    });
    expect(only(steps, "encrypted")).toEqual<EncryptedStep[]>([
      { kind: "encrypted", client: sum("client"), server: sum("server"), changeCipherSpecs: 2 },
    ]);
    expect(only(steps, "closed")).toEqual([{ kind: "closed", sides: ["client", "server"] }]);
  });

  it("keeps the attacker's change and the decrypted dialogue", () => {
    const stripped = hopSteps(replay("report/strip-starttls.json", "strip-starttls").transcript);
    expect(only(stripped, "tampered")).toEqual([{ kind: "tampered", from: "server", what: "removed STARTTLS from the EHLO reply" }]);
    const mitm = mitmResult().observation?.wire?.hops[0];
    if (!mitm) throw new Error("fixture without hop");
    const content = only(hopSteps(mitm.transcript), "content");
    expect(content).toEqual([
      { kind: "content", from: "client", via: "DATA", lines: 3, headerLines: 1, subject: "Subject: Hello Bob", ended: true, bodyReadable: true, zone: "decrypted" },
    ]);
  });

  it("wraps long reasons", () => {
    expect(wrapText("TLS is required, but was not offered by host mx.iroco.test[172.18.0.3]", 30, 3)).toEqual([
      "TLS is required, but was not",
      "offered by host",
      "mx.iroco.test[172.18.0.3]",
    ]);
    expect(wrapText("one two three four five six", 9, 2)).toEqual(["one two", "three …"]);
  });
});

describe("sequence diagram", () => {
  it("says when there was no connection on the port-25 hop", () => {
    expect(sequenceDiagram(rejectedResult())).toContain("no connection on the port-25 hop");
    expect(sequenceDiagram(erroredResult())).toContain("no connection on the port-25 hop");
    expect(sequenceDiagram(rejectedResult())).toContain("rejected at submission");
  });

  it("draws the outcome: delivered, deferred, bounced", () => {
    expect(sequenceDiagram(tlsResult())).toContain("in Bob&#39;s mailbox");
    expect(sequenceDiagram(deferredResult())).toContain("deferred: held in Infomaniak&#39;s queue");
    const bounced = sequenceDiagram(bouncedResult());
    expect(bounced).toContain("bounced: non-delivery report");
    expect(bounced).toContain("back to Alice&#39;s mailbox");
    expect(bounced).not.toContain("in Bob&#39;s mailbox");
  });

  it("draws every connection of the hop", () => {
    const svg = sequenceDiagram(retriedResult());
    expect(svg).toContain("connection 1 · wire: fail-handshake");
    expect(svg).toContain("connection 2 · wire: fail-handshake");
    expect(svg).toContain("withheld the ClientHello and closed both connections");
  });

  it("cuts long SMTP lines", () => {
    const long = `250 ${"x".repeat(300)}`;
    const svg = sequenceDiagram(withHop(plaintextResult(), transcriptOf([smtp("server", long)])));
    expect(svg).not.toContain("x".repeat(100));
    expect(svg).toContain("…");
  });
});

// ------------------------------------------------------------ in a browser

interface Loaded {
  browser: Browser;
  page: Page;
  url: string;
  requests: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

describe("the HTML report in headless Chromium", () => {
  const run: RunResult = htmlRun();
  let dir: string | undefined;
  let loaded: Loaded | undefined;

  beforeAll(async () => {
    // Without Chromium every test below fails (not skips) with MISSING_CHROMIUM.
    if (!existsSync(CHROMIUM)) return;
    dir = await mkdtemp(join(tmpdir(), "report-html-"));
    const file = join(dir, "out", "report.html");
    await writeHtmlReport(run, file);
    const demo = process.env.REPORT_HTML_DEMO;
    if (demo !== undefined && demo !== "") {
      await mkdir(dirname(demo), { recursive: true });
      await copyFile(file, demo);
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const state: Loaded = { browser, page, url: pathToFileURL(file).href, requests: [], consoleErrors: [], pageErrors: [] };
    page.on("request", (r) => state.requests.push(r.url()));
    page.on("console", (m) => {
      if (m.type() === "error") state.consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => state.pageErrors.push(e.message));
    loaded = state;
    await page.goto(state.url, { waitUntil: "load" });
  });

  afterAll(async () => {
    await loaded?.browser.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function page(): Page {
    return state().page;
  }

  function state(): Loaded {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    if (!loaded) throw new Error("the page did not load");
    return loaded;
  }

  it(`finds Chromium at ${CHROMIUM}`, () => {
    expect(existsSync(CHROMIUM), MISSING_CHROMIUM).toBe(true);
  });

  /** The section of the scenario with this name. */
  function section(name: string) {
    return page().locator("section.scenario").filter({ has: page().locator("h2", { hasText: name }) });
  }

  it("opens, with the summary", async () => {
    expect(await page().title()).toBe("starttls-lab report: 7 passed, 2 failed");
    expect(await page().locator("p.summary").innerText()).toMatch(/^7 passed, 2 failed · 9 scenarios in /);
  });

  it("shows every scenario, each with a diagram with the six lifelines", async () => {
    expect(await page().locator("section.scenario").count()).toBe(run.results.length);
    for (const r of run.results) {
      const s = section(r.scenario.name);
      expect(await s.count(), r.scenario.name).toBe(1);
      expect(await s.locator("svg.sd").count(), r.scenario.name).toBe(1);
      const labels = await s.locator("svg.sd text.lifeline-label").allTextContents();
      expect(labels, r.scenario.name).toEqual(["Alice", "DNS", "Infomaniak", "wire", "Iroco", "Bob"]);
      const box = await s.locator("svg.sd").boundingBox();
      expect(box?.height ?? 0, r.scenario.name).toBeGreaterThan(150);
      expect(await s.locator(".badge").innerText()).toBe(r.verdict.passed && r.error === undefined ? "PASS" : "FAIL");
      expect(await s.locator(".source").innerText()).toContain(`${r.scenario.source.file}:${r.scenario.source.line}`);
    }
  });

  it("marks the plaintext hop readable and the TLS hop encrypted", async () => {
    const plain = section(plaintextResult().scenario.name);
    expect(await plain.locator("g.band-clear").count()).toBe(1);
    expect(await plain.locator("g.band-clear").textContent()).toMatch(/readable by anyone on the wire/i);
    expect(await plain.locator("g.band-encrypted").count()).toBe(0);
    expect(await plain.locator("svg").textContent()).toContain("message content (6 lines)");

    const tls = section(tlsResult().scenario.name);
    expect(await tls.locator("g.band-encrypted").textContent()).toMatch(/encrypted/i);
    // The EHLO before STARTTLS crossed in clear, the rest inside TLS.
    expect(await tls.locator("g.band-clear").count()).toBe(1);
    expect(await tls.locator("g.starttls").count()).toBe(1);
    const svgText = (await tls.locator("svg").textContent()) ?? "";
    expect(svgText).toContain("SNI mx.iroco.test");
    expect(svgText).toContain("ServerHello · TLSv1.3");
    expect(svgText).toContain("key exchange x25519");
    expect(svgText).toMatch(/\d+ encrypted records, \d+\.\d kB/);
  });

  it("shows the attacker, the decrypting wire and the outcomes", async () => {
    const stripped = section(strippedResult().scenario.name);
    expect(await stripped.locator("g.attacker").textContent()).toContain("removed STARTTLS from the EHLO reply");
    const mitm = section(mitmResult().scenario.name);
    expect(await mitm.locator("g.band-decrypted").textContent()).toMatch(/decrypted by the wire/i);
    expect(await mitm.locator("svg").textContent()).toContain("the wire decrypted the body and read it");
    expect(await section(deferredResult().scenario.name).locator("svg").textContent()).toContain("deferred: held in Infomaniak's queue");
    const rejected = section(rejectedResult().scenario.name);
    expect(await rejected.locator("svg").textContent()).toContain("no connection on the port-25 hop");
    expect(await rejected.locator("svg").textContent()).toContain("submission: SMTP, port 25");
  });

  it("shows the differences of a failing scenario, and the harness error", async () => {
    const failing = section(strippedResult().scenario.name);
    expect(await failing.locator(".badge").innerText()).toBe("FAIL");
    const rows = await failing.locator("table.differences tbody tr").allInnerTexts();
    expect(rows.map((r) => r.split("\t"))).toEqual([
      ["transport", "tls", "plaintext"],
      ["wire.plaintextBody", "false", "true"],
    ]);
    expect(await failing.locator("dl.facts").innerText()).toContain("delivered in plaintext");
    expect(await section(erroredResult().scenario.name).locator(".error").innerText()).toContain("timed out after 30 s");
  });

  it("loads nothing but the file, with no console or page errors", async () => {
    const loaded = state();
    expect(loaded.requests).toEqual([loaded.url]);
    expect(loaded.consoleErrors).toEqual([]);
    expect(loaded.pageErrors).toEqual([]);
    expect(await readFile(new URL(loaded.url), "utf8")).not.toMatch(/<script|<link|src=|url\(/i);
  });
});

import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createConsoleReporter, displayWidth } from "../../src/report/console.js";
import { toJsonReport } from "../../src/report/json.js";
import { toJunitXml } from "../../src/report/junit.js";
import type { RunResult } from "../../src/core/result.js";
import { erroring, failing, passing, run, scenario } from "./report-fixtures.js";

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY?: boolean, readonly columns?: number) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  get lines(): string[] {
    return this.text.replace(/\n$/, "").split("\n");
  }
}

function summaryOf(r: RunResult, color = false, out = new Capture()): Capture {
  createConsoleReporter(out, { color }).summary(r);
  return out;
}

describe("console summary", () => {
  it("lists every scenario with PASS/FAIL, expected, observed and time", () => {
    const out = summaryOf(run);
    const table = out.lines.filter((l) => l.startsWith("| "));
    expect(table[0]).toMatch(/^\| result +\| scenario +\| expected +\| observed +\| +time \|$/);
    expect(table).toHaveLength(4);
    expect(table[1]).toMatch(/^\| PASS +\| may to may delivers over TLS +\| delivered over TLS \(TLSv1\.3, trusted\) +\| delivered over TLS \(TLSv1\.3, trusted, certificate mx\.iroco\.test, key exchange X(?:25519\)|…) +\| +412 ms \|$/);
    expect(table[2]).toContain(`| FAIL   | ${failing.scenario.name}`);
    expect(table[2]).toContain("deferred: TLS is required, but was not offered");
    expect(table[2]).toContain("30.0 s |");
    expect(table[3]).toContain(`| FAIL   | ${erroring.scenario.name}`);
    expect(table[3]).toContain("rejected: /5\\.7\\.1/i");
    expect(table[3]).toContain("no observation (harness error: timed out");
  });

  it("aligns every table line to the same width with ASCII borders", () => {
    const out = summaryOf(run);
    const table = out.lines.filter((l) => l.startsWith("|") || l.startsWith("+"));
    expect(table.length).toBe(4 + 3);
    const widths = new Set(table.map(displayWidth));
    expect(widths.size).toBe(1);
    for (const l of table.filter((t) => t.startsWith("+"))) expect(l).toMatch(/^\+[-+]+\+$/);
  });

  it("truncates long cells with …, observed at about 80 characters", () => {
    const long = { ...failing, observation: { ...failing.observation!, reason: "x".repeat(300) } };
    const out = summaryOf({ results: [long], durationMs: 1 });
    const row = out.lines.find((l) => l.startsWith("| FAIL"))!;
    expect(row).toContain("…");
    expect(row).not.toContain("x".repeat(100));
    expect(displayWidth(row)).toBeLessThan(200);
  });

  it("fits a narrow terminal", () => {
    const out = summaryOf(run, false, new Capture(true, 100));
    for (const l of out.lines) expect(displayWidth(l)).toBeLessThanOrEqual(100);
    expect(out.lines.filter((l) => l.startsWith("| FAIL"))).toHaveLength(2);
  });

  it("ends with exactly `N passed, N failed`, the duration on the line before", () => {
    const out = summaryOf(run);
    expect(out.text.endsWith("\n")).toBe(true);
    expect(out.lines.at(-1)).toBe("1 passed, 2 failed");
    expect(out.lines.at(-2)).toBe("3 scenarios in 41.3 s");
  });

  it("ends with the counts even for an empty run and with color on", () => {
    expect(summaryOf({ results: [], durationMs: 5 }).lines.at(-1)).toBe("0 passed, 0 failed");
    const colored = summaryOf({ results: [passing], durationMs: 5 }, true);
    expect(colored.text).toContain("\u001b[");
    expect(colored.lines.at(-1)).toBe("1 passed, 0 failed");
  });

  it("writes no ANSI codes when color is false, even on a TTY", () => {
    const out = new Capture(true, 200);
    const reporter = createConsoleReporter(out, { color: false });
    reporter.worldStarting("building image starttls-lab/mta:3f2a");
    reporter.worldReady(12_345);
    run.results.forEach((r, i) => {
      reporter.scenarioStarted(i, run.results.length, r.scenario);
      reporter.scenarioFinished(i, run.results.length, r);
    });
    reporter.summary(run);
    expect(out.text).not.toContain("\u001b");
  });
});

describe("console progress", () => {
  it("prints world steps, ✓/✗ lines with observed text and time, and indented differences and errors", () => {
    const out = new Capture();
    const reporter = createConsoleReporter(out, { color: false });
    reporter.worldStarting("starting sender");
    reporter.worldReady(12_345);
    reporter.scenarioStarted(0, 3, passing.scenario);
    reporter.scenarioFinished(0, 3, passing);
    reporter.scenarioFinished(1, 3, failing);
    reporter.scenarioFinished(2, 3, erroring);
    expect(out.lines).toEqual([
      "… starting sender",
      "world ready (12.3 s)",
      "[1/3] may to may delivers over TLS …",
      "✓ [1/3] may to may delivers over TLS: delivered over TLS (TLSv1.3, trusted, certificate mx.iroco.test, key exchange X25519) (412 ms)",
      `✗ [2/3] ${failing.scenario.name}: deferred: TLS is required, but was not offered by host mx.iroco.test[172.18.0.3] (30.0 s)`,
      "    outcome: expected delivered, observed deferred",
      "    transport: expected tls, observed (none)",
      "✗ [3/3] receiver container died: no observation (30.5 s)",
      "    error: timed out after 30 s waiting for the message last log line: nothing",
    ]);
  });

  it("explains a failure that has neither differences nor error", () => {
    const out = new Capture();
    const odd = { ...passing, scenario: scenario("odd", "a.yaml", { outcome: "bounced" }), verdict: { passed: false, differences: [] } };
    createConsoleReporter(out, { color: false }).scenarioFinished(0, 1, odd);
    expect(out.lines[1]).toBe("    expected bounced, observed delivered over TLS (TLSv1.3, trusted, certificate mx.iroco.test, key exchange X25519)");
  });
});

describe("what the providers ran", () => {
  const world = {
    sender: { mta: "postfix", release: "3.7", version: "3.7.11", tls: "OpenSSL 3.0.20 7 Apr 2026 (Library: OpenSSL 3.0.20 7 Apr 2026)" },
    receiver: { mta: "postfix", release: "3.10", version: "3.10.13", tls: "OpenSSL 3.5.9 29 Sep 2026 (Library: OpenSSL 3.5.9 29 Sep 2026)" },
  } as const;

  it("is said when a world shape is ready, per provider, as its container answered", () => {
    const out = new Capture();
    createConsoleReporter(out, { color: false }).worldReady(12_345, world);
    expect(out.lines).toEqual(["world ready (12.3 s): sender Postfix 3.7.11, OpenSSL 3.0.20 7 Apr 2026; receiver Postfix 3.10.13, OpenSSL 3.5.9 29 Sep 2026"]);
  });

  it("is in the JSON report and the JUnit properties of each scenario it ran", () => {
    const ran = { results: [{ ...passing, world }], durationMs: 1 };
    expect(toJsonReport(ran).scenarios[0]!.world).toEqual(world);
    expect(toJunitXml(ran)).toContain('<property name="receiver.postfix" value="3.10.13"/>');
  });
});

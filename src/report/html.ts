/**
 * The HTML report (`--report html=FILE`): one self-contained page, inline
 * CSS, no script and nothing loaded from elsewhere. A summary, a legend, then
 * every scenario with its verdict, expected vs observed, the differences, the
 * story, and the sequence diagram of what happened on the wire.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { ProviderSettings, Scenario } from "../scenario/types.js";
import { configurationLines, describeExpectation, describeResultObserved, describeWorldSoftware, evidenceLines, formatDuration } from "./describe.js";
import { observedStandards } from "./standards.js";
import { observedAttempts } from "./attempts.js";
import { escapeMarkup as esc } from "./markup.js";
import { BANDS, DIAGRAM_CSS, sequenceDiagram } from "./sequenceDiagram.js";
import { countResults, scenarioPassed, type NativeConfiguration, type RunResult, type ScenarioResult } from "../core/result.js";
import type { Zone } from "./hopSteps.js";

const PAGE_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f2f4f7; color: #1d2939; font: 15px/1.5 "DejaVu Sans", "Segoe UI", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0; overflow-wrap: anywhere; }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
a { color: #175cd3; }
.summary { font-size: 18px; margin: 0 0 4px; }
.summary .passed { color: #067647; font-weight: 700; }
.summary .failed { color: #b42318; font-weight: 700; }
.muted { color: #667085; }
.card { background: #fff; border: 1px solid #d0d5dd; border-radius: 10px; padding: 16px 20px; margin: 16px 0; }
.legend { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 8px 18px; margin: 8px 0 0; padding: 0; list-style: none; }
.legend li { display: flex; gap: 10px; align-items: flex-start; font-size: 14px; }
.swatch { flex: none; width: 34px; height: 20px; border-radius: 3px; border-left: 6px solid; margin-top: 2px; }
.swatch.line { border: 0; height: 0; margin-top: 11px; border-top: 3px solid; }
.swatch.note { border: 2px dashed #d92d20; background: #fef3f2; }
.toc { margin: 0; padding-left: 0; list-style: none; columns: 2 340px; }
.toc li { margin: 2px 0; break-inside: avoid; }
.badge { display: inline-block; min-width: 52px; text-align: center; font-weight: 700; font-size: 13px; letter-spacing: 0.05em; padding: 2px 8px; border-radius: 999px; color: #fff; vertical-align: 2px; }
.badge.pass { background: #067647; }
.badge.fail { background: #b42318; }
.scenario { border-left: 6px solid #067647; }
.scenario.fail { border-left-color: #b42318; }
.scenario header { display: flex; gap: 12px; align-items: baseline; }
.source { margin: 4px 0 10px; }
.story { margin: 6px 0 12px; font-style: italic; white-space: pre-line; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 10px 0; }
dl.facts dt { font-weight: 700; color: #475467; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table.differences { border-collapse: collapse; margin: 10px 0; width: 100%; }
.flag { margin: 8px 0; padding: 6px 10px; border-left: 4px solid #dc6803; background: #fffaeb; }
table.differences caption { text-align: left; font-weight: 700; color: #b42318; padding-bottom: 4px; }
table.differences th, table.differences td { border: 1px solid #fda29b; padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.differences th { background: #fef3f2; }
.error { background: #fef3f2; border: 1px solid #fda29b; border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.error strong { color: #b42318; }
figure.diagram { margin: 14px 0 6px; overflow-x: auto; }
figure.diagram figcaption { font-size: 13px; color: #475467; margin-top: 4px; }
details { margin-top: 8px; }
summary { cursor: pointer; color: #475467; }
${DIAGRAM_CSS}
`;

const LEGEND_TEXT: Record<Zone, string> = {
  clear: "clear text on port 25: anyone on the wire reads these lines, the message included",
  handshake: "the TLS handshake: readable names and versions, but no mail",
  encrypted: "inside TLS: only record counts and sizes show on the wire",
  decrypted: "inside TLS, but an attacker in the middle ended TLS and read it",
};

function legend(): string {
  const bands = (Object.keys(BANDS) as Zone[]).map((zone) => {
    const b = BANDS[zone];
    return `<li><span class="swatch" style="background:${b.fill};border-left-color:${b.accent}"></span><span><strong>${esc(b.title)}</strong> — ${esc(LEGEND_TEXT[zone])}</span></li>`;
  });
  const marks = [
    `<li><span class="swatch line" style="border-top-color:#101828;border-top-style:dashed"></span><span><strong>STARTTLS</strong> — the point where the connection switches from clear text to TLS</span></li>`,
    `<li><span class="swatch note"></span><span><strong>ATTACKER</strong> — the wire changed the dialogue (red note on the wire's lifeline)</span></li>`,
    `<li><span class="swatch line" style="border-top-color:#6941c6"></span><span><strong>read by the wire</strong> — arrows that stop at the wire (●): decrypted by a man in the middle</span></li>`,
  ];
  return `<ul class="legend">${[...bands, ...marks].join("")}</ul>`;
}

function anchor(index: number): string {
  return `scenario-${index + 1}`;
}

function badge(passed: boolean): string {
  return passed ? `<span class="badge pass">PASS</span>` : `<span class="badge fail">FAIL</span>`;
}

function settings(label: string, p: ProviderSettings, native: readonly string[] | undefined): string {
  return `${label}: ${[...configurationLines(p, native), `certificate ${p.certificate} (${p.certificateKey})`].join(", ")}`;
}

function setup(s: Scenario, native: NativeConfiguration | undefined): string {
  return [
    settings("Infomaniak (sender)", s.sender, native?.sender),
    settings("Iroco (receiver)", s.receiver, native?.receiver),
    `wire: ${s.wire}`,
  ]
    .map((t) => `<div>${esc(t)}</div>`)
    .join("");
}

function wireSummary(r: ScenarioResult): string | undefined {
  const wire = r.observation?.wire;
  if (!wire) return undefined;
  const parts = [
    wire.plaintextBody ? "the body crossed the port-25 hop readable" : "the body never crossed the port-25 hop readable",
    `${wire.hops.length} connection${wire.hops.length === 1 ? "" : "s"}`,
  ];
  if (wire.attackerReadBody) parts.push("the attacker read the body");
  if (wire.injection) parts.push(`injected command ${wire.injection.discarded ? "discarded" : "not discarded"}`);
  return parts.join(" · ");
}

function differences(r: ScenarioResult): string {
  if (r.verdict.differences.length === 0) return "";
  const rows = r.verdict.differences
    .map((d) => `<tr><td class="mono">${esc(d.field)}</td><td>${esc(d.expected)}</td><td>${esc(d.observed)}</td></tr>`)
    .join("");
  return `<table class="differences"><caption>Differences</caption><thead><tr><th>field</th><th>expected</th><th>observed</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function evidence(r: ScenarioResult): string {
  const lines = evidenceLines(r);
  if (lines.length === 0) return "";
  return `<details class="evidence"><summary>Evidence (${lines.length} line${lines.length === 1 ? "" : "s"})</summary><pre>${esc(lines.join("\n"))}</pre></details>`;
}

function scenarioSection(r: ScenarioResult, index: number): string {
  const passed = scenarioPassed(r);
  const s = r.scenario;
  const facts: [string, string][] = [
    ["Setup", setup(s, r.native)],
    ...(r.world ? ([["Ran on", esc(describeWorldSoftware(r.world))]] as [string, string][]) : []),
    ["Expected", esc(describeExpectation(s.expect))],
    ["Observed", esc(describeResultObserved(r))],
  ];
  const attempts = r.observation ? observedAttempts(r.observation) : [];
  if (attempts.length > 0) facts.push(["Attempts", attempts.map(esc).join("<br>")]);
  const standards = r.observation ? observedStandards(r.observation) : [];
  if (standards.length > 0) facts.push(["TLS standards", standards.map(esc).join("<br>")]);
  const wire = wireSummary(r);
  if (wire !== undefined) facts.push(["On the wire", esc(wire)]);
  const parts = [
    `<header>${badge(passed)}<h2>${esc(s.name)}</h2></header>`,
    `<p class="source muted"><code>${esc(`${s.source.file}:${s.source.line}`)}</code> · ${esc(formatDuration(r.durationMs))}</p>`,
    s.story !== undefined && s.story.trim() !== "" ? `<p class="story">${esc(s.story.trim())}</p>` : "",
    `<dl class="facts">${facts.map(([dt, dd]) => `<dt>${esc(dt)}</dt><dd>${dd}</dd>`).join("")}</dl>`,
    passed ? "" : differences(r),
    (r.flags ?? []).map((flag) => `<div class="flag"><strong>⚑ Flag</strong> ${esc(flag)}</div>`).join(""),
    r.error !== undefined ? `<div class="error"><strong>Harness error</strong><pre>${esc(r.error)}</pre></div>` : "",
    `<figure class="diagram">${sequenceDiagram(r)}<figcaption>What happened to Alice's message, step by step: submission, the port-25 hop as the wire saw it, and the outcome.</figcaption></figure>`,
    evidence(r),
  ];
  return `<section class="card scenario ${passed ? "pass" : "fail"}" id="${anchor(index)}" data-passed="${passed}">${parts.join("")}</section>`;
}

function tableOfContents(run: RunResult): string {
  const items = run.results
    .map((r, i) => `<li>${badge(scenarioPassed(r))} <a href="#${anchor(i)}">${esc(r.scenario.name)}</a></li>`)
    .join("");
  return `<ul class="toc">${items}</ul>`;
}

/** The whole report as one HTML page. */
export function toHtmlReport(run: RunResult): string {
  const { passed, failed } = countResults(run);
  const total = run.results.length;
  const title = `starttls-lab report: ${passed} passed, ${failed} failed`;
  return [
    "<!doctype html>",
    `<html lang="en">`,
    "<head>",
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    // Nothing may be fetched: the page is complete by itself.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    "</head>",
    "<body><main>",
    `<section class="card" id="summary">`,
    `<h1>starttls-lab report</h1>`,
    `<p class="summary"><span class="passed">${passed} passed</span>, <span class="failed">${failed} failed</span> <span class="muted">· ${total} scenario${total === 1 ? "" : "s"} in ${esc(formatDuration(run.durationMs))}</span></p>`,
    `<p class="muted">Alice (alice@infomaniak.test) writes to Bob (bob@iroco.test). Her provider Infomaniak relays the message on port 25 to Bob's provider Iroco; the wire sits on that hop and records what anyone there could see.</p>`,
    legend(),
    "</section>",
    total > 0 ? `<nav class="card" aria-label="Scenarios">${tableOfContents(run)}</nav>` : `<p>No scenarios ran.</p>`,
    ...run.results.map(scenarioSection),
    "</main></body>",
    "</html>",
    "",
  ].join("\n");
}

/** Writes the HTML report, creating parent folders. */
export async function writeHtmlReport(run: RunResult, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, toHtmlReport(run), "utf8");
}

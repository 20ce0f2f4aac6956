/**
 * JUnit XML as CI systems read it (GitHub Actions reporters, GitLab, Jenkins):
 * one <testsuite> per scenario file, one <testcase> per scenario; unmet
 * expectations are <failure>, harness errors are <error>.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { describeExpectation, describeObservation, describeResultObserved, evidenceLines } from "./describe.js";
import { observedStandards } from "./standards.js";
import { observedAttempts } from "./attempts.js";
import { scenarioPassed, type RunResult, type ScenarioResult } from "../core/result.js";

// Characters XML 1.0 forbids (C0 controls but tab/LF/CR, U+FFFE/U+FFFF) and unpaired surrogates.
const ILLEGAL_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// eslint-disable-next-line no-control-regex
const ANSI_SEQUENCE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** Drops ANSI color sequences and characters that XML 1.0 cannot carry. */
export function xmlSafe(text: string): string {
  return text.replace(ANSI_SEQUENCE, "").replace(ILLEGAL_XML, "");
}

/** Escapes character data (element content). */
export function escapeXmlText(text: string): string {
  return xmlSafe(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes an attribute value; tabs and line breaks become character references so parsers keep them. */
export function escapeXmlAttr(text: string): string {
  return xmlSafe(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${escapeXmlAttr(String(value))}"`)
    .join("");
}

/** Seconds with millisecond precision, as JUnit's `time` attribute wants. */
function seconds(ms: number): string {
  return (Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0).toFixed(3);
}

/** The class name CI tools group by: the scenario file without its YAML extension. */
function classNameOf(file: string): string {
  return file.replace(/\.ya?ml$/i, "");
}

function failureDetails(r: ScenarioResult): string[] {
  const lines = r.verdict.differences.map((d) => `${d.field}: expected ${d.expected}, observed ${d.observed}`);
  lines.push(`expected: ${describeExpectation(r.scenario.expect)}`);
  lines.push(`observed: ${r.observation ? describeObservation(r.observation) : "nothing"}`);
  if (r.observation) lines.push(...[...observedAttempts(r.observation), ...observedStandards(r.observation)].map((line) => `observed: ${line}`));
  return lines;
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? "";
}

function testcase(r: ScenarioResult): string {
  const file = r.scenario.source.file;
  const open = `    <testcase${attrs({
    name: r.scenario.name,
    classname: classNameOf(file),
    time: seconds(r.durationMs),
    file,
    line: r.scenario.source.line,
  })}`;
  const body: string[] = [];
  const world = r.world;
  if (world) {
    // What each provider really ran, so a CI dashboard can tell results of different releases apart.
    const properties = (["sender", "receiver"] as const).flatMap((role) => [
      `        <property${attrs({ name: `${role}.${world[role].mta}`, value: world[role].version })}/>`,
      `        <property${attrs({ name: `${role}.tls`, value: world[role].tls })}/>`,
      ...(r.native?.[role] ? [`        <property${attrs({ name: `${role}.configuration`, value: r.native[role].join("; ") })}/>`] : []),
    ]);
    body.push(`      <properties>\n${properties.join("\n")}\n      </properties>`);
  }
  if (r.error !== undefined) {
    const details = [`error: ${r.error}`, ...failureDetails(r)].join("\n");
    body.push(
      `      <error${attrs({ message: firstLine(r.error), type: "HarnessError" })}>${escapeXmlText(details)}</error>`,
    );
  } else if (!scenarioPassed(r)) {
    const first = r.verdict.differences[0];
    const message = first
      ? `${first.field}: expected ${first.expected}, observed ${first.observed}`
      : `expected ${describeExpectation(r.scenario.expect)}, observed ${describeResultObserved(r)}`;
    body.push(
      `      <failure${attrs({ message, type: "ExpectationNotMet" })}>${escapeXmlText(failureDetails(r).join("\n"))}</failure>`,
    );
  }
  const evidence = [...(r.observation ? [...observedAttempts(r.observation), ...observedStandards(r.observation)] : []), ...evidenceLines(r)];
  if (evidence.length > 0) {
    body.push(`      <system-out>${escapeXmlText(evidence.join("\n"))}</system-out>`);
  }
  return body.length === 0 ? `${open}/>` : `${open}>\n${body.join("\n")}\n    </testcase>`;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
}

function count(results: ScenarioResult[]): Counts {
  const errors = results.filter((r) => r.error !== undefined).length;
  const failures = results.filter((r) => r.error === undefined && !scenarioPassed(r)).length;
  return { tests: results.length, failures, errors };
}

export function toJunitXml(run: RunResult, suiteName = "starttls-lab"): string {
  // One suite per scenario file, in the order files first appear in the run.
  const byFile = new Map<string, ScenarioResult[]>();
  for (const r of run.results) {
    const list = byFile.get(r.scenario.source.file);
    if (list) list.push(r);
    else byFile.set(r.scenario.source.file, [r]);
  }
  const total = count(run.results);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites${attrs({ name: suiteName, ...total, time: seconds(run.durationMs) })}>`,
  ];
  for (const [file, results] of byFile) {
    const time = results.reduce((sum, r) => sum + (Number.isFinite(r.durationMs) ? r.durationMs : 0), 0);
    lines.push(`  <testsuite${attrs({ name: file, ...count(results), skipped: 0, time: seconds(time) })}>`);
    for (const r of results) lines.push(testcase(r));
    lines.push(`  </testsuite>`);
  }
  lines.push(`</testsuites>`);
  return lines.join("\n") + "\n";
}

/** Writes the JUnit XML report, creating parent folders. */
export async function writeJunitReport(run: RunResult, file: string, suiteName = "starttls-lab"): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, toJunitXml(run, suiteName), "utf8");
}

/**
 * `starttls-lab compare`: the same scenarios run under several Postfix
 * releases, and what differs between them scenario by scenario. The runs
 * are the runner's; this module only lines their results up, says what
 * differs, and renders that for the console, JSON and HTML.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { PostfixRelease } from "../core/releases.js";
import { scenarioPassed, type ScenarioResult, type WorldSoftware } from "../core/result.js";
import { normalizeKeyExchange } from "../observe/keyExchange.js";
import type { Scenario } from "../scenario/types.js";
import { describePins, sameShape, worldShapeOf } from "../scenario/worldShape.js";
import { describeProviderSoftware, oneLine } from "./describe.js";
import { escapeMarkup as esc } from "./markup.js";
import { describeTlsrptEvent } from "../observe/tlsrpt.js";
import { describeRequireTls } from "./standards.js";

/** One observed quality, read the same way from every release's result. */
const COMPARED_FIELDS = {
  verdict: (r) => (scenarioPassed(r) ? "passed" : r.error !== undefined ? `error: ${firstLine(r.error)}` : "failed"),
  outcome: (r) => r.observation?.outcome,
  transport: (r) => r.observation?.transport,
  "tls.version": (r) => r.observation?.tls?.version,
  "tls.cipher": (r) => r.observation?.tls?.cipher,
  // Postfix 3.7 logs "X25519", 3.10 "x25519": the same group, not a difference.
  "tls.keyExchange": (r) => (r.observation?.tls?.keyExchange === undefined ? undefined : normalizeKeyExchange(r.observation.tls.keyExchange)),
  "tls.trust": (r) => r.observation?.tls?.trust,
  "tls.peerName": (r) => r.observation?.tls?.peerName,
  reason: (r) => (r.observation?.reason === undefined ? undefined : worldIndependent(r.observation.reason)),
  // The TLS standards: 3.7 knows none of them, 3.10 adds TLS-Required and TLSRPT, 3.11 REQUIRETLS.
  headers: (r) => joined(Object.entries(r.observation?.headers ?? {}).map(([name, value]) => `${name}: ${value}`)),
  tlsrpt: (r) => joined((r.observation?.tlsrpt ?? []).map(describeTlsrptEvent)),
  requireTls: (r) => (r.observation?.requireTls === undefined ? undefined : describeRequireTls(r.observation.requireTls)),
} satisfies Record<string, (result: ScenarioResult) => string | undefined>;
export type ComparedField = keyof typeof COMPARED_FIELDS;

/** What each release showed for one field; "(none)" where it showed nothing. */
export interface FieldDifference {
  field: ComparedField;
  /** In the order of `Comparison.releases`. */
  values: string[];
}

export interface ScenarioComparison {
  name: string;
  file: string;
  /** Set when the scenario pins every provider: it ran once, the same under every release. */
  pinned?: string;
  /** Per release (in `Comparison.releases` order), or one entry when pinned; undefined when the run did not reach it. */
  results: Array<ScenarioResult | undefined>;
  differences: FieldDifference[];
}

export interface Comparison {
  releases: PostfixRelease[];
  scenarios: ScenarioComparison[];
  summary: { scenarios: number; differing: number; pinned: number };
}

/** Several values of one field as one comparable text; undefined when there are none. */
function joined(values: string[]): string | undefined {
  return values.length === 0 ? undefined : values.join("; ");
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? "";
}

/** A reason without what changes from world to world (container addresses, queue ids), so only Postfix's words are compared. */
function worldIndependent(reason: string): string {
  return oneLine(reason)
    .replace(/\[\d{1,3}(?:\.\d{1,3}){3}\]/g, "[…]")
    .replace(/\b[0-9A-F]{8,12}\b/g, "…");
}

/** A scenario whose providers are all pinned runs the same world under every release: it runs once. */
export function pinnedUnder(scenario: Scenario, releases: readonly PostfixRelease[]): boolean {
  const first = worldShapeOf(scenario, releases[0]!);
  return releases.every((release) => sameShape(worldShapeOf(scenario, release), first));
}

/**
 * Lines the runs up: `runs[i]` holds the results of the run under
 * `releases[i]` (pinned scenarios only in the first run).
 */
export function compareRuns(releases: PostfixRelease[], scenarios: readonly Scenario[], runs: readonly ScenarioResult[][]): Comparison {
  const byName = runs.map((results) => new Map(results.map((result) => [result.scenario.name, result])));
  const compared = scenarios.map((scenario): ScenarioComparison => {
    const base = { name: scenario.name, file: scenario.source.file };
    if (pinnedUnder(scenario, releases)) {
      return { ...base, pinned: describePins(scenario), results: [byName[0]?.get(scenario.name)], differences: [] };
    }
    const results = byName.map((named) => named.get(scenario.name));
    const differences = (Object.keys(COMPARED_FIELDS) as ComparedField[]).flatMap((field): FieldDifference[] => {
      const values = results.map((result) => (result ? (COMPARED_FIELDS[field](result) ?? "(none)") : "(not run)"));
      return new Set(values).size > 1 ? [{ field, values }] : [];
    });
    return { ...base, results, differences };
  });
  return {
    releases,
    scenarios: compared,
    summary: {
      scenarios: compared.length,
      differing: compared.filter((scenario) => scenario.differences.length > 0).length,
      pinned: compared.filter((scenario) => scenario.pinned !== undefined).length,
    },
  };
}

export function comparisonDiffers(comparison: Comparison): boolean {
  return comparison.summary.differing > 0;
}

/** What the providers ran in each release's world, from the first result that names it. */
function softwareOf(comparison: Comparison): Array<WorldSoftware | undefined> {
  return comparison.releases.map((_, index) =>
    comparison.scenarios.find((scenario) => scenario.pinned === undefined && scenario.results[index]?.world)?.results[index]?.world,
  );
}

function releaseHeading(release: PostfixRelease, software: WorldSoftware | undefined): string {
  // Every provider of an unpinned scenario runs the release; the sender's versions stand for both.
  return software ? `${release} (${describeProviderSoftware(software.sender)})` : release;
}

/** The console text: the releases, each differing scenario with its fields, then the summary. */
export function renderComparison(comparison: Comparison): string[] {
  const { releases, summary } = comparison;
  const software = softwareOf(comparison);
  const lines = [`Compared Postfix ${releases.join(" and ")}:`, ...releases.map((release, index) => `  ${releaseHeading(release, software[index])}`), ""];
  for (const scenario of comparison.scenarios) {
    if (scenario.differences.length === 0) continue;
    lines.push(`≠ ${scenario.name} (${scenario.file})`);
    const width = Math.max(...scenario.differences.map((difference) => difference.field.length));
    for (const { field, values } of scenario.differences) {
      lines.push(`    ${field.padEnd(width)}  ${values.map((value, index) => `${releases[index]}: ${value}`).join(" | ")}`);
    }
  }
  const pinned = comparison.scenarios.filter((scenario) => scenario.pinned !== undefined);
  if (pinned.length > 0) {
    lines.push("", `Pinned (ran once, the same under every release):`);
    for (const scenario of pinned) {
      const result = scenario.results[0];
      const verdict = result ? (scenarioPassed(result) ? "passed" : "failed") : "not run";
      lines.push(`  ${scenario.name}: ${scenario.pinned}, ${verdict}`);
    }
  }
  lines.push("", `${summary.scenarios} scenarios: ${summary.differing} differ, ${summary.scenarios - summary.differing - summary.pinned} the same, ${summary.pinned} pinned`);
  return lines;
}

/** The JSON report of a comparison: per scenario, what differs (values in `releases` order), and each run's verdict. */
export function toComparisonJson(comparison: Comparison) {
  return {
    releases: comparison.releases.map((release, index) => ({ release, world: softwareOf(comparison)[index] ?? null })),
    scenarios: comparison.scenarios.map(({ name, file, pinned, results, differences }) => ({
      name,
      file,
      ...(pinned !== undefined && { pinned }),
      passed: results.map((result) => (result ? scenarioPassed(result) : null)),
      differences: differences.map(({ field, values }) => ({ field, values })),
    })),
    summary: comparison.summary,
  };
}

export function toComparisonHtml(comparison: Comparison): string {
  const { releases } = comparison;
  const rows = comparison.scenarios
    .filter((scenario) => scenario.differences.length > 0)
    .flatMap((scenario) =>
      scenario.differences.map(
        (difference, index) =>
          `<tr>${index === 0 ? `<th rowspan="${scenario.differences.length}">${esc(scenario.name)}</th>` : ""}<td>${esc(difference.field)}</td>${difference.values.map((value) => `<td>${esc(value)}</td>`).join("")}</tr>`,
      ),
    );
  const software = softwareOf(comparison);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>starttls-lab compare: Postfix ${esc(releases.join(" / "))}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}</style></head>
<body><h1>What differs between Postfix ${esc(releases.join(" and "))}</h1>
<ul>${releases.map((release, index) => `<li>${esc(releaseHeading(release, software[index]))}</li>`).join("")}</ul>
<table><thead><tr><th>scenario</th><th>field</th>${releases.map((release) => `<th>${esc(release)}</th>`).join("")}</tr></thead>
<tbody>${rows.join("\n")}</tbody></table>
<p>${esc(renderComparison(comparison).at(-1) ?? "")}</p>
</body></html>
`;
}

export async function writeComparisonReport(comparison: Comparison, kind: "json" | "html", file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const text = kind === "json" ? JSON.stringify(toComparisonJson(comparison), null, 2) + "\n" : toComparisonHtml(comparison);
  await writeFile(file, text, "utf8");
}

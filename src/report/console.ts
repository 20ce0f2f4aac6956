/**
 * Live progress and the final table, written to any writable stream (the
 * terminal, a CI log, or a buffer in tests). Color only when asked for.
 */
import * as util from "node:util";
import type { Scenario } from "../scenario/types.js";
import {
  configurationLines,
  describeExpectation,
  describeObservation,
  describeResultObserved,
  describeWorldSoftware,
  formatDuration,
  oneLine,
} from "./describe.js";
import { observedStandards } from "./standards.js";
import { observedAttempts } from "./attempts.js";
import { countResults, scenarioPassed, type RunResult, type ScenarioResult, type WorldSoftware } from "../core/result.js";

export interface ConsoleReporterOptions {
  color: boolean;
}

export interface ConsoleReporter {
  /** A step of bringing the world up, e.g. "building image starttls-lab/mta:3f2a…", "starting sender". */
  worldStarting(step: string): void;
  /** A world shape's worlds are up; `software` is what their providers really run. */
  worldReady(ms: number, software?: WorldSoftware): void;
  /** `index` is 0-based (printed 1-based); `total` is the number of scenarios in the run. */
  scenarioStarted(index: number, total: number, scenario: Scenario): void;
  scenarioFinished(index: number, total: number, result: ScenarioResult): void;
  /** The final table, then the run's duration, then exactly `N passed, N failed` as the last line. */
  summary(run: RunResult): void;
}

type Style = "green" | "red" | "yellow" | "dim" | "bold" | "cyan";

const ANSI: Record<Style, [number, number]> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  bold: [1, 22],
  dim: [2, 22],
};

function paintWith(style: Style, text: string): string {
  if (text === "") return text;
  if (typeof util.styleText === "function") {
    // validateStream: false — the caller decided on color, not process.stdout's TTY state.
    return util.styleText(style, text, { validateStream: false });
  }
  const [open, close] = ANSI[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** Removes ANSI escape sequences and control characters so a cell stays on one line. */
function clean(text: string): string {
  return oneLine(
    text
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "")
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, ""),
  );
}

/** Terminal columns a code point takes: 0 for combining marks, 2 for wide East Asian text and emoji. */
function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (/\p{M}/u.test(ch) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch);
  return width;
}

/** Cuts `text` to at most `max` terminal columns, ending with "…" when cut. */
function fit(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  if (max <= 0) return "";
  let out = "";
  let width = 0;
  for (const ch of text) {
    const w = charWidth(ch);
    if (width + w > max - 1) break;
    out += ch;
    width += w;
  }
  return out.trimEnd() + "…";
}

function pad(text: string, width: number, align: "left" | "right"): string {
  const gap = " ".repeat(Math.max(0, width - displayWidth(text)));
  return align === "left" ? text + gap : gap + text;
}

interface Column {
  header: string;
  align: "left" | "right";
  /** Widest the column may grow; undefined for columns that are never cut. */
  max?: number;
  /** Narrowest a cut column may become when the terminal is narrow. */
  min?: number;
}

const COLUMNS: Column[] = [
  { header: "result", align: "left" },
  { header: "scenario", align: "left", max: 50, min: 16 },
  { header: "expected", align: "left", max: 44, min: 12 },
  { header: "observed", align: "left", max: 80, min: 16 },
  { header: "time", align: "right" },
];

/** Column widths: content widths capped at each column's max, shrunk (widest first) to fit `limit`. */
function layout(rows: string[][], limit: number | undefined): number[] {
  const widths = COLUMNS.map((col, i) => {
    const content = Math.max(displayWidth(col.header), ...rows.map((r) => displayWidth(r[i] ?? "")));
    return col.max === undefined ? content : Math.min(content, col.max);
  });
  if (limit === undefined) return widths;
  // Each column costs its width plus 3 ("| " before, " " after), plus the final "|".
  const total = (): number => widths.reduce((sum, w) => sum + w + 3, 1);
  while (total() > limit) {
    let widest = -1;
    for (let i = 0; i < COLUMNS.length; i++) {
      const min = COLUMNS[i]?.min;
      const w = widths[i] ?? 0;
      if (min !== undefined && w > min && (widest < 0 || w > (widths[widest] ?? 0))) widest = i;
    }
    if (widest < 0) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  return widths;
}

/** The terminal's width when writing to a TTY; undefined for files, pipes and CI logs (no wrapping there). */
function terminalColumns(out: NodeJS.WritableStream): number | undefined {
  const stream = out as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  return stream.isTTY === true && typeof stream.columns === "number" && stream.columns > 0
    ? stream.columns
    : undefined;
}

/** Renders the summary table as plain ASCII-bordered lines (cells may hold "…" and the user's own text). */
export function renderTable(run: RunResult, options: { color: boolean; width?: number }): string[] {
  const paint = (style: Style, text: string): string => (options.color ? paintWith(style, text) : text);
  const rows = run.results.map((r) => [
    scenarioPassed(r) ? "PASS" : "FAIL",
    clean(r.scenario.name),
    clean(describeExpectation(r.scenario.expect)),
    clean(describeResultObserved(r)),
    formatDuration(r.durationMs),
  ]);
  const widths = layout(rows, options.width);
  const border = "+" + widths.map((w) => "-".repeat(w + 2)).join("+") + "+";
  const line = (cells: string[], styles: (Style | undefined)[]): string =>
    "| " +
    cells
      .map((cell, i) => {
        const col = COLUMNS[i];
        const width = widths[i] ?? 0;
        const text = pad(fit(cell, width), width, col?.align ?? "left");
        const style = styles[i];
        return style ? paint(style, text) : text;
      })
      .join(" | ") +
    " |";

  const lines = [border, line(COLUMNS.map((c) => c.header), COLUMNS.map(() => "bold")), border];
  for (const row of rows) {
    lines.push(line(row, [row[0] === "PASS" ? "green" : "red", undefined, undefined, undefined, "dim"]));
  }
  lines.push(border);
  return lines;
}

export function createConsoleReporter(out: NodeJS.WritableStream, options: ConsoleReporterOptions): ConsoleReporter {
  const paint = (style: Style, text: string): string => (options.color ? paintWith(style, text) : text);
  const write = (text: string): void => {
    out.write(text + "\n");
  };
  const counter = (index: number, total: number): string => {
    const n = String(index + 1);
    return `[${n.padStart(String(total).length)}/${total}]`;
  };

  return {
    worldStarting(step) {
      write(paint("dim", `… ${clean(step)}`));
    },

    worldReady(ms, software) {
      const running = software ? `: ${clean(describeWorldSoftware(software))}` : "";
      write(`${paint("green", "world ready")} ${paint("dim", `(${formatDuration(ms)})`)}${running}`);
    },

    scenarioStarted(index, total, scenario) {
      write(paint("dim", `${counter(index, total)} ${clean(scenario.name)} …`));
    },

    scenarioFinished(index, total, result) {
      const passed = scenarioPassed(result);
      const mark = passed ? paint("green", "✓") : paint("red", "✗");
      const name = passed ? clean(result.scenario.name) : paint("bold", clean(result.scenario.name));
      const observed = result.observation ? clean(describeObservation(result.observation)) : "no observation";
      write(`${mark} ${counter(index, total)} ${name}: ${observed} ${paint("dim", `(${formatDuration(result.durationMs)})`)}`);
      for (const line of result.observation ? [...observedAttempts(result.observation), ...observedStandards(result.observation)] : []) write(`    ${paint("dim", clean(line))}`);
      for (const flag of result.flags ?? []) write(`    ${paint("yellow", "⚑ flag:")} ${clean(flag)}`);
      for (const role of ["sender", "receiver"] as const) {
        const native = result.native?.[role];
        if (native) write(`    ${paint("dim", clean(`${role}: ${configurationLines(result.scenario[role], native).join("; ")}`))}`);
      }
      if (passed) return;
      for (const d of result.verdict.differences) {
        write(`    ${paint("yellow", `${clean(d.field)}:`)} expected ${clean(d.expected)}, observed ${clean(d.observed)}`);
      }
      if (result.error !== undefined) {
        write(`    ${paint("red", "error:")} ${clean(result.error)}`);
      }
      if (result.verdict.differences.length === 0 && result.error === undefined) {
        write(`    expected ${clean(describeExpectation(result.scenario.expect))}, observed ${observed}`);
      }
    },

    summary(run) {
      write("");
      for (const line of renderTable(run, { color: options.color, width: terminalColumns(out) })) write(line);
      const { passed, failed } = countResults(run);
      const scenarios = run.results.length === 1 ? "1 scenario" : `${run.results.length} scenarios`;
      write(`${scenarios} in ${formatDuration(run.durationMs)}`);
      // CI tooling reads this exact line: keep it last, alone and uncolored.
      write(`${passed} passed, ${failed} failed`);
    },
  };
}

/** Report files asked for with `--report KIND=FILE`, and the reporters themselves. */
import { writeHtmlReport } from "./html.js";
import { writeJsonReport } from "./json.js";
import { writeJunitReport } from "./junit.js";
import type { RunResult } from "../core/result.js";

export type { RunResult, ScenarioResult } from "../core/result.js";
export { countResults, runPassed, scenarioPassed } from "../core/result.js";
export {
  describeExpectation,
  describeObservation,
  describeResultObserved,
  formatDuration,
  formatMatcher,
} from "./describe.js";
export { createConsoleReporter, renderTable } from "./console.js";
export type { ConsoleReporter, ConsoleReporterOptions } from "./console.js";
export { toJsonReport, writeJsonReport } from "./json.js";
export type { JsonExpected, JsonObserved, JsonReport, JsonScenario, JsonTlsExpected } from "./json.js";
export { toJunitXml, writeJunitReport } from "./junit.js";
export { toHtmlReport, writeHtmlReport } from "./html.js";

export const REPORT_KINDS = ["json", "junit", "html"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export interface ReportRequest {
  kind: ReportKind;
  file: string;
}

/** A bad `--report` value: the command line reports it as bad usage (exit 2). */
export class ReportFlagError extends Error {
  override name = "ReportFlagError";
}

function isReportKind(kind: string): kind is ReportKind {
  return (REPORT_KINDS as readonly string[]).includes(kind);
}

/** Parses a `--report` value such as `json=out/report.json`, `junit=junit.xml` or `html=report.html`. */
export function parseReportFlag(value: string): ReportRequest {
  const supported = REPORT_KINDS.join(", ");
  const eq = value.indexOf("=");
  if (eq < 0) {
    throw new ReportFlagError(
      `--report expects KIND=FILE (e.g. json=report.json), got "${value}"; supported kinds: ${supported}`,
    );
  }
  const kind = value.slice(0, eq).trim().toLowerCase();
  const file = value.slice(eq + 1).trim();
  if (!isReportKind(kind)) {
    throw new ReportFlagError(
      kind === ""
        ? `--report "${value}" names no kind; supported kinds: ${supported}`
        : `unknown report kind "${kind}" in --report "${value}"; supported kinds: ${supported}`,
    );
  }
  if (file === "") {
    throw new ReportFlagError(`--report "${value}" names no file: write ${kind}=FILE`);
  }
  return { kind, file };
}

/** Writes every requested report, creating parent folders. */
export async function writeReports(run: RunResult, requests: readonly ReportRequest[]): Promise<void> {
  for (const request of requests) {
    switch (request.kind) {
      case "json":
        await writeJsonReport(run, request.file);
        break;
      case "junit":
        await writeJunitReport(run, request.file);
        break;
      case "html":
        await writeHtmlReport(run, request.file);
        break;
      default: {
        const kind: never = request.kind;
        throw new ReportFlagError(`unknown report kind "${String(kind)}"; supported kinds: ${REPORT_KINDS.join(", ")}`);
      }
    }
  }
}

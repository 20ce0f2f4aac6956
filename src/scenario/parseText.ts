/** One scenario file's text → its scenarios, or every problem found in it. */
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import type { PostfixRelease } from "../core/releases.js";
import { documentNameProblems } from "./documentNames.js";
import type { ScenarioProblem } from "./errors.js";
import { problemsFromIssues } from "./issues.js";
import { expandMatrix } from "./matrix.js";
import { tlsrptReleaseProblems } from "./tlsrptRelease.js";
import { scenarioDocumentSchema } from "./schema.js";
import { mtaChoiceProblems } from "./mtaChoice.js";
import { requireTlsReleaseProblems } from "./requireTls.js";
import { toScenario } from "./toScenario.js";
import type { Scenario } from "./types.js";
import { yamlLocator, type Locator } from "./yamlPosition.js";

export interface ParsedText {
  scenarios: Scenario[];
  problems: ScenarioProblem[];
}

/** Anchors and aliases are fine; an alias bomb is not. */
const maxAliasCount = 100;

/** `unpinned`: the release every provider the scenario does not pin will run (--postfix); absent, any release. */
export function parseScenarioText(text: string, file: string, unpinned?: PostfixRelease): ParsedText {
  const nul = text.indexOf("\0");
  if (nul >= 0) return failed({ file, line: lineAt(text, nul), message: "binary file (NUL byte); a scenario file is YAML text" });
  if (text.trim() === "") return failed({ file, line: 1, message: "empty file; expected one or more scenario documents" });

  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const result: ParsedText = { scenarios: [], problems: [] };
  let written = 0;
  for (const document of documents) {
    const yamlProblems = [...document.errors, ...document.warnings].map((error): ScenarioProblem => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return { file, line, column: col, message: `YAML: ${error.message}` };
    });
    if (yamlProblems.length > 0) {
      result.problems.push(...yamlProblems);
      continue;
    }
    const raw = toJavaScript(document);
    if ("error" in raw) {
      result.problems.push({ file, ...startOf(document, lineCounter), message: `YAML: ${raw.error}` });
      continue;
    }
    if (raw.value === null || raw.value === undefined) continue; // a document of comments only
    written += 1;
    const parsed = parseDocument(raw.value, file, yamlLocator(document, lineCounter), startOf(document, lineCounter).line, unpinned);
    result.scenarios.push(...parsed.scenarios);
    result.problems.push(...parsed.problems);
  }
  if (written === 0 && result.problems.length === 0) {
    return failed({ file, line: 1, message: "no scenario in this file (only comments or empty documents)" });
  }
  return result;
}

function parseDocument(raw: unknown, file: string, locate: Locator, line: number, unpinned: PostfixRelease | undefined): ParsedText {
  const parsed = scenarioDocumentSchema.safeParse(raw);
  if (!parsed.success) return { scenarios: [], problems: problemsFromIssues(parsed.error.issues, file, locate) };
  const document = parsed.data;
  const nameProblems = documentNameProblems(document, file, locate, unpinned);
  if (document.matrix) {
    const expanded = expandMatrix({ raw: raw as Record<string, unknown>, document, matrix: document.matrix, file, locate });
    const releaseProblems = [
      ...requireTlsReleaseProblems(expanded.scenarios, file, locate, unpinned),
      ...tlsrptReleaseProblems(expanded.scenarios, unpinned),
      ...mtaChoiceProblems(expanded.scenarios, file, locate),
    ];
    return { scenarios: expanded.scenarios, problems: [...nameProblems, ...expanded.problems, ...releaseProblems] };
  }
  if (!document.expect) throw new Error("the schema lets a document through without expect or matrix");
  const scenarios = [toScenario(document, document.expect, { file, line })];
  return {
    scenarios,
    problems: [
      ...nameProblems,
      ...requireTlsReleaseProblems(scenarios, file, locate, unpinned),
      ...tlsrptReleaseProblems(scenarios, unpinned),
      ...mtaChoiceProblems(scenarios, file, locate),
    ],
  };
}

function toJavaScript(document: Document): { value: unknown } | { error: string } {
  try {
    return { value: document.toJS({ maxAliasCount }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function startOf(document: Document, lineCounter: LineCounter): { line: number; column: number } {
  const offset = document.contents?.range?.[0] ?? document.range?.[0] ?? 0;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let index = text.indexOf("\n"); index >= 0 && index < offset; index = text.indexOf("\n", index + 1)) line += 1;
  return line;
}

function failed(problem: ScenarioProblem): ParsedText {
  return { scenarios: [], problems: [problem] };
}

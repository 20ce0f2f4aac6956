/**
 * The scenario loader: YAML files → validated Scenario objects, or a
 * ScenarioError listing every problem as file:line:column: field: message.
 * Pure: reads files, starts nothing.
 */
import { formatProblem, ScenarioError, sortProblems, type ScenarioProblem } from "./errors.js";
import { findScenarioFiles, readScenarioFile } from "./files.js";
import { resolveOwnConfig } from "./ownConfig.js";
import { parseScenarioText } from "./parseText.js";
import type { PostfixRelease } from "../core/releases.js";
import type { Scenario, ScenarioSource } from "./types.js";

export { ScenarioError, formatProblem, type ScenarioProblem } from "./errors.js";

export interface LoadOptions {
  /** Relative paths are resolved, and file names shown, relative to this; default process.cwd(). */
  cwd?: string;
  /** The release of every provider a scenario does not pin (--postfix): parameter names are checked against it alone. */
  postfix?: PostfixRelease;
}

/** Loads files and directories (recursively: *.yaml, *.yml, sorted). Throws ScenarioError on any problem. */
export async function loadScenarioFiles(paths: readonly string[], options: LoadOptions = {}): Promise<Scenario[]> {
  const cwd = options.cwd ?? process.cwd();
  const { files, problems } = await findScenarioFiles(paths, cwd);
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const read = await readScenarioFile(file);
    if ("problem" in read) {
      problems.push(read.problem);
      continue;
    }
    const parsed = parseScenarioText(read.text, file.shown, options.postfix);
    for (const scenario of parsed.scenarios) problems.push(...resolveOwnConfig(scenario, file.absolute, options.postfix));
    scenarios.push(...parsed.scenarios);
    problems.push(...parsed.problems);
  }
  return checked(scenarios, problems);
}

/** Loads the scenarios of one file's text; `file` names it in errors and in each scenario's source. */
export function loadScenarioText(text: string, file: string): Scenario[] {
  const { scenarios, problems } = parseScenarioText(text, file);
  for (const scenario of scenarios) problems.push(...resolveOwnConfig(scenario, file));
  return checked(scenarios, problems);
}

function checked(scenarios: Scenario[], problems: ScenarioProblem[]): Scenario[] {
  // A matrix repeats its document's own-config problems in every cell: say each once.
  const unique = [...new Map(problems.map((problem) => [formatProblem(problem), problem])).values()];
  const all = [...unique, ...duplicateNames(scenarios)];
  if (all.length > 0) throw new ScenarioError(sortProblems(all));
  return scenarios;
}

/** Names identify scenarios in reports and in --only: each must be unique across everything loaded. */
function duplicateNames(scenarios: readonly Scenario[]): ScenarioProblem[] {
  const first = new Map<string, ScenarioSource>();
  return scenarios.flatMap(({ name, source }) => {
    const earlier = first.get(name);
    if (!earlier) {
      first.set(name, source);
      return [];
    }
    const at = `${earlier.file}:${earlier.line}`;
    return [{ file: source.file, line: source.line, field: "name", message: `duplicate scenario name "${name}" (also at ${at})` }];
  });
}

/**
 * Matrix expansion: one scenario per combination of axis values, each with
 * the expectation of the one cell that covers it, validated like a document
 * written by hand.
 */
import type { ScenarioProblem } from "./errors.js";
import { problemsFromIssues } from "./issues.js";
import { scenarioDocumentSchema, type AxisValue, type MatrixSpec, type ScenarioDocument } from "./schema.js";
import { toScenario } from "./toScenario.js";
import type { Scenario } from "./types.js";
import { formatFieldPath, type FieldPath, type Locator } from "./yamlPosition.js";

/** More combinations than anyone would run through real mail servers is a mistake. */
export const maxCombinations = 1000;

interface Axis {
  name: string;
  set: string;
  path: string[];
  values: AxisValue[];
}

interface Cell {
  index: number;
  /** Per axis (in axis order), the indices of the values the cell covers. */
  covers: Set<number>[];
}

/** Axis value indices, one per axis, in axis order. */
type Combination = number[];

export interface ExpansionInput {
  /** The document as parsed from YAML, before validation. */
  raw: Record<string, unknown>;
  document: ScenarioDocument;
  matrix: MatrixSpec;
  file: string;
  locate: Locator;
}

export interface Expansion {
  scenarios: Scenario[];
  problems: ScenarioProblem[];
}

export function expandMatrix(input: ExpansionInput): Expansion {
  const { matrix, file, locate } = input;
  const problemAt = (path: FieldPath, message: string, prefer: "key" | "value" = "value"): ScenarioProblem => {
    const { position } = locate(path, prefer);
    return { file, line: position.line, column: position.column, field: formatFieldPath(path), message };
  };

  const axes: Axis[] = Object.entries(matrix.axes).map(([name, { set, values }]) => ({
    name,
    set,
    path: set.split("."),
    values,
  }));
  const axisProblems = checkAxes(axes, input.raw, problemAt);
  const { cells, problems: cellProblems } = readCells(axes, matrix, problemAt);
  if (axisProblems.length > 0 || cellProblems.length > 0) return { scenarios: [], problems: [...axisProblems, ...cellProblems] };

  const combinations = allCombinations(axes);
  if (combinations === undefined) {
    return { scenarios: [], problems: [problemAt(["matrix", "axes"], `more than ${maxCombinations} combinations; split the matrix`, "key")] };
  }

  const scenarios: Scenario[] = [];
  const problems: ScenarioProblem[] = [];
  const overlaps = new Map<string, { earlier: number; later: number; labels: string[] }>();
  for (const combination of combinations) {
    const label = labelOf(axes, combination);
    const [cell, ...others] = cells.filter((candidate) => covers(candidate, combination));
    if (!cell) {
      problems.push(problemAt(["matrix", "cells"], `no cell for ${label}`, "key"));
      continue;
    }
    for (const other of others) {
      const key = `${cell.index}/${other.index}`;
      const overlap = overlaps.get(key) ?? { earlier: cell.index, later: other.index, labels: [] };
      overlap.labels.push(label);
      overlaps.set(key, overlap);
    }
    if (others.length > 0) continue;
    const expanded = expandCell(input, axes, combination, cell.index);
    if ("scenario" in expanded) scenarios.push(expanded.scenario);
    else problems.push(...expanded.problems);
  }
  for (const { earlier, later, labels } of overlaps.values()) {
    const earlierLine = locate(["matrix", "cells", earlier]).position.line;
    problems.push(
      problemAt(["matrix", "cells", later, "when"], `${labels.join("; ")} also covered by matrix.cells[${earlier}] (line ${earlierLine})`, "key"),
    );
  }
  return { scenarios, problems: unique(problems) };
}

type ProblemAt = (path: FieldPath, message: string, prefer?: "key" | "value") => ScenarioProblem;

const labelOfValue = (value: AxisValue) => String(value);

function checkAxes(axes: Axis[], raw: Record<string, unknown>, problemAt: ProblemAt): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  axes.forEach((axis, position) => {
    const labels = axis.values.map(labelOfValue);
    labels.forEach((label, index) => {
      if (labels.indexOf(label) < index) problems.push(problemAt(["matrix", "axes", axis.name, "values", index], `${label} is listed twice`));
    });
    const earlier = axes.slice(0, position).find((other) => other.set === axis.set);
    if (earlier) problems.push(problemAt(["matrix", "axes", axis.name, "set"], `${axis.set} is already set by axis ${earlier.name}`));
    if (getPath(raw, axis.path) !== undefined) {
      problems.push(problemAt(axis.path, `also set by matrix axis ${axis.name}; write it in one place only`));
    }
  });
  return problems;
}

function readCells(axes: Axis[], matrix: MatrixSpec, problemAt: ProblemAt): { cells: Cell[]; problems: ScenarioProblem[] } {
  const problems: ScenarioProblem[] = [];
  const axisNames = axes.map((axis) => axis.name).join(", ");
  const cells = matrix.cells.map((cell, index): Cell => {
    const whenPath = ["matrix", "cells", index, "when"];
    for (const name of Object.keys(cell.when)) {
      if (!axes.some((axis) => axis.name === name)) problems.push(problemAt([...whenPath, name], `unknown axis (axes: ${axisNames})`, "key"));
    }
    const covers = axes.map((axis) => {
      const written = cell.when[axis.name];
      if (written === undefined) {
        problems.push(problemAt(whenPath, `missing axis ${axis.name} (give a value or a list of values)`, "key"));
        return new Set<number>();
      }
      const list = Array.isArray(written) ? written : [written];
      const indices = list.map((value, position) => {
        const found = axis.values.findIndex((candidate) => labelOfValue(candidate) === labelOfValue(value));
        if (found < 0) {
          const path = Array.isArray(written) ? [...whenPath, axis.name, position] : [...whenPath, axis.name];
          problems.push(problemAt(path, `${labelOfValue(value)} is not a value of axis ${axis.name} (${axis.values.map(labelOfValue).join(", ")})`));
        }
        return found;
      });
      return new Set(indices.filter((found) => found >= 0));
    });
    return { index, covers };
  });
  return { cells, problems };
}

function allCombinations(axes: Axis[]): Combination[] | undefined {
  const count = axes.reduce((product, axis) => product * axis.values.length, 1);
  if (count > maxCombinations) return undefined;
  return axes.reduce<Combination[]>(
    (partial, axis) => partial.flatMap((prefix) => axis.values.map((_, index) => [...prefix, index])),
    [[]],
  );
}

const covers = (cell: Cell, combination: Combination) => combination.every((value, axis) => cell.covers[axis]?.has(value));

function labelOf(axes: Axis[], combination: Combination): string {
  return axes.map((axis, position) => `${axis.name}=${labelOfValue(valueAt(axis, combination, position))}`).join(", ");
}

function valueAt(axis: Axis, combination: Combination, position: number): AxisValue {
  const value = axis.values[combination[position] ?? -1];
  if (value === undefined) throw new Error(`combination outside axis ${axis.name}`);
  return value;
}

function expandCell(
  { raw, document, file, locate }: ExpansionInput,
  axes: Axis[],
  combination: Combination,
  cellIndex: number,
): { scenario: Scenario } | { problems: ScenarioProblem[] } {
  const label = labelOf(axes, combination);
  const { matrix: rawMatrix, ...rawBase } = raw;
  const written = structuredClone(rawBase);
  written.name = `${document.name} [${label}]`;
  written.expect = structuredClone(getPath(rawMatrix, ["cells", cellIndex, "expect"]));
  axes.forEach((axis, position) => setPath(written, axis.path, valueAt(axis, combination, position)));

  const cellPosition = locate(["matrix", "cells", cellIndex]).position;
  const parsed = scenarioDocumentSchema.safeParse(written);
  if (parsed.success && parsed.data.expect) {
    return { scenario: toScenario(parsed.data, parsed.data.expect, { file, line: cellPosition.line }) };
  }
  const atCell: Locator = () => ({ position: cellPosition, found: true });
  const problems = (parsed.error?.issues ?? []).flatMap((issue) => {
    const axis = axes.find((candidate) => candidate.path.every((segment, depth) => issue.path[depth] === segment));
    const origin = axis
      ? `value ${labelOfValue(valueAt(axis, combination, axes.indexOf(axis)))} of matrix axis ${axis.name}`
      : `matrix combination ${label}`;
    return problemsFromIssues([issue], file, atCell).map((problem) => ({ ...problem, message: `${problem.message} (${origin})` }));
  });
  return { problems };
}

function getPath(root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

function setPath(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = root;
  path.forEach((segment, depth) => {
    if (depth === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    const child = typeof next === "object" && next !== null ? (next as Record<string, unknown>) : {};
    node[segment] = child;
    node = child;
  });
}

function unique(problems: ScenarioProblem[]): ScenarioProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = JSON.stringify(problem);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

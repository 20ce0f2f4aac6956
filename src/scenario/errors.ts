/** One thing wrong with a scenario file, located as precisely as the input allows. */
export interface ScenarioProblem {
  /** The file as shown to the user (relative to the working directory). */
  file: string;
  /** 1-based; absent when the problem concerns the whole file (missing, too large). */
  line?: number;
  /** 1-based. */
  column?: number;
  /** Dotted path of the field in the scenario document, e.g. `expect.outcome`. */
  field?: string;
  message: string;
}

/** `file:line:column: field: message`, leaving out the parts that are unknown. */
export function formatProblem(problem: ScenarioProblem): string {
  let where = problem.file;
  if (problem.line !== undefined) {
    where += `:${problem.line}`;
    if (problem.column !== undefined) where += `:${problem.column}`;
  }
  const field = problem.field ? `${problem.field}: ` : "";
  return `${where}: ${field}${problem.message}`;
}

/** Thrown by the loader when any scenario file is unusable; lists every problem found, one per line. */
export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  readonly problems: readonly ScenarioProblem[];

  constructor(problems: readonly ScenarioProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.problems = problems;
  }
}

/** Problems sorted by file, then line and column; files keep the order they were loaded in. */
export function sortProblems(problems: readonly ScenarioProblem[]): ScenarioProblem[] {
  const fileOrder = new Map<string, number>();
  for (const { file } of problems) if (!fileOrder.has(file)) fileOrder.set(file, fileOrder.size);
  return [...problems].sort(
    (a, b) =>
      (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

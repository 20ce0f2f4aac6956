import type { z } from "zod";
import type { ScenarioProblem } from "./errors.js";
import { formatFieldPath, type FieldPath, type Locator } from "./yamlPosition.js";

/** zod issues of one document, as problems placed on the lines where the fields are written. */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  locate: Locator,
): ScenarioProblem[] {
  const problemAt = (path: FieldPath, message: string, prefer: "key" | "value" = "value"): ScenarioProblem => {
    const { position } = locate(path, prefer);
    return {
      file,
      line: position.line,
      column: position.column,
      ...(path.length > 0 && { field: formatFieldPath(path) }),
      message,
    };
  };
  /** A required key that is not written at all gets "required" rather than "received undefined". */
  const isMissing = (path: FieldPath) => path.length > 0 && !locate(path).found;

  return issues.flatMap((issue): ScenarioProblem[] => {
    const path = issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment));
    switch (issue.code) {
      case "unrecognized_keys":
        return issue.keys.map((key) => problemAt([...path, key], `unknown key (${issue.message})`, "key"));
      case "invalid_key":
        return [problemAt(path, issue.issues[0]?.message ?? issue.message, "key")];
      case "invalid_type":
        if (path.length === 0) return [problemAt(path, `a scenario document must be a mapping of keys to values (${issue.message})`)];
        return [problemAt(path, isMissing(path) ? `required (${yamlType(issue.expected)})` : wrongType(issue.expected, issue.message))];
      case "invalid_value":
        if (!isMissing(path)) return [problemAt(path, issue.message)];
        return [problemAt(path, `required: one of ${issue.values.map((value) => JSON.stringify(value)).join("|")}`)];
      default:
        return [problemAt(path, issue.message)];
    }
  });
}

/** zod's type names in the words of a YAML writer. */
function yamlType(expected: string): string {
  switch (expected) {
    case "object":
    case "record":
      return "a mapping of keys to values";
    case "array":
      return "a list";
    case "string":
      return "a text";
    case "int":
      return "a whole number";
    default:
      return `a ${expected}`;
  }
}

function wrongType(expected: string, zodMessage: string): string {
  const received = /received (\w+)$/.exec(zodMessage)?.[1];
  const got = received === "array" ? "a list" : received === "object" ? "a mapping" : received;
  return `expected ${yamlType(expected)}${got ? `, got ${got}` : ""}`;
}

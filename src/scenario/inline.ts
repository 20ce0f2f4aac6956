/** A single scenario written inline (tests, the library API), validated like a file's. */
import { loadScenarioText } from "./load.js";
import type { Scenario } from "./types.js";

/** Strip the common indentation of a template literal so YAML keeps its structure. */
function dedent(text: string): string {
  const lines = text.replace(/^\n/, "").split("\n");
  const indent = Math.min(...lines.filter((line) => line.trim() !== "").map((line) => /^ */.exec(line)![0].length));
  return lines.map((line) => line.slice(indent)).join("\n");
}

export function scenarioFromYaml(yaml: string, file = "<inline scenario>"): Scenario {
  const scenarios = loadScenarioText(dedent(yaml), file);
  if (scenarios.length !== 1) throw new Error(`expected one scenario, got ${scenarios.length} (a matrix? use loadScenarioText)`);
  return scenarios[0]!;
}

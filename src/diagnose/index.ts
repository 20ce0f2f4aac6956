/** `starttls-lab diagnose`: the pieces the command line and the tests use. */
import path from "node:path";
import { packageRoot } from "../paths.js";
import { loadScenarioFiles } from "../scenario/load.js";
import type { Scenario } from "../scenario/types.js";

export { diagnose, type Diagnosis, type Recognised } from "./diagnose.js";
export { formatDiagnosis, NOT_RECOGNISED } from "./format.js";
export { scenarioFileText } from "./scenarioFile.js";
export { SITUATIONS } from "./situations.js";

/** The shipped scenarios by name, their files shown relative to the package (scenarios/…). */
export async function shippedScenarios(): Promise<Map<string, Scenario>> {
  const root = packageRoot();
  const scenarios = await loadScenarioFiles([path.join(root, "scenarios")], { cwd: root });
  return new Map(scenarios.map((scenario) => [scenario.name, scenario]));
}

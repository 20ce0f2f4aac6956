/** Loading scenario text as if from a file named `file`, and the ScenarioError text a bad one gives. */
import { expect } from "vitest";
import { loadScenarioText, ScenarioError } from "../../../src/scenario/load.js";
import type { Scenario } from "../../../src/scenario/types.js";

export function scenarioTextLoader(file: string): { load: (yaml: string) => Scenario[]; errorOf: (yaml: string) => string } {
  const load = (yaml: string): Scenario[] => loadScenarioText(yaml, file);
  const errorOf = (yaml: string): string => {
    try {
      load(yaml);
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      return (error as ScenarioError).message;
    }
    throw new Error("expected a ScenarioError");
  };
  return { load, errorOf };
}

/** Loading scenario text as if from a file named `file`, and the ScenarioError text a bad one gives. */
import { expect } from "vitest";
import { loadScenarioText, ScenarioError } from "../../../src/scenario/load.js";
import type { Scenario } from "../../../src/scenario/types.js";

export function scenarioTextLoader(file: string): { load: (yaml: string) => Scenario[]; errorOf: (yaml: string) => string; only: (yaml: string) => Scenario } {
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
  /** The one scenario a text holds. */
  const only = (yaml: string): Scenario => {
    const [scenario, ...rest] = load(yaml);
    expect(rest).toHaveLength(0);
    if (!scenario) throw new Error("no scenario");
    return scenario;
  };
  return { load, errorOf, only };
}

import type { ScenarioDocument } from "./schema.js";
import type { Expectation, Scenario, ScenarioSource } from "./types.js";

/** The contract's Scenario from a validated document that carries its expectation. */
export function toScenario(document: ScenarioDocument, expect: Expectation, source: ScenarioSource): Scenario {
  const { name, story, sender, receiver, wire, message } = document;
  return {
    name,
    ...(story !== undefined && { story }),
    source,
    sender,
    receiver,
    wire,
    message: {
      from: message.from,
      to: message.to,
      subject: message.subject ?? `starttls-lab: ${name}`,
      via: message.via,
    },
    expect,
  };
}

import { z } from "zod";
import { scenarioDocumentSchema } from "./schema.js";

/**
 * The JSON Schema of a scenario document as users write it (the input side of
 * the zod schema), for editors. Draft 7: the one YAML and JSON editors know best.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioDocumentSchema, { io: "input", target: "draft-7" });
}

/** The text of schema/scenario.schema.json. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

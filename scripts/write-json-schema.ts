/**
 * Writes schema/scenario.schema.json from the zod schema.
 * Node 20 cannot run TypeScript and tsx is not installed, so the schema test
 * runs this: WRITE_SCHEMA=1 npx vitest run test/unit/scenario-schema.test.ts
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { scenarioJsonSchemaText } from "../src/scenario/jsonSchema.js";

export const jsonSchemaFile = fileURLToPath(new URL("../schema/scenario.schema.json", import.meta.url));

export async function writeJsonSchema(): Promise<string> {
  await writeFile(jsonSchemaFile, scenarioJsonSchemaText());
  return jsonSchemaFile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`wrote ${await writeJsonSchema()}`);
}

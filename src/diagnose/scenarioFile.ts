/**
 * The scenario file a diagnosis writes: the customer's case and its fix, as
 * two documents `starttls-lab run` reads. The failing case's story keeps
 * what the input said apart from what was inferred. Checked by the same
 * loader as every scenario before anything is written.
 */
import { stringify } from "yaml";
import { loadScenarioText } from "../scenario/load.js";
import type { Recognised } from "./diagnose.js";
import { WORLD_MX, type DraftDocument } from "./situations.js";

function failingStory(diagnosis: Recognised): string {
  const { facts, shownBy, detail, probably, failing } = diagnosis;
  const read = [...shownBy.map((line) => `"${line}"`), ...facts.quotes, ...(detail ? [detail.says] : [])];
  return [
    `${diagnosis.situation.title}.`,
    "",
    "Read from the customer's input:",
    ...read.map((line) => `- ${line}`),
    ...(probably.length > 0 ? ["", "Probably (not in the input, check with the customer):", ...probably.map((line) => `- ${line}`)] : []),
    ...(failing.story ? ["", failing.story] : []),
  ].join("\n");
}

/** The order the shipped scenario files use: who, then the world, then what must happen. */
const FIELD_ORDER = ["name", "story", "sender", "receiver", "wire", "dns", "message", "expect"] as const satisfies ReadonlyArray<keyof DraftDocument>;

function inFileOrder(document: DraftDocument): Partial<DraftDocument> {
  return Object.fromEntries(FIELD_ORDER.filter((field) => document[field] !== undefined).map((field) => [field, document[field]]));
}

/** The YAML text of both documents, validated; `file` names it in the loader's errors. */
export function scenarioFileText(diagnosis: Recognised, file: string): string {
  const host = diagnosis.facts.remoteHost;
  const header = [
    "# Written by `starttls-lab diagnose` from a customer's input; run it with `starttls-lab run` (first the case, then its fix).",
    host && host.name !== WORLD_MX ? `# The customer's ${host.name} is played by the world's ${WORLD_MX}.` : undefined,
  ].filter((line): line is string => line !== undefined);
  const documents: DraftDocument[] = [{ ...diagnosis.failing, story: failingStory(diagnosis) }, diagnosis.fix];
  const text = header.join("\n") + "\n" + documents.map((document) => stringify(inFileOrder(document), { lineWidth: 0 })).join("---\n");
  loadScenarioText(text, file);
  return text;
}

/**
 * What a learner chooses in the lab, and the scenario file it stands for.
 * The lab never builds a Scenario itself: it writes the YAML a user could
 * have written and loads it through the same loader as files, so the lab
 * cannot run anything a scenario file could not.
 */
import { stringify } from "yaml";
import { z } from "zod";
import { DEFAULT_POSTFIX_RELEASE, type PostfixRelease } from "../core/releases.js";
import { scenarioFromYaml } from "../scenario/inline.js";
import { CLIENT_SECURITY_LEVELS, SERVER_SECURITY_LEVELS } from "../scenario/postfixValues.js";
import { certificateVariants, mtaStsModes, tlsaRecords, wireModes, zoneSignings } from "../scenario/schema.js";
import type { Scenario } from "../scenario/types.js";

/** The releases the lab offers: the stable default and the oldstable one (3.11 is a preview built only on request). */
export const LAB_RELEASES = ["3.10", "3.7"] as const satisfies readonly PostfixRelease[];

/**
 * The sender levels a lesson needs; `fingerprint` is left out because it
 * means nothing without a pinned fingerprint, which the form does not ask for.
 */
export const LAB_SENDER_LEVELS = CLIENT_SECURITY_LEVELS.filter((level) => level !== "fingerprint");

/** The learner's prediction, which becomes the scenario's expectation: the verdict says whether it held. */
export const PREDICTIONS = {
  "delivered-tls": { outcome: "delivered", transport: "tls" },
  "delivered-plaintext": { outcome: "delivered", transport: "plaintext" },
  deferred: { outcome: "deferred" },
  bounced: { outcome: "bounced" },
} as const;
export type Prediction = keyof typeof PREDICTIONS;

const nonEmpty = <T extends string>(values: readonly T[]) => values as unknown as [T, ...T[]];

export const labChoicesSchema = z.strictObject({
  release: z.enum(LAB_RELEASES).default(DEFAULT_POSTFIX_RELEASE as (typeof LAB_RELEASES)[number]),
  senderLevel: z.enum(nonEmpty(LAB_SENDER_LEVELS)).default("may"),
  receiverLevel: z.enum(SERVER_SECURITY_LEVELS).default("may"),
  certificate: z.enum(certificateVariants).default("valid"),
  wire: z.enum(wireModes).default("pass"),
  zone: z.enum(zoneSignings).default("signed"),
  tlsa: z.enum(tlsaRecords).default("auto"),
  mtaSts: z.enum(mtaStsModes).default("none"),
  attempts: z.int().min(1).max(2).default(1),
  prediction: z.enum(nonEmpty(Object.keys(PREDICTIONS) as Prediction[])).default("delivered-tls"),
});
export type LabChoices = z.output<typeof labChoicesSchema>;

/** The default of every choice (what the form shows first). */
export const DEFAULT_CHOICES: LabChoices = labChoicesSchema.parse({});

export class ChoicesError extends Error {}

/** Reads a request body's choices; unknown keys and values outside the lists are refused with the field named. */
export function parseChoices(input: unknown): LabChoices {
  const parsed = labChoicesSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ChoicesError(parsed.error.issues.map((issue) => `${issue.path.join(".") || "choices"}: ${issue.message}`).join("; "));
}

/** A scenario name that says what was chosen, so the history and the exported file read on their own. */
export function choicesName(choices: LabChoices, runNumber: number): string {
  const dns = [
    choices.senderLevel.startsWith("dane") ? `TLSA ${choices.tlsa}${choices.zone === "signed" ? "" : `, zone ${choices.zone}`}` : "",
    choices.mtaSts === "none" ? "" : `MTA-STS ${choices.mtaSts}`,
  ].filter((part) => part !== "");
  const parts = [
    `sender ${choices.senderLevel}`,
    `receiver ${choices.receiverLevel}`,
    `certificate ${choices.certificate}`,
    `wire ${choices.wire}`,
    ...dns,
    ...(choices.attempts > 1 ? [`${choices.attempts} attempts`] : []),
  ];
  return `Lab run ${runNumber} (Postfix ${choices.release}): ${parts.join(", ")}`;
}

/** The scenario file these choices stand for, as a user would write it. */
export function choicesToYaml(choices: LabChoices, runNumber: number): string {
  const document = {
    name: choicesName(choices, runNumber),
    story: `Made in the starttls-lab browser lab (Postfix ${choices.release}). The expectation is the learner's prediction.`,
    // Pinned on both sides, so the exported file runs on the release the lab ran it on.
    sender: { postfix: choices.release, postconf: { smtp_tls_security_level: choices.senderLevel } },
    receiver: { postfix: choices.release, postconf: { smtpd_tls_security_level: choices.receiverLevel }, certificate: choices.certificate },
    wire: choices.wire,
    dns: { zone: choices.zone, tlsa: choices.tlsa, mtaSts: { mode: choices.mtaSts } },
    ...(choices.attempts > 1 ? { attempts: choices.attempts } : {}),
    expect: PREDICTIONS[choices.prediction],
  };
  return `# Exported from the starttls-lab lab: npx starttls-lab run lab-run-${runNumber}.yaml\n${stringify(document)}`;
}

/** The scenario, through the loader every scenario file goes through. */
export function choicesToScenario(choices: LabChoices, runNumber: number): { scenario: Scenario; yaml: string } {
  const yaml = choicesToYaml(choices, runNumber);
  return { scenario: scenarioFromYaml(yaml, `lab-run-${runNumber}.yaml`), yaml };
}

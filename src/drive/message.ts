/**
 * Every submitted message carries a marker unique to its scenario run: in its
 * Message-ID, a header and the body. That is how the harness finds exactly
 * this message in logs and mailboxes, whatever earlier scenarios left there.
 */
import { randomBytes } from "node:crypto";
import type { MessageSpec } from "../scenario/types.js";

export interface MarkedMessage {
  spec: MessageSpec;
  /** e.g. "lab-5f2c9a1b0e3d" — also written into the body, to spot it on the wire. */
  marker: string;
  /** With angle brackets, as Postfix logs it. */
  messageId: string;
  headers: Record<string, string>;
  text: string;
}

export function markMessage(spec: MessageSpec, scenarioName: string): MarkedMessage {
  const marker = `lab-${randomBytes(8).toString("hex")}`;
  const domain = spec.from.split("@")[1] ?? "infomaniak.test";
  return {
    spec,
    marker,
    messageId: `<${marker}@${domain}>`,
    headers: { "X-Starttls-Lab-Scenario": scenarioName.replace(/[\r\n]+/g, " ") },
    text: [`Hello from starttls-lab.`, ``, `Scenario: ${scenarioName}`, `Marker: ${marker}`, ``].join("\r\n"),
  };
}

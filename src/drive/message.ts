/**
 * Every submitted message carries a marker unique to its scenario run: in its
 * Message-ID, a header and the body. That is how the harness finds exactly
 * this message in logs and mailboxes, whatever earlier scenarios left there.
 */
import { randomBytes } from "node:crypto";
import { distinctHeaderNames, SCENARIO_MARKER_HEADER, TLS_REQUIRED_HEADER } from "../scenario/messageHeaders.js";
import type { MessageSpec } from "../scenario/types.js";

export interface MarkedMessage {
  spec: MessageSpec;
  /** e.g. "lab-5f2c9a1b0e3d" — also written into the body, to spot it on the wire. */
  marker: string;
  /** With angle brackets, as Postfix logs it. */
  messageId: string;
  headers: Record<string, string>;
  text: string;
  /**
   * The header fields read back from the copy that is stored (or returned in a
   * bounce): the TLS-relevant ones, those Alice added, those the scenario expects.
   */
  readBack: string[];
}

/** `expectedHeaders`: the header names the scenario's expectation reads on the stored copy. */
export function markMessage(spec: MessageSpec, scenarioName: string, expectedHeaders: readonly string[] = []): MarkedMessage {
  const marker = `lab-${randomBytes(8).toString("hex")}`;
  const domain = spec.from.split("@")[1] ?? "infomaniak.test";
  return {
    spec,
    marker,
    messageId: `<${marker}@${domain}>`,
    // The schema keeps the scenario's headers off the harness's own names; the marker is written last all the same.
    headers: { ...spec.headers, [SCENARIO_MARKER_HEADER]: scenarioName.replace(/[\r\n]+/g, " ") },
    text: [`Hello from starttls-lab.`, ``, `Scenario: ${scenarioName}`, `Marker: ${marker}`, ``].join("\r\n"),
    readBack: distinctHeaderNames([TLS_REQUIRED_HEADER, ...Object.keys(spec.headers ?? {}), ...expectedHeaders]),
  };
}

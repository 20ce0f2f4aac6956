/**
 * Flags: what a reader should notice even when the scenario passed, because
 * the outcome is a risk the scenario's settings were meant to prevent.
 */
import type { Observation } from "../observe/types.js";
import type { Scenario } from "../scenario/types.js";

export function riskFlags(scenario: Scenario, observation: Observation): string[] {
  const flags: string[] = [];
  const inClearText = observation.outcome === "delivered" && observation.transport === "plaintext";
  if (inClearText && scenario.dns.mtaSts.mode === "testing") {
    flags.push(
      "Bob's provider publishes an MTA-STS policy, but in testing mode: it asked for TLS without enforcing it, and the message crossed in clear text",
    );
  }
  if (inClearText && observation.wire?.hops.some((hop) => hop.transcript.events.some((event) => event.kind === "tampered"))) {
    flags.push("an attacker on the wire downgraded the connection and the message was sent in clear text anyway");
  }
  const changes = observation.attempts?.flatMap((attempt) => attempt.after) ?? [];
  if (inClearText && changes.length > 0) {
    flags.push(`the message waited in the queue while the world changed (${changes.join("; ")}), and then crossed in clear text`);
  }
  if (observation.wire?.attackerReadBody) {
    flags.push("the attacker on the wire read the message: the sender accepted a certificate it could not verify");
  }
  return flags;
}

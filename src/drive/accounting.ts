/**
 * Every submitted message is accounted for exactly once. After the outcome
 * is observed, look everywhere else it could have gone: no copy in any
 * mailbox that should not have it (no duplicate, no stray delivery), and
 * nothing left queued after a refusal. A message that is somewhere it
 * should not be fails the scenario.
 */
import { statement, type StatementEvidence } from "../observe/evidence.js";
import type { Observation } from "../observe/types.js";
import { allMailboxes } from "../world/providers.js";
import type { MailWorld } from "../world/world.js";
import { countInInbox } from "./mailbox.js";
import type { MarkedMessage } from "./message.js";

export class UnaccountedMessageError extends Error {
  constructor(message: MarkedMessage, problems: string[]) {
    super(`message ${message.messageId} is not accounted for exactly once: ${problems.join("; ")}`);
    this.name = "UnaccountedMessageError";
  }
}

/** Throws UnaccountedMessageError when a copy is missing, doubled or astray; returns the evidence otherwise. */
export async function accountForMessage(world: MailWorld, message: MarkedMessage, observation: Observation): Promise<StatementEvidence[]> {
  const recipient = message.spec.to.toLowerCase();
  const mailboxes = allMailboxes().map((mailbox) => ({
    ...mailbox,
    expected: observation.outcome === "delivered" && mailbox.hosted.mailbox === recipient ? 1 : 0,
  }));
  const problems: string[] = [];
  await Promise.all(
    mailboxes.map(async ({ role, hosted, expected }) => {
      const copies = await countInInbox(world.provider(role), world.caCertPem, { name: "Message-ID", value: message.messageId }, hosted);
      if (copies !== expected) problems.push(`${hosted.mailbox}'s inbox holds ${copies} copies, expected ${expected}`);
    }),
  );
  if (observation.outcome === "rejected") {
    const queued = await world.provider(message.spec.via.provider).queued();
    if (queued.length > 0) problems.push(`the ${message.spec.via.provider} refused it but has something queued: ${queued.map((entry) => `${entry.queueId} (${entry.queueName})`).join(", ")}`);
  }
  if (problems.length > 0) throw new UnaccountedMessageError(message, problems);
  return [
    statement(
      "harness",
      `accounted for: ${mailboxes.map(({ hosted, expected }) => `${hosted.mailbox} holds ${expected}`).join(", ")}` +
        (observation.outcome === "rejected" ? ", nothing queued" : ""),
    ),
  ];
}

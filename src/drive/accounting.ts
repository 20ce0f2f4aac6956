/**
 * Every submitted message is accounted for exactly once. After the outcome
 * is observed, look everywhere else it could have gone: no copy in any
 * mailbox that should not have it (no duplicate, no stray delivery), and
 * nothing left queued after a refusal. A message that is somewhere it
 * should not be fails the scenario.
 */
import type { Observation } from "../observe/types.js";
import type { Role } from "../scenario/types.js";
import type { MailWorld } from "../world/world.js";
import { findInInbox } from "./mailbox.js";
import type { MarkedMessage } from "./message.js";

export class UnaccountedMessageError extends Error {
  constructor(message: MarkedMessage, problems: string[]) {
    super(`message ${message.messageId} is not accounted for exactly once: ${problems.join("; ")}`);
    this.name = "UnaccountedMessageError";
  }
}

/** How many copies of the message each mailbox should hold for this outcome. */
function expectedCopies(world: MailWorld, message: MarkedMessage, observation: Observation): Record<Role, number> {
  const copies: Record<Role, number> = { sender: 0, receiver: 0 };
  if (observation.outcome === "delivered") {
    for (const role of ["sender", "receiver"] as Role[]) {
      if (world.provider(role).identity.mailbox === message.spec.to.toLowerCase()) copies[role] = 1;
    }
  }
  return copies;
}

/** Throws UnaccountedMessageError when a copy is missing, doubled or astray; returns the evidence otherwise. */
export async function accountForMessage(world: MailWorld, message: MarkedMessage, observation: Observation): Promise<string[]> {
  const expected = expectedCopies(world, message, observation);
  const problems: string[] = [];
  const evidence: string[] = [];
  await Promise.all(
    (["sender", "receiver"] as Role[]).map(async (role) => {
      const provider = world.provider(role);
      const found = await findInInbox(provider, world.caCertPem, { name: "Message-ID", value: message.messageId });
      if (found.length !== expected[role]) {
        problems.push(`${provider.identity.mailbox}'s inbox holds ${found.length} copies, expected ${expected[role]}`);
      }
    }),
  );
  if (observation.outcome === "rejected") {
    const queued = await world.provider(message.spec.via.provider).queueJson();
    if (queued.trim() !== "") problems.push(`the ${message.spec.via.provider} refused it but has something queued: ${queued.trim()}`);
  }
  if (problems.length > 0) throw new UnaccountedMessageError(message, problems);
  evidence.push(
    `accounted for: ${Object.entries(expected)
      .map(([role, count]) => `${world.provider(role as Role).identity.mailbox} holds ${count}`)
      .join(", ")}` + (observation.outcome === "rejected" ? `, nothing queued` : ""),
  );
  return evidence;
}

/**
 * The soak's accounting, pure: where each message it sent ended up, from
 * the copies found in every mailbox and what the queues and logs say.
 * Every message is delivered exactly once to its recipient, still queued
 * (with its reason), returned to Alice, or refused at submission; anything
 * else is lost, duplicated or leaked. An extra copy the providers' logs show
 * to come from a delivery cut short (SMTP's at-least-once, see
 * observe/interruptedDelivery.ts) is still counted, and told apart.
 */
import type { ExtraCopies } from "../observe/interruptedDelivery.js";
import type { Transport } from "../scenario/types.js";

export interface SoakMessage {
  messageId: string;
  /** The recipient's mailbox. */
  home: string;
  /** Alice's provider's queue ID, when it accepted the message. */
  queueId?: string;
  /** Why Alice's provider refused it at submission, when it did. */
  refused?: string;
}

/** A copy found in a mailbox, and how it crossed the hop into the provider that stored it (its Received header). */
export interface StoredCopy {
  mailbox: string;
  transport: Transport | "unknown";
}

export interface SoakFates {
  /** Queue IDs Alice's provider bounced (returned to Alice). */
  bounced: ReadonlySet<string>;
  /** Where a message still waits, and why; undefined when it is in no queue. */
  stillQueued(queueId: string): string | undefined;
  /** How many of a delivered message's extra copies the logs explain, and with what lines. */
  extraCopies(messageId: string, queueId: string, copies: number): ExtraCopies;
}

export interface SoakTally {
  delivered: number;
  queued: number;
  bounced: number;
  refused: number;
  /** Copies beyond the first, and any copy of a message Alice's client was told was refused. */
  duplicated: number;
  /** Of those, copies both logs show came from a delivery cut short after Bob's provider had queued the message. */
  duplicatedByInterruptedDelivery: number;
  /** In no mailbox, no queue and not returned; or a copy in a mailbox that is not the recipient's. */
  lost: number;
  /** Copies that crossed into the storing provider without TLS while Alice's provider required it. */
  leaked: number;
  /** One line per message that did not simply arrive once. */
  notes: string[];
}

export function tallySoak(messages: readonly SoakMessage[], copies: ReadonlyMap<string, readonly StoredCopy[]>, fates: SoakFates): SoakTally {
  const tally: SoakTally = { delivered: 0, queued: 0, bounced: 0, refused: 0, duplicated: 0, duplicatedByInterruptedDelivery: 0, lost: 0, leaked: 0, notes: [] };
  for (const { messageId, home, queueId, refused } of messages) {
    const found = copies.get(messageId) ?? [];
    const atHome = found.filter((copy) => copy.mailbox === home);
    const astray = found.filter((copy) => copy.mailbox !== home);
    if (astray.length > 0) {
      tally.lost += astray.length;
      tally.notes.push(`${messageId} ASTRAY: in ${astray.map((copy) => copy.mailbox).join(", ")}, not in ${home}`);
    }
    tally.leaked += atHome.filter((copy) => copy.transport !== "tls").length;
    if (refused !== undefined) {
      tally.refused++;
      tally.duplicated += atHome.length;
      tally.notes.push(`${messageId} refused at submission: ${refused}${atHome.length > 0 ? `, yet ${atHome.length} cop${atHome.length === 1 ? "y" : "ies"} in ${home}` : ""}`);
      continue;
    }
    if (atHome.length >= 1) tally.delivered++;
    if (atHome.length > 1) {
      tally.duplicated += atHome.length - 1;
      const explained = queueId === undefined ? { explained: 0, evidence: [] } : fates.extraCopies(messageId, queueId, atHome.length);
      tally.duplicatedByInterruptedDelivery += explained.explained;
      const unexplained = atHome.length - 1 - explained.explained;
      tally.notes.push(
        `${messageId} ${unexplained > 0 ? "DUPLICATED" : "duplicated by an interrupted delivery"}: ${atHome.length} copies in ${home}` +
          explained.evidence.map((line) => `\n    ${line}`).join("") +
          (unexplained > 0 ? `\n    ${unexplained} cop${unexplained === 1 ? "y" : "ies"} no log line explains` : ""),
      );
    }
    if (atHome.length > 0) continue;
    const reason = queueId === undefined ? undefined : fates.stillQueued(queueId);
    if (queueId !== undefined && fates.bounced.has(queueId)) {
      tally.bounced++;
      tally.notes.push(`${messageId} (${queueId}) returned to Alice`);
    } else if (reason !== undefined) {
      tally.queued++;
      tally.notes.push(`${messageId} (${queueId}) still queued, ${reason}`);
    } else {
      tally.lost++;
      tally.notes.push(`${messageId} (${queueId ?? "no queue ID"}) LOST: in no mailbox and no queue`);
    }
  }
  return tally;
}

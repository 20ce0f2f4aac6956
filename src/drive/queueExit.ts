/**
 * Waiting for messages to leave a provider's queue: each crossed off by the
 * MTA's own line (Postfix's queue manager's "removed", Exim's "Completed"),
 * and the queue itself asked when no such line came for a while. Postfix can lose a log line while it stops and
 * starts (one of 200 "removed" lines never came in a soak, for a message
 * that was delivered): a missing line must not be taken for a message that
 * never left.
 */
import { WaitTimeoutError } from "../world/logBook.js";
import type { StartedProvider as Provider } from "../world/world.js";

/**
 * Waits until none of `queueIds` is in the provider's queue, or `deadline`
 * (ms since the epoch) passes; reads the log from line `from`, and asks the
 * queue after `recheckMs` without a line; `stillQueued` is called when the
 * queue still holds some. Returns the IDs still queued.
 */
export async function untilLeftTheQueue(
  provider: Provider,
  queueIds: Iterable<string>,
  options: { from: number; deadline: number; recheckMs: number; stillQueued?: () => Promise<void> },
): Promise<string[]> {
  const pending = new Set(queueIds);
  let from = options.from;
  while (pending.size > 0) {
    try {
      const leftQueue = (line: string) => provider.reader.leftQueue(line);
      const removed = await provider.log.waitFor((line) => pending.has(leftQueue(line) ?? ""), {
        from,
        timeoutMs: Math.min(options.recheckMs, Math.max(1, options.deadline - Date.now())),
        what: `${[...pending].slice(0, 3).join(", ")}${pending.size > 3 ? ` and ${pending.size - 3} more` : ""} to leave the queue`,
      });
      pending.delete(leftQueue(removed.line)!);
      from = removed.index + 1;
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      const queued = new Set((await provider.queued()).map((entry) => entry.queueId));
      for (const queueId of pending) if (!queued.has(queueId)) pending.delete(queueId);
      if (Date.now() >= options.deadline) break;
      if (pending.size > 0) await options.stillQueued?.();
    }
  }
  return [...pending];
}

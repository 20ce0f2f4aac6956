/**
 * Parses `exim -bp`, Exim's queue listing: per message a header line (time
 * in the queue, size, message id, envelope sender in angle brackets, and
 * "*** frozen ***" when Exim stopped trying), then one indented line per
 * recipient, "D " before those already delivered, and a blank line:
 *
 *    0m   544 1xYYFn-00000000019-0lDu <alice@infomaniak.test>
 *             bob@iroco.test
 */

export interface EximQueuedMessage {
  /** Exim's message id, e.g. "1xYYFn-00000000019-0lDu". */
  id: string;
  /** Envelope sender; "" for a bounce. */
  sender: string;
  /** Recipients not delivered yet. */
  recipients: string[];
  /** Recipients already delivered (a message stays queued until every one is). */
  delivered: string[];
  frozen: boolean;
  /** Time in the queue as listed, e.g. "0m", "25h". */
  age: string;
  /** Size as listed, e.g. "544", "2.9K". */
  size: string;
}

const HEADER = /^\s*(\d+[smhdw])\s+(\S+)\s+([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})\s+<([^>]*)>(\s+\*\*\* frozen \*\*\*)?\s*$/;
const RECIPIENT = /^\s+(D\s+)?(\S+)\s*$/;

/** Throws on a line that is neither a header nor a recipient, rather than dropping a message unseen. */
export function parseEximQueue(output: string): EximQueuedMessage[] {
  const messages: EximQueuedMessage[] = [];
  let current: EximQueuedMessage | undefined;
  output.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") {
      current = undefined;
      return;
    }
    const header = HEADER.exec(line);
    if (header) {
      current = { age: header[1]!, size: header[2]!, id: header[3]!, sender: header[4]!, frozen: header[5] !== undefined, recipients: [], delivered: [] };
      messages.push(current);
      return;
    }
    const recipient = RECIPIENT.exec(line);
    if (current && recipient) {
      (recipient[1] ? current.delivered : current.recipients).push(recipient[2]!);
      return;
    }
    throw new Error(`exim -bp output, line ${index + 1}: neither a message nor one of its recipients: ${line}`);
  });
  return messages;
}

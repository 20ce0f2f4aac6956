/**
 * How the harness reads any MTA's log: each MTA's lines told in one
 * vocabulary, the events of postfixLog.ts (a status line per recipient, the
 * TLS session it ran over, the certificate seen, the Message-ID, a
 * non-delivery notice), so that following a message, its relay trail and
 * the verdict are written once. Postfix's lines are that vocabulary
 * already; Exim's and OpenSMTPD's readers translate theirs, keeping each
 * raw line in the events it yields (the evidence a report quotes).
 */
import { parseLogLine, queuedAs, removedQueueId, type PostfixEvent } from "./postfixLog.js";

export interface MtaLogReader {
  /**
   * The events one raw log line says, in the order they happened; [] for a
   * line the harness does not follow. Events of one line share program and
   * pid, and no other line's events share both: relayTrail pairs a status
   * line with the TLS session of the same process.
   */
  events(line: string): PostfixEvent[];
  /**
   * The events of consecutive lines, for an MTA that spreads one fact over
   * several lines (OpenSMTPD logs a session's TLS and its certificate check
   * apart): status lines as `events` reads them, the rest completed from the
   * lines around. Without it, each line is read on its own.
   */
  readLines?(lines: readonly string[]): PostfixEvent[];
  /**
   * Whether the server complained on this line (a TLS failure, a session
   * given up, a warning): shown beside the status lines as the other side of
   * a failure, often the only place its cause is written.
   */
  complaint(line: string): boolean;
  /** The queue ID of the message this line says left the queue for good (delivered or bounced everywhere). */
  leftQueue(line: string): string | undefined;
  /** The queue ID a server of this MTA names in its reply accepting a message (the reply to Alice's DATA). */
  replyQueueId(reply: string): string | undefined;
}

export const POSTFIX_LOG_READER: MtaLogReader = {
  events(line) {
    const event = parseLogLine(line);
    return event ? [event] : [];
  },
  complaint: (line) => /postfix\/[\w/-]+\[\d+\]: (warning:|fatal:|SSL_accept error|lost connection after STARTTLS)/.test(line),
  leftQueue: removedQueueId,
  replyQueueId: queuedAs,
};

/** A whole log (or a slice of its lines) in the common vocabulary. */
export function readEvents(reader: MtaLogReader, lines: readonly string[]): PostfixEvent[] {
  return reader.readLines ? reader.readLines(lines) : lines.flatMap((line) => reader.events(line));
}

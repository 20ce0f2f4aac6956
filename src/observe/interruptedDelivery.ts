/**
 * Why a message reached Bob's provider more than once, read from the two
 * providers' own logs. SMTP delivers at least once (RFC 1047): when the
 * sending Postfix is stopped after Bob's provider has queued the message
 * but before the smtp client has recorded the 250, the message stays in
 * Alice's queue and goes again once Postfix is back. When Bob's side drops
 * the connection after the final dot instead, Postfix says so itself:
 * "message may be sent more than once". An extra copy counts as explained
 * only when both halves are in the logs: a copy Bob's provider queued that
 * Alice's provider never logged as sent, and a delivery of that message
 * cut short by a stop or by a connection lost after the dot.
 */
import { parseLogLine, removedQueueId } from "./postfixLog.js";

/** The line the mta entrypoint prints once the master has exited at lab-postfix stop's request. */
const STOPPED_BY_HARNESS = "Postfix stopped at the harness's request";
/** qmgr took the message into the active queue: a delivery is about to start. */
const QUEUE_ACTIVE = /postfix\/qmgr\[\d+\]: ([0-9A-F]+): from=<[^>]*>.*\(queue active\)/;
const MAY_BE_SENT_TWICE = "message may be sent more than once";

export interface ExtraCopies {
  /** Copies beyond the first that both logs account for (at most copies - 1). */
  explained: number;
  /** One line per explained copy, naming the log lines that explain it. */
  evidence: string[];
}

export interface ExtraCopiesQuestion {
  /** With or without its angle brackets: the header's spelling or the log's. */
  messageId: string;
  /** The message's queue ID at Alice's provider. */
  senderQueueId: string;
  /** How many copies Bob's provider stored. */
  copies: number;
  senderLog: readonly string[];
  receiverLog: readonly string[];
}

export function explainExtraCopies({ messageId: asGiven, senderQueueId, copies, senderLog, receiverLog }: ExtraCopiesQuestion): ExtraCopies {
  // Postfix logs message-id=<…>, and the parser keeps what is inside the brackets.
  const messageId = asGiven.trim().replace(/^<(.*)>$/, "$1");
  const queuedAtReceiver = receiverLog.flatMap((line) => {
    const event = parseLogLine(line);
    return event?.kind === "messageId" && event.messageId === messageId ? [event.queueId] : [];
  });
  const senderEvents = senderLog.map((line) => ({ line, event: parseLogLine(line) }));
  const recordedBySender = new Set(
    senderEvents.flatMap(({ event }) => (event?.kind === "delivery" && event.queueId === senderQueueId && event.remoteQueueId !== undefined ? [event.remoteQueueId] : [])),
  );
  const unrecorded = queuedAtReceiver.filter((queueId) => !recordedBySender.has(queueId));

  // Deliveries of the message cut short, in the sender's log order.
  const cuts: string[] = [];
  let inFlight = false;
  for (const { line, event } of senderEvents) {
    if (QUEUE_ACTIVE.exec(line)?.[1] === senderQueueId) {
      inFlight = true;
      continue;
    }
    if (line.includes(`${senderQueueId}: `) && line.includes(MAY_BE_SENT_TWICE)) {
      cuts.push(`Alice's provider logged "${line.trim()}"`);
      inFlight = false;
      continue;
    }
    if ((event?.kind === "delivery" && event.queueId === senderQueueId) || removedQueueId(line) === senderQueueId) inFlight = false;
    else if (inFlight && line.includes(STOPPED_BY_HARNESS)) {
      cuts.push(`Alice's provider was stopped while ${senderQueueId} was in its active queue, before any result for it was logged`);
      inFlight = false;
    }
  }

  const explained = Math.max(0, Math.min(copies - 1, unrecorded.length, cuts.length));
  const evidence = Array.from(
    { length: explained },
    (_, index) => `copy queued as ${unrecorded[index]} by Bob's provider, never logged as sent by Alice's provider (${senderQueueId}): ${cuts[index]}`,
  );
  return { explained, evidence };
}

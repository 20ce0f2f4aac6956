/**
 * Parses `postqueue -j` output: one JSON object per queued message, e.g.
 * {"queue_name": "deferred", "queue_id": "C5534178003", "arrival_time": 1795819694,
 *  "message_size": 618, "forced_expire": false, "sender": "alice@infomaniak.test",
 *  "recipients": [{"address": "bob@iroco.test", "delay_reason": "TLS is required, …"}]}
 */

export interface QueuedRecipient {
  address: string;
  /** Why delivery is delayed, e.g. "TLS is required, but was not offered by host …". */
  delayReason?: string;
}

export interface QueuedMessage {
  /** "maildrop", "incoming", "active", "deferred" or "hold". */
  queueName: string;
  queueId: string;
  /** Envelope sender; "" for a bounce. */
  sender: string;
  recipients: QueuedRecipient[];
  /** Seconds since the epoch. */
  arrivalTime?: number;
  messageSize?: number;
}

function fail(lineNo: number, line: string, why: string): never {
  const shown = line.length > 200 ? `${line.slice(0, 199)}…` : line;
  throw new Error(`postqueue -j output, line ${lineNo}: ${why}: ${shown}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses `postqueue -j` output. An empty output is an empty queue; blank lines are skipped. Throws on a malformed line. */
export function parsePostqueueJson(output: string): QueuedMessage[] {
  const messages: QueuedMessage[] = [];
  output.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const lineNo = index + 1;
    if (line === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      fail(lineNo, line, `not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!isRecord(value)) fail(lineNo, line, "not a JSON object");
    const { queue_name, queue_id, sender, recipients, arrival_time, message_size } = value;
    if (typeof queue_name !== "string") fail(lineNo, line, "queue_name missing or not a string");
    if (typeof queue_id !== "string") fail(lineNo, line, "queue_id missing or not a string");
    if (typeof sender !== "string") fail(lineNo, line, "sender missing or not a string");
    if (!Array.isArray(recipients)) fail(lineNo, line, "recipients missing or not an array");
    const parsed: QueuedRecipient[] = recipients.map((r: unknown) => {
      if (!isRecord(r) || typeof r.address !== "string") fail(lineNo, line, "a recipient lacks its address");
      if (r.delay_reason !== undefined && typeof r.delay_reason !== "string") {
        fail(lineNo, line, "a recipient's delay_reason is not a string");
      }
      const recipient: QueuedRecipient = { address: r.address };
      if (typeof r.delay_reason === "string") recipient.delayReason = r.delay_reason;
      return recipient;
    });
    const message: QueuedMessage = { queueName: queue_name, queueId: queue_id, sender, recipients: parsed };
    if (typeof arrival_time === "number") message.arrivalTime = arrival_time;
    if (typeof message_size === "number") message.messageSize = message_size;
    messages.push(message);
  });
  return messages;
}

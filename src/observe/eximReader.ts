/**
 * Exim's log in the common vocabulary (logReader.ts). Being written: until
 * then a scenario with an Exim provider fails loudly rather than seeing nothing.
 */
import type { MtaLogReader } from "./logReader.js";

function unreadable(): never {
  throw new Error("Exim's log cannot be read in the common vocabulary yet");
}

export const EXIM_LOG_READER: MtaLogReader = { events: unreadable, leftQueue: unreadable, replyQueueId: unreadable };

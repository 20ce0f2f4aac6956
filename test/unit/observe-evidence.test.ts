import { describe, expect, it } from "vitest";
import { logEvidence, postfixEvents, statement } from "../../src/observe/evidence.js";
import { parseLogLine } from "../../src/observe/postfixLog.js";

const SENT =
  "Nov 27 22:47:19 smtp postfix/smtp[112]: 0CDCF178411: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.11, delays=0.02/0.02/0.05/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 2426C178491)";
const WARNING = "Nov 27 22:47:19 mx postfix/smtpd[90]: warning: TLS library problem: unexpected eof while reading";

describe("logEvidence", () => {
  it("keeps an event the harness already parsed, under its provider's log", () => {
    const event = parseLogLine(SENT)!;
    const item = logEvidence("sender", event);
    expect(item).toEqual({ source: "sender-log", line: SENT, event });
    expect(item.event).toBe(event);
  });

  it("parses a raw line once where it is read, and keeps one the parser does not know without an event", () => {
    expect(logEvidence("receiver", SENT)).toMatchObject({ source: "receiver-log", event: { kind: "delivery", status: "sent", queueId: "0CDCF178411" } });
    expect(logEvidence("receiver", WARNING)).toEqual({ source: "receiver-log", line: WARNING });
  });
});

describe("postfixEvents", () => {
  it("are the events of the log records only, in order", () => {
    const sent = logEvidence("sender", SENT);
    const evidence = [statement("harness", SENT), logEvidence("receiver", WARNING), sent, statement("mailbox", "bob's inbox")];
    expect(postfixEvents(evidence)).toEqual([sent.event]);
  });
});

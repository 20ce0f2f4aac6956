/**
 * Which extra copies the providers' logs explain. The fixtures are the two
 * logs of a soak on Postfix 3.10.13 where Alice's provider was stopped while
 * <lab-515d950f2bd19b29@infomaniak.test> (8E5AA1CED99) was being delivered:
 * Bob's provider queued it as C2DE21CE029 and saw the QUIT, Alice's never
 * logged a result, and after the restart sent it again (324AA1CE203).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { explainExtraCopies, type ExtraCopiesQuestion } from "../../src/observe/interruptedDelivery.js";

const lines = (name: string): string[] => readFileSync(new URL(`../fixtures/logs/${name}`, import.meta.url), "utf8").split("\n").filter(Boolean);
const senderLog = lines("sender-stopped-mid-delivery-3.10.log");
const receiverLog = lines("receiver-stopped-mid-delivery-3.10.log");
const twoCopies: ExtraCopiesQuestion = { messageId: "lab-515d950f2bd19b29@infomaniak.test", senderQueueId: "8E5AA1CED99", copies: 2, senderLog, receiverLog };

describe("an extra copy explained by the logs", () => {
  it("explains the copy Bob's provider queued while Alice's was stopped mid-delivery", () => {
    expect(explainExtraCopies(twoCopies)).toEqual({
      explained: 1,
      evidence: [
        "copy queued as C2DE21CE029 by Bob's provider, never logged as sent by Alice's provider (8E5AA1CED99): " +
          "Alice's provider was stopped while 8E5AA1CED99 was in its active queue, before any result for it was logged",
      ],
    });
  });

  it("takes the Message-ID as the stored copy's header spells it, in angle brackets", () => {
    expect(explainExtraCopies({ ...twoCopies, messageId: "<lab-515d950f2bd19b29@infomaniak.test>" }).explained).toBe(1);
  });

  it("does not explain it without the stop", () => {
    const noStop = senderLog.filter((line) => !line.includes("stopped at the harness's request"));
    expect(explainExtraCopies({ ...twoCopies, senderLog: noStop }).explained).toBe(0);
  });

  it("does not explain it when Alice's provider logged that copy as sent: then the second delivery has no excuse", () => {
    const recorded = [...senderLog.slice(0, 20), senderLog.at(-2)!.replace("324AA1CE203", "C2DE21CE029"), ...senderLog.slice(20)];
    expect(explainExtraCopies({ ...twoCopies, senderLog: recorded }).explained).toBe(0);
  });

  it("explains no more copies than the receiver queued unrecorded", () => {
    expect(explainExtraCopies({ ...twoCopies, copies: 3 }).explained).toBe(1);
    expect(explainExtraCopies({ ...twoCopies, messageId: "lab-other@infomaniak.test" }).explained).toBe(0);
  });

  it("takes Postfix's own warning when Bob's side dropped the connection after the dot", () => {
    const warned = [
      ...senderLog.filter((line) => !line.includes("stopped at the harness's request")),
      "Dec 02 00:09:53 smtp postfix/smtp[303]: 8E5AA1CED99: lost connection with mx.iroco.test[172.20.0.5] while sending end of data -- message may be sent more than once",
    ];
    expect(explainExtraCopies({ ...twoCopies, senderLog: warned }).evidence[0]).toContain("message may be sent more than once");
  });
});

/**
 * The soak's accounting: a message delivered once passes; a second copy, a
 * missing one, a stray one and one that crossed in clear are each counted,
 * so a soak that lost or doubled mail cannot print zeros.
 */
import { describe, expect, it } from "vitest";
import { tallySoak, type SoakFates, type SoakMessage, type StoredCopy } from "../../src/drive/soakTally.js";

const bob = (n: number, extra: Partial<SoakMessage> = {}): SoakMessage => ({ messageId: `<lab-${n}@infomaniak.test>`, home: "bob@iroco.test", queueId: `Q${n}`, ...extra });
const copy = (mailbox: string, transport: StoredCopy["transport"] = "tls"): StoredCopy => ({ mailbox, transport });
const nothingQueued: SoakFates = { bounced: new Set(), stillQueued: () => undefined, extraCopies: () => ({ explained: 0, evidence: [] }) };

describe("the soak's tally", () => {
  it("counts a message stored once over TLS as delivered, and nothing else", () => {
    const tally = tallySoak([bob(1)], new Map([["<lab-1@infomaniak.test>", [copy("bob@iroco.test")]]]), nothingQueued);
    expect(tally).toEqual({ delivered: 1, queued: 0, bounced: 0, refused: 0, duplicated: 0, duplicatedByInterruptedDelivery: 0, lost: 0, leaked: 0, notes: [] });
  });

  it("counts a second copy as duplicated, a missing message as lost, a stray copy as lost, a copy in clear as leaked", () => {
    const copies = new Map<string, StoredCopy[]>([
      ["<lab-1@infomaniak.test>", [copy("bob@iroco.test"), copy("bob@iroco.test")]],
      ["<lab-3@infomaniak.test>", [copy("bob@iroco.test"), copy("carol@lutins.test")]],
      ["<lab-4@infomaniak.test>", [copy("bob@iroco.test", "plaintext")]],
    ]);
    const tally = tallySoak([bob(1), bob(2), bob(3), bob(4)], copies, nothingQueued);
    expect({ ...tally, notes: tally.notes.length }).toEqual({ delivered: 3, queued: 0, bounced: 0, refused: 0, duplicated: 1, duplicatedByInterruptedDelivery: 0, lost: 2, leaked: 1, notes: 3 });
    expect(tally.notes).toEqual([
      "<lab-1@infomaniak.test> DUPLICATED: 2 copies in bob@iroco.test\n    1 copy no log line explains",
      "<lab-2@infomaniak.test> (Q2) LOST: in no mailbox and no queue",
      "<lab-3@infomaniak.test> ASTRAY: in carol@lutins.test, not in bob@iroco.test",
    ]);
  });

  it("accounts for a message still queued, returned to Alice, or refused at submission", () => {
    const fates: SoakFates = {
      ...nothingQueued,
      bounced: new Set(["Q2"]),
      stillQueued: (queueId) => (queueId === "Q1" ? "in Alice's provider's queue: TLS is required, but was not offered" : undefined),
    };
    const tally = tallySoak([bob(1), bob(2), bob(3, { refused: "451 4.3.0 try again" })], new Map(), fates);
    expect({ ...tally, notes: [] }).toEqual({ delivered: 0, queued: 1, bounced: 1, refused: 1, duplicated: 0, duplicatedByInterruptedDelivery: 0, lost: 0, leaked: 0, notes: [] });
    // A message Alice's client was told was refused must not arrive anyway.
    expect(tallySoak([bob(3, { refused: "451 4.3.0 try again" })], new Map([["<lab-3@infomaniak.test>", [copy("bob@iroco.test")]]]), fates).duplicated).toBe(1);
  });

  it("still counts a copy the logs explain as duplicated, and tells it apart with its evidence", () => {
    const copies = new Map([["<lab-1@infomaniak.test>", [copy("bob@iroco.test"), copy("bob@iroco.test"), copy("bob@iroco.test")]]]);
    const fates: SoakFates = { ...nothingQueued, extraCopies: (_id, queueId) => ({ explained: 1, evidence: [`${queueId} was cut by a stop`] }) };
    const tally = tallySoak([bob(1)], copies, fates);
    expect([tally.delivered, tally.duplicated, tally.duplicatedByInterruptedDelivery]).toEqual([1, 2, 1]);
    expect(tally.notes).toEqual(["<lab-1@infomaniak.test> DUPLICATED: 3 copies in bob@iroco.test\n    Q1 was cut by a stop\n    1 copy no log line explains"]);
    const once = tallySoak([bob(1)], new Map([["<lab-1@infomaniak.test>", [copy("bob@iroco.test"), copy("bob@iroco.test")]]]), fates);
    expect(once.notes).toEqual(["<lab-1@infomaniak.test> duplicated by an interrupted delivery: 2 copies in bob@iroco.test\n    Q1 was cut by a stop"]);
  });
});

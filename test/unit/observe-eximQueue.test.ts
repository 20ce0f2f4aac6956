import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseEximQueue } from "../../src/observe/eximQueue.js";

/** `exim -bp` in the real image: a frozen message with one recipient delivered and one deferred, and a message queued with -odq. */
const captured = readFileSync(new URL("../fixtures/logs/exim-bp-4.98.txt", import.meta.url), "utf8");

describe("parseEximQueue", () => {
  it("reads each message's id, sender, recipients still to deliver, delivered ones and the frozen mark (captured output)", () => {
    expect(parseEximQueue(captured)).toEqual([
      {
        age: "0m",
        size: "321",
        id: "1xYYLd-0000000002F-2rB2",
        sender: "alice@infomaniak.test",
        frozen: true,
        recipients: ["bob@iroco.test"],
        delivered: ["alice@infomaniak.test"],
      },
      {
        age: "0m",
        size: "319",
        id: "1xYYLd-0000000002I-4BS0",
        sender: "alice@infomaniak.test",
        frozen: false,
        recipients: ["carol@lutins.test", "dan@ecole.test"],
        delivered: [],
      },
    ]);
  });

  it("an empty queue prints nothing", () => {
    expect(parseEximQueue("")).toEqual([]);
  });

  it("refuses a line it cannot place instead of dropping a message", () => {
    expect(() => parseEximQueue("exim: permission denied\n")).toThrow(/line 1/);
  });
});

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { LogBook, LogEndedError } from "../../src/world/logBook.js";

describe("a container's log book", () => {
  it("detach: the stream is let go, a waiter fails at once, and what was read stays readable", async () => {
    const stream = new PassThrough();
    const book = new LogBook("sender");
    book.attach(stream);
    stream.write("postfix/master[1]: daemon started\n");
    await new Promise((resolve) => setImmediate(resolve));
    expect(book.since(0)).toEqual(["postfix/master[1]: daemon started"]);

    const waiting = book.waitFor((line) => line.includes("status=sent"), { from: book.cursor, timeoutMs: 60_000, what: "the delivery" });
    book.detach();
    await expect(waiting).rejects.toBeInstanceOf(LogEndedError);
    expect(stream.destroyed).toBe(true);
    await expect(book.waitFor((line) => line.includes("status=sent"), { from: 0, timeoutMs: 60_000, what: "the delivery" })).rejects.toThrow(/the sender log ended/);
    expect(book.since(0)).toEqual(["postfix/master[1]: daemon started"]);
  });
});

import { describe, expect, it } from "vitest";
import { searchedUids } from "../../src/drive/mailbox.js";

describe("searchedUids: what imapflow's search answered", () => {
  const what = "Message-ID: <lab-5f2c9a1b0e3d@infomaniak.test> in bob@iroco.test's INBOX";

  it("keeps the UIDs found, and an empty list as no copy", () => {
    expect(searchedUids([3, 7], what)).toEqual([3, 7]);
    expect(searchedUids([], what)).toEqual([]);
  });

  it("makes a search the server refused an error, not zero copies", () => {
    expect(() => searchedUids(false, what)).toThrow(`the IMAP server refused the search for ${what}`);
  });

  it("makes a search with no mailbox open an error, not zero copies", () => {
    expect(() => searchedUids(undefined, what)).toThrow(`the IMAP search for ${what} ran with no mailbox open`);
  });
});

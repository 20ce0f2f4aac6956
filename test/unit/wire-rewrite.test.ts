import { describe, expect, it } from "vitest";
import { isStarttlsCommand, isStarttlsOfferLine, stripStarttlsFromEhloReply } from "../../src/wire/smtpRewrite.js";

// Postfix 3.7's EHLO reply with smtpd_tls_security_level = may.
const POSTFIX_EHLO = [
  "250-mx.iroco.test",
  "250-PIPELINING",
  "250-SIZE 10240000",
  "250-VRFY",
  "250-ETRN",
  "250-STARTTLS",
  "250-ENHANCEDSTATUSCODES",
  "250-8BITMIME",
  "250-DSN",
  "250-SMTPUTF8",
  "250 CHUNKING",
];

describe("stripStarttlsFromEhloReply", () => {
  it("removes the STARTTLS line from the middle of a reply", () => {
    const out = stripStarttlsFromEhloReply(POSTFIX_EHLO);
    expect(out).toEqual(POSTFIX_EHLO.filter((l) => l !== "250-STARTTLS"));
    expect(POSTFIX_EHLO).toContain("250-STARTTLS"); // the input is left alone
  });

  it("keeps the reply well-formed when STARTTLS was the last line", () => {
    expect(stripStarttlsFromEhloReply(["250-mx.iroco.test", "250-PIPELINING", "250 STARTTLS"])).toEqual([
      "250-mx.iroco.test",
      "250 PIPELINING",
    ]);
    expect(stripStarttlsFromEhloReply(["250-mx.iroco.test", "250 STARTTLS"])).toEqual(["250 mx.iroco.test"]);
  });

  it("keeps each line's ending and matches STARTTLS in any case", () => {
    expect(stripStarttlsFromEhloReply(["250-mx.iroco.test\r\n", "250-8BITMIME\r\n", "250 starttls\r\n"])).toEqual([
      "250-mx.iroco.test\r\n",
      "250 8BITMIME\r\n",
    ]);
  });

  it("leaves a reply without STARTTLS, and lines that only mention it, unchanged", () => {
    const reply = ["250-mx.iroco.test", "250-X-STARTTLS-LIKE", "250 8BITMIME"];
    expect(stripStarttlsFromEhloReply(reply)).toEqual(reply);
    expect(stripStarttlsFromEhloReply(["250 mx.iroco.test"])).toEqual(["250 mx.iroco.test"]);
  });
});

describe("isStarttlsCommand / isStarttlsOfferLine", () => {
  it("recognises the command with or without its line ending, in any case", () => {
    for (const line of ["STARTTLS", "starttls", "StartTLS\r\n", "STARTTLS \n"]) expect(isStarttlsCommand(line)).toBe(true);
    for (const line of ["STARTTLSX", "XSTARTTLS", "MAIL FROM:<STARTTLS@a.test>", "", "250-STARTTLS"])
      expect(isStarttlsCommand(line)).toBe(false);
  });

  it("recognises the offer in a reply line", () => {
    expect(isStarttlsOfferLine("250-STARTTLS")).toBe(true);
    expect(isStarttlsOfferLine("250 STARTTLS\r\n")).toBe(true);
    expect(isStarttlsOfferLine("STARTTLS")).toBe(false);
    expect(isStarttlsOfferLine("250-PIPELINING")).toBe(false);
  });
});

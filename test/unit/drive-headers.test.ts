/**
 * Reading header fields back from real messages: a non-delivery report
 * Postfix 3.10.13 wrote for a message carrying "TLS-Required: No"
 * (test/fixtures/mail/ndr-tls-required-3.10.eml, fetched with doveadm from
 * Alice's inbox in the world of scenarios/tls-required.yaml).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fieldsNamed, headerFields, headerValues, returnedMessage } from "../../src/drive/headers.js";

const report = readFileSync(new URL("../fixtures/mail/ndr-tls-required-3.10.eml", import.meta.url), "utf8");

describe("header fields of a raw message", () => {
  it("unfolds folded fields and keeps each name as the message spells it", () => {
    const fields = headerFields(report);
    expect(fields.slice(0, 2)).toEqual([
      { name: "Return-Path", value: "<>" },
      { name: "Delivered-To", value: "alice@infomaniak.test" },
    ]);
    expect(headerValues(report, "received")).toEqual([
      "from smtp.infomaniak.test by a4d34840f94f with LMTP id EXZ9FN0ND2uzAAAAO4SSVw (envelope-from <>) for <alice@infomaniak.test>; Tue, 01 Dec 2026 18:11:41 +0000",
      "by smtp.infomaniak.test (Postfix) id 429721C6666; Tue, 01 Dec 2026 18:11:41 +0000 (UTC)",
    ]);
  });

  it("reads only the top-level header block: the report's own TLS-Required, not the returned message's", () => {
    expect(fieldsNamed(report, ["tls-required"])).toEqual([{ name: "TLS-Required", value: "no" }]);
  });
});

describe("the message a non-delivery report returns", () => {
  it("is the message/rfc822 part, whose headers are Alice's as stored by her provider", async () => {
    const returned = await returnedMessage(report);
    expect(returned).toBeDefined();
    expect(fieldsNamed(returned!, ["TLS-Required", "Subject"])).toEqual([
      { name: "Tls-Required", value: "No" },
      { name: "Subject", value: "starttls-lab: TLS-Required: No travels back with the bounce" },
    ]);
  });

  it("is absent when the report returns none", async () => {
    const notification = report.replace(/--[^\n]+\nContent-Description: Undelivered Message\n[\s\S]*$/, "");
    expect(notification).not.toContain("message/rfc822");
    expect(await returnedMessage(notification)).toBeUndefined();
  });
});

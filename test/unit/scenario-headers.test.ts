/**
 * message.headers and expect.headers as a scenario writes them: header
 * names per RFC 5322, one-line values, never the harness's own fields, and
 * each mistake placed at its file, line and field.
 */
import { describe, expect, it } from "vitest";
import { markMessage } from "../../src/drive/message.js";
import { scenarioTextLoader } from "./helpers/scenarioText.js";

const { errorOf, only } = scenarioTextLoader("case.yaml");
const plaintext = "expect: { outcome: delivered, transport: plaintext }\n";

describe("message.headers", () => {
  it("keeps the fields as written, and a message without them has none", () => {
    const scenario = only(`name: x\nmessage:\n  headers: { TLS-Required: "No", X-Mailer: lab }\n${plaintext}`);
    expect(scenario.message.headers).toEqual({ "TLS-Required": "No", "X-Mailer": "lab" });
    expect(only(`name: x\n${plaintext}`).message).not.toHaveProperty("headers");
  });

  it("refuses a name RFC 5322 does not allow, at the name", () => {
    expect(errorOf(`name: x\nmessage:\n  headers: { "TLS Required": "No" }\n${plaintext}`)).toBe(
      "case.yaml:3:14: message.headers.TLS Required: not a header field name (RFC 5322: printable US-ASCII, no space or colon)",
    );
  });

  it("refuses a value over two lines, and one that would have to be encoded", () => {
    expect(errorOf(`name: x\nmessage:\n  headers:\n    TLS-Required: "No\\r\\nBcc: eve@lutins.test"\n${plaintext}`)).toBe(
      "case.yaml:4:19: message.headers.TLS-Required: a header value must fit on one line (no CR or LF)",
    );
    expect(errorOf(`name: x\nmessage:\n  headers: { X-Note: "déjà" }\n${plaintext}`)).toBe(
      "case.yaml:3:22: message.headers.X-Note: a header value is printable US-ASCII here (the harness does not encode it)",
    );
  });

  it("wants text: a number is refused rather than guessed", () => {
    expect(errorOf(`name: x\nmessage:\n  headers: { X-Count: 3 }\n${plaintext}`)).toBe("case.yaml:3:23: message.headers.X-Count: expected a text, got number");
  });

  it("never lets a scenario write the harness's own fields, in any case", () => {
    expect(errorOf(`name: x\nmessage:\n  headers: { message-id: "<x@y>" }\n${plaintext}`)).toBe(
      "case.yaml:3:26: message.headers.message-id: cannot be set by a scenario: the harness writes it: it carries the marker that finds this message in logs and mailboxes",
    );
    expect(errorOf(`name: x\nmessage:\n  headers: { X-STARTTLS-LAB-SCENARIO: other }\n${plaintext}`)).toMatch(
      /message\.headers\.X-STARTTLS-LAB-SCENARIO: cannot be set by a scenario: the harness writes it/,
    );
    expect(errorOf(`name: x\nmessage:\n  headers: { Received: "from evil" }\n${plaintext}`)).toMatch(
      /message\.headers\.Received: cannot be set by a scenario: the harness reads the Received headers as the witness of each hop/,
    );
    expect(errorOf(`name: x\nmessage:\n  headers: { To: carol@lutins.test }\n${plaintext}`)).toMatch(/message\.headers\.To: cannot be set by a scenario: write the recipient as message\.to/);
  });

  it("refuses the same field written twice in two spellings", () => {
    expect(errorOf(`name: x\nmessage:\n  headers:\n    TLS-Required: "No"\n    tls-required: "Yes"\n${plaintext}`)).toBe(
      "case.yaml:5:19: message.headers.tls-required: the same header as TLS-Required (header names are case-insensitive)",
    );
  });
});

describe("expect.headers", () => {
  it("reads each value as a substring or a /regex/", () => {
    const scenario = only(`name: x\nexpect: { outcome: delivered, transport: plaintext, headers: { TLS-Required: "No", X-Note: "/^n/i" } }\n`);
    expect(scenario.expect.headers).toEqual({
      "TLS-Required": { kind: "substring", text: "No" },
      "X-Note": { kind: "regex", source: "^n", flags: "i" },
    });
  });

  it("is for a stored copy: a delivered message, or the one a bounce returns; never deferred or rejected", () => {
    expect(only(`name: x\nexpect: { outcome: bounced, headers: { TLS-Required: "No" } }\n`).expect.headers).toEqual({ "TLS-Required": { kind: "substring", text: "No" } });
    expect(errorOf(`name: x\nexpect: { outcome: deferred, headers: { TLS-Required: "No" } }\n`)).toBe(
      "case.yaml:2:30: expect.headers: no copy of the message is stored to read headers from (outcome is deferred); headers is for delivered or bounced",
    );
  });

  it("refuses the same name twice, ignoring case", () => {
    expect(errorOf(`name: x\nexpect: { outcome: delivered, transport: tls, headers: { TLS-Required: "No", TLS-REQUIRED: "No" } }\n`)).toMatch(
      /expect\.headers\.TLS-REQUIRED: the same header as TLS-Required/,
    );
  });
});

describe("the message Alice submits", () => {
  it("carries the scenario's fields beside the harness's marker, and reads back TLS-Required, its own fields and the expected ones, once each", () => {
    const scenario = only(`name: x\nmessage: { headers: { tls-required: "No", X-Note: a } }\nexpect: { outcome: delivered, transport: plaintext, headers: { TLS-REQUIRED: "No", X-Other: b } }\n`);
    const message = markMessage(scenario.message, scenario.name, Object.keys(scenario.expect.headers ?? {}));
    expect(message.headers).toEqual({ "tls-required": "No", "X-Note": "a", "X-Starttls-Lab-Scenario": "x" });
    expect(message.readBack).toEqual(["TLS-Required", "X-Note", "X-Other"]);
  });
});

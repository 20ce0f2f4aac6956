import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { scenarioTextLoader } from "./helpers/scenarioText.js";
import { jsonSchemaFile, writeJsonSchema } from "../../scripts/write-json-schema.js";
import { scenarioJsonSchema, scenarioJsonSchemaText } from "../../src/scenario/jsonSchema.js";

const { load, errorOf, only } = scenarioTextLoader("case.yaml");
const delivered = "expect: { outcome: delivered, transport: tls }\n";

describe("a scenario document", () => {
  it("needs only a name and an expectation; everything else has a default", () => {
    expect(only(`name: Defaults\n${delivered}`)).toEqual({
      name: "Defaults",
      source: { file: "case.yaml", line: 1 },
      sender: { postconf: {}, certificate: "valid", certificateKey: "rsa" },
      receiver: { postconf: {}, certificate: "valid", certificateKey: "rsa" },
      wire: "pass",
      dns: { zone: "signed", tlsa: "auto", mtaSts: { mode: "none" }, tlsrpt: false },
      attempts: 1,
      message: {
        from: "alice@infomaniak.test",
        to: "bob@iroco.test",
        subject: "starttls-lab: Defaults",
        via: { provider: "sender", port: 465, auth: true },
      },
      expect: { outcome: "delivered", transport: "tls" },
    });
  });

  it("keeps the story and the message as written", () => {
    const scenario = only(
      `name: Written\nstory: Why.\nmessage: { from: carol@infomaniak.test, to: dave@iroco.test, subject: Hi, via: { provider: receiver, port: 25 } }\n${delivered}`,
    );
    expect(scenario.story).toBe("Why.");
    expect(scenario.message).toEqual({
      from: "carol@infomaniak.test",
      to: "dave@iroco.test",
      subject: "Hi",
      via: { provider: "receiver", port: 25, auth: false },
    });
  });

  it("requires a non-empty name", () => {
    expect(errorOf(delivered)).toBe("case.yaml:1:1: name: required (a text)");
    expect(errorOf(`name: "  "\n${delivered}`)).toBe("case.yaml:1:7: name: must not be empty");
  });

  it("refuses unknown keys and says which keys are allowed there", () => {
    expect(errorOf(`name: x\nsender: { certificat: valid }\n${delivered}`)).toBe(
      "case.yaml:2:11: sender.certificat: unknown key (allowed here: mta, exim, opensmtpd, level, postfix, postconf, certificate, certificateKey, mainCf, masterCf, files)",
    );
  });

  it("must be a mapping", () => {
    expect(errorOf("- name: x\n")).toMatch(/^case\.yaml:1:1: a scenario document must be a mapping/);
  });

  it("has either expect or matrix, never both, never neither", () => {
    expect(errorOf("name: x\n")).toBe("case.yaml:1:1: expect: required (or a matrix of expectations)");
    const both = `name: x\n${delivered}matrix:\n  axes: { a: { set: wire, values: [pass] } }\n  cells: [ { when: { a: pass }, ${delivered.slice(0, -1)} } ]\n`;
    expect(errorOf(both)).toBe("case.yaml:3:1: matrix: a scenario has either expect or matrix, not both");
  });
});

describe("postconf", () => {
  it("turns numbers into text and booleans into yes/no", () => {
    const scenario = only(`name: x\nsender:\n  postconf: { smtp_tls_loglevel: 1, smtp_tls_note_starttls_offer: true, smtp_enforce_tls: false }\n${delivered}`);
    expect(scenario.sender.postconf).toEqual({ smtp_tls_loglevel: "1", smtp_tls_note_starttls_offer: "yes", smtp_enforce_tls: "no" });
  });

  it("accepts only Postfix parameter names", () => {
    expect(errorOf(`name: x\nreceiver:\n  postconf: { Smtpd-TLS: may }\n${delivered}`)).toBe(
      "case.yaml:3:15: receiver.postconf.Smtpd-TLS: not a Postfix parameter name (lower-case letters, digits and _)",
    );
  });

  it("refuses values that are lists or span several lines", () => {
    expect(errorOf(`name: x\nsender:\n  postconf: { smtp_tls_mandatory_ciphers: [high] }\n${delivered}`)).toBe(
      "case.yaml:3:15: sender.postconf.smtp_tls_mandatory_ciphers: expected a text, a number or a boolean (true → yes, false → no)",
    );
    expect(errorOf(`name: x\nsender:\n  postconf:\n    smtp_tls_policy_maps: "a\\nb"\n${delivered}`)).toBe(
      "case.yaml:4:27: sender.postconf.smtp_tls_policy_maps: a main.cf value must fit on one line",
    );
  });
});

describe("message", () => {
  it("wants email addresses", () => {
    expect(errorOf(`name: x\nmessage: { to: bob }\n${delivered}`)).toBe(
      "case.yaml:2:16: message.to: expected an email address such as bob@iroco.test",
    );
  });

  it("authenticates by default on 465 and not on 25", () => {
    expect(only(`name: x\n${delivered}`).message.via.auth).toBe(true);
    expect(only(`name: x\nmessage: { via: { port: 25 } }\n${delivered}`).message.via.auth).toBe(false);
  });

  it("never authenticates on port 25", () => {
    expect(errorOf(`name: x\nmessage:\n  via: { port: 25, auth: true }\n${delivered}`)).toBe(
      "case.yaml:3:26: message.via.auth: no AUTH on port 25 in this world (AUTH needs submissions on 465); use auth: false or port: 465",
    );
  });

  it("submits on 465 or 25 only", () => {
    expect(errorOf(`name: x\nmessage: { via: { port: 587 } }\n${delivered}`)).toBe(
      "case.yaml:2:25: message.via.port: Invalid option: expected one of 465|25",
    );
  });
});

describe("the wire and retries", () => {
  it("knows the wire's modes, and says which when one is wrong", () => {
    for (const mode of ["pass", "strip-starttls", "fail-handshake", "mitm", "inject"]) {
      expect(only(`name: x\nwire: ${mode}\n${delivered}`).wire).toBe(mode);
    }
    expect(errorOf(`name: x\nwire: sniff\n${delivered}`)).toBe(
      'case.yaml:2:7: wire: Invalid option: expected one of "pass"|"strip-starttls"|"fail-handshake"|"mitm"|"inject"',
    );
  });

  it("follows 1 to 5 delivery attempts", () => {
    expect(only(`name: x\nattempts: 2\n${delivered}`).attempts).toBe(2);
    expect(errorOf(`name: x\nattempts: 0\n${delivered}`)).toMatch(/^case\.yaml:2:11: attempts: at least 1/);
    expect(errorOf(`name: x\nattempts: 9\n${delivered}`)).toMatch(/^case\.yaml:2:11: attempts: at most 5/);
    expect(errorOf(`name: x\nattempts: 1.5\n${delivered}`)).toMatch(/^case\.yaml:2:11: attempts: expected a whole number, got number/);
  });

  it("expects what the wire saw, for any outcome", () => {
    expect(only("name: x\nexpect: { outcome: delivered, transport: tls, wire: { plaintextBody: false, attackerReadBody: true } }\n").expect).toEqual({
      outcome: "delivered",
      transport: "tls",
      wire: { plaintextBody: false, attackerReadBody: true },
    });
    expect(only("name: x\nexpect: { outcome: deferred, wire: { injectionDiscarded: true } }\n").expect).toEqual({
      outcome: "deferred",
      wire: { injectionDiscarded: true },
    });
    expect(errorOf("name: x\nexpect: { outcome: deferred, wire: { bodyLeaked: true } }\n")).toBe(
      "case.yaml:2:38: expect.wire.bodyLeaked: unknown key (allowed here: plaintextBody, attackerReadBody, injectionDiscarded)",
    );
    expect(errorOf("name: x\nexpect: { outcome: deferred, wire: { plaintextBody: maybe } }\n")).toMatch(
      /^case\.yaml:2:\d+: expect\.wire\.plaintextBody: expected a boolean, got string/,
    );
  });
});

describe("dns", () => {
  it("publishes signed zones with matching TLSA records and no MTA-STS or TLSRPT policy unless told otherwise", () => {
    expect(only(`name: x\n${delivered}`).dns).toEqual({ zone: "signed", tlsa: "auto", mtaSts: { mode: "none" }, tlsrpt: false });
    expect(only(`name: x\ndns: { zone: bogus, tlsa: wrong, mtaSts: { mode: enforce, mx: [mx.elsewhere.test, "*.iroco.test"] } }\n${delivered}`).dns).toEqual({
      zone: "bogus",
      tlsa: "wrong",
      mtaSts: { mode: "enforce", mx: ["mx.elsewhere.test", "*.iroco.test"] },
      tlsrpt: false,
    });
  });

  it("says which values each key takes", () => {
    expect(errorOf(`name: x\ndns: { zone: half-signed }\n${delivered}`)).toBe(
      'case.yaml:2:14: dns.zone: Invalid option: expected one of "signed"|"unsigned"|"bogus"',
    );
    expect(errorOf(`name: x\ndns: { tlsa: 3 1 1 }\n${delivered}`)).toBe(
      'case.yaml:2:14: dns.tlsa: Invalid option: expected one of "auto"|"wrong"|"ca"|"none"',
    );
    expect(errorOf(`name: x\ndns: { mtaSts: { mode: strict } }\n${delivered}`)).toBe(
      'case.yaml:2:24: dns.mtaSts.mode: Invalid option: expected one of "enforce"|"testing"|"none"',
    );
    expect(errorOf(`name: x\ndns: { dane: yes }\n${delivered}`)).toBe("case.yaml:2:8: dns.dane: unknown key (allowed here: zone, tlsa, mtaSts, tlsrpt)");
  });

  it("can be a matrix axis", () => {
    const scenarios = load(
      "name: x\nmatrix:\n  axes:\n    zone: { set: dns.zone, values: [signed, unsigned] }\n  cells:\n    - when: { zone: [signed, unsigned] }\n      expect: { outcome: delivered, transport: tls }\n",
    );
    expect(scenarios.map((scenario) => scenario.dns.zone)).toEqual(["signed", "unsigned"]);
  });
});

describe("expect", () => {
  it("knows four outcomes", () => {
    expect(errorOf("name: x\nexpect: { outcome: lost }\n")).toBe(
      'case.yaml:2:20: expect.outcome: Invalid option: expected one of "delivered"|"deferred"|"bounced"|"rejected"',
    );
  });

  it("pins the TLS session of a delivery", () => {
    const scenario = only("name: x\nexpect:\n  outcome: delivered\n  transport: tls\n  tls: { version: TLSv1.2, trust: verified, peerName: mx.iroco.test, cipher: ECDHE }\n");
    expect(scenario.expect).toEqual({
      outcome: "delivered",
      transport: "tls",
      tls: { version: "TLSv1.2", trust: "verified", peerName: "mx.iroco.test", cipher: { kind: "substring", text: "ECDHE" } },
    });
  });

  it("knows the TLS versions Postfix logs", () => {
    expect(errorOf("name: x\nexpect: { outcome: delivered, transport: tls, tls: { version: '1.3' } }\n")).toBe(
      'case.yaml:2:63: expect.tls.version: Invalid option: expected one of "TLSv1"|"TLSv1.1"|"TLSv1.2"|"TLSv1.3"',
    );
  });

  it("reads a reason as a substring, or as a regex when written /…/flags", () => {
    expect(only("name: x\nexpect: { outcome: bounced, reason: 5.7.0 Must issue }\n").expect).toEqual({
      outcome: "bounced",
      reason: { kind: "substring", text: "5.7.0 Must issue" },
    });
    expect(only("name: x\nexpect: { outcome: deferred, reason: '/not verified$/i' }\n").expect).toEqual({
      outcome: "deferred",
      reason: { kind: "regex", source: "not verified$", flags: "i" },
    });
  });

  it("refuses a regex that does not compile, and the stateful flags g and y", () => {
    expect(errorOf("name: x\nexpect: { outcome: deferred, reason: '/[/' }\n")).toMatch(
      /^case\.yaml:2:38: expect\.reason: invalid regular expression \/\[\/: /,
    );
    expect(errorOf("name: x\nexpect: { outcome: deferred, reason: '/TLS/g' }\n")).toBe(
      'case.yaml:2:38: expect.reason: invalid regular expression /TLS/g: flags may only be d, i, m, s, u, v (not "g")',
    );
  });

  it("requires a transport for a delivery", () => {
    expect(errorOf("name: x\nexpect: { outcome: delivered }\n")).toBe(
      "case.yaml:2:1: expect.transport: required when the outcome is delivered: tls or plaintext",
    );
  });

  it("refuses contradictions", () => {
    expect(errorOf("name: x\nexpect: { outcome: delivered, transport: plaintext, tls: { trust: verified } }\n")).toBe(
      "case.yaml:2:53: expect.tls: contradicts transport: plaintext (no TLS session to check)",
    );
    expect(errorOf("name: x\nexpect: { outcome: delivered, transport: tls, reason: x }\n")).toBe(
      "case.yaml:2:55: expect.reason: a delivered message has no reason; reason is for deferred, bounced or rejected",
    );
    expect(errorOf("name: x\nexpect: { outcome: bounced, transport: tls, tls: {} }\n")).toBe(
      [
        "case.yaml:2:40: expect.transport: only a delivered message has one (outcome is bounced)",
        "case.yaml:2:45: expect.tls: only a delivered message has one (outcome is bounced)",
      ].join("\n"),
    );
  });
});

describe("the JSON Schema", () => {
  it("describes what users write, with help texts for editors", () => {
    const schema = scenarioJsonSchema() as {
      title: string;
      required: string[];
      properties: Record<string, { description?: string }>;
      additionalProperties: boolean;
    };
    expect(schema.title).toBe("starttls-lab scenario");
    expect(schema.required).toEqual(["name"]);
    expect(schema.additionalProperties).toBe(false);
    for (const field of ["name", "sender", "receiver", "wire", "message"]) {
      expect(schema.properties[field]?.description, field).toBeTruthy();
    }
  });

  it("is committed up to date in schema/scenario.schema.json", async () => {
    if (process.env.WRITE_SCHEMA === "1") await writeJsonSchema();
    const committed = await readFile(jsonSchemaFile, "utf8").catch(() => "");
    expect(committed, "schema/scenario.schema.json is stale: run WRITE_SCHEMA=1 npx vitest run test/unit/scenario-schema.test.ts").toBe(
      scenarioJsonSchemaText(),
    );
  });
});

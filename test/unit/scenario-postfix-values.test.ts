/**
 * Values and names Postfix would reject or ignore are refused when the
 * scenario is loaded, wherever they are written: a scenario's postconf, a
 * matrix (its axes and the cells they expand into), an admin's own main.cf
 * (scenario-own-config.test.ts). Each problem names the file, line, column
 * and field.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadScenarioText, ScenarioError } from "../../src/scenario/load.js";
import { editDistance, recordedParameters, unknownParameterProblem } from "../../src/scenario/postfixNames.js";
import { scenarioJsonSchema } from "../../src/scenario/jsonSchema.js";
import { postconfValueProblem, SECURITY_LEVEL_PARAMETERS } from "../../src/scenario/postfixValues.js";

function problemsIn(text: string, file = "values.yaml"): string[] {
  try {
    loadScenarioText(text, file);
  } catch (error) {
    if (error instanceof ScenarioError) return error.message.split("\n");
    throw error;
  }
  return [];
}

const DELIVERED = "expect: { outcome: delivered, transport: tls }\n";
const UNKNOWN = `unknown Postfix parameter (not in postconf -d of Postfix ${recordedParameters().releases.join(", ").replace(/, ([^,]*)$/, " or $1")}; Postfix would ignore it as "unused")`;
const SOMETIMES = '"sometimes" is not a TLS security level of the Postfix SMTP client; one of none, may, encrypt, dane, dane-only, fingerprint, verify, secure';
const TLS14 = 'not a Postfix TLS protocol list: "!TLSv1.4": TLSv1.4 is not a protocol name Postfix knows (SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; bounds as >=TLSv1.2, <=TLSv1.3)';

describe("a scenario's postconf", () => {
  it("refuses a security level Postfix does not have, at its value", () => {
    expect(problemsIn(`name: n\nsender:\n  postconf:\n    smtp_tls_security_level: sometimes\n${DELIVERED}`)).toEqual([
      `values.yaml:4:30: sender.postconf.smtp_tls_security_level: ${SOMETIMES}`,
    ]);
  });

  it("refuses a client level on a server: smtpd would only warn and use encrypt", () => {
    expect(problemsIn(`name: n\nreceiver: { postconf: { smtpd_tls_security_level: verify } }\n${DELIVERED}`)).toEqual([
      'values.yaml:2:51: receiver.postconf.smtpd_tls_security_level: "verify" is not a TLS security level of a Postfix server (verify is a client level); one of none, may, encrypt',
    ]);
  });

  it("refuses a protocol list naming a protocol Postfix does not know", () => {
    expect(problemsIn(`name: n\nsender: { postconf: { smtp_tls_protocols: "!SSLv2, !TLSv1.4" } }\n${DELIVERED}`)).toEqual([
      `values.yaml:2:43: sender.postconf.smtp_tls_protocols: ${TLS14}`,
    ]);
  });

  it("refuses a typo'd parameter name, at its key, with the name meant", () => {
    expect(problemsIn(`name: n\nsender:\n  postconf: { smtp_tls_securty_level: encrypt }\n${DELIVERED}`)).toEqual([
      `values.yaml:3:15: sender.postconf.smtp_tls_securty_level: ${UNKNOWN}; did you mean smtp_tls_security_level?`,
    ]);
  });

  it("accepts a name of one's own that another value uses as $name, and nothing else invented", () => {
    const text = (own: string) => `name: n\nreceiver:\n  postconf:\n    ${own}: permit_mynetworks\n    smtpd_client_restrictions: $lab_checks\n${DELIVERED}`;
    expect(problemsIn(text("lab_checks"))).toEqual([]);
    expect(problemsIn(text("lab_check"))).toEqual([
      `values.yaml:4:5: receiver.postconf.lab_check: ${UNKNOWN}; a name of your own is valid only where a value uses it as $lab_check`,
    ]);
  });

  it("points a service-prefixed TLS setting to master.cf, where Postfix reads it", () => {
    expect(problemsIn(`name: n\nsender: { postconf: { relay_tls_security_level: encrypt } }\n${DELIVERED}`)).toEqual([
      `values.yaml:2:23: sender.postconf.relay_tls_security_level: ${UNKNOWN}; a master.cf service takes its own value as -o smtp_tls_security_level=… in masterCf`,
    ]);
  });
});

describe("a matrix", () => {
  const matrix = (set: string, values: string) =>
    [
      "name: m",
      "matrix:",
      "  axes:",
      `    level: { set: ${set}, values: ${values} }`,
      "  cells:",
      "    - when: { level: [may] }",
      "      expect: { outcome: delivered, transport: tls }",
      "    - when: { level: [sometimes] }",
      "      expect: { outcome: deferred }",
      "",
    ].join("\n");

  it("refuses a level an axis gives, at the cell that expects something of it", () => {
    expect(problemsIn(matrix("sender.postconf.smtp_tls_security_level", "[may, sometimes]"))).toEqual([
      `values.yaml:8:7: sender.postconf.smtp_tls_security_level: ${SOMETIMES} (value sometimes of matrix axis level)`,
    ]);
  });

  it("refuses a protocol list an axis gives, at its cell", () => {
    const text = matrix("sender.postconf.smtp_tls_mandatory_protocols", '[">=TLSv1.2", "!TLSv1.4"]')
      .replace("[may]", '[">=TLSv1.2"]')
      .replace("[sometimes]", '["!TLSv1.4"]');
    expect(problemsIn(text)).toEqual([
      `values.yaml:8:7: sender.postconf.smtp_tls_mandatory_protocols: ${TLS14} (value !TLSv1.4 of matrix axis level)`,
    ]);
  });

  it("refuses an axis that sets a typo'd parameter, at its set", () => {
    expect(problemsIn(matrix("sender.postconf.smtp_tls_securty_level", "[may, sometimes]"))).toEqual([
      `values.yaml:4:19: matrix.axes.level.set: smtp_tls_securty_level: ${UNKNOWN}; did you mean smtp_tls_security_level?`,
    ]);
  });
});

describe("Postfix's protocol list grammar (tls_proto_mask_lims)", () => {
  it.each([
    ">=TLSv1.2",
    ">=TLSv1.2 <=TLSv1.3",
    "<=tlsv1.3",
    ">=0303",
    "!SSLv2, !SSLv3",
    "!SSLv2:!SSLv3:!TLSv1",
    "TLSv1.2 TLSv1.3",
    "",
    ">=None",
  ])("takes %j", (value) => {
    expect(postconfValueProblem("smtpd_tls_protocols", value)).toBeUndefined();
  });

  it.each([
    [">=TLSv1.4", '">=TLSv1.4": TLSv1.4 is not a protocol version Postfix knows after >= (None, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, or hexadecimal such as 0304)'],
    [">= TLSv1.2", '">=" needs its version without a space, e.g. >=TLSv1.2'],
    ["!SSLv4", '"!SSLv4": SSLv4 is not a protocol name Postfix knows (SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; bounds as >=TLSv1.2, <=TLSv1.3)'],
    ["!None", '"!None": None is not a protocol name Postfix knows (SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; bounds as >=TLSv1.2, <=TLSv1.3)'],
  ])("refuses %j", (value, problem) => {
    expect(postconfValueProblem("lmtp_tls_mandatory_protocols", value)).toBe(`not a Postfix TLS protocol list: ${problem}`);
  });

  it("leaves $name values to Postfix, which expands them at run time", () => {
    expect(postconfValueProblem("smtp_tls_security_level", "$my_level")).toBeUndefined();
    expect(postconfValueProblem("smtp_tls_protocols", "${smtpd_tls_protocols}")).toBeUndefined();
  });
});

describe("the recorded parameter names", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "postfix-parameters-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("are the union of every recorded release: a name any of them knows passes", async () => {
    await writeFile(path.join(dir, "3.7.txt"), "# header\nsmtp_tls_security_level\n");
    await writeFile(path.join(dir, "3.7.service-suffixes.txt"), "# header\nsmtp _destination_concurrency_limit\n");
    await writeFile(path.join(dir, "3.11.txt"), "# header\nsmtp_tls_security_level\nrequiretls_enable\n");
    await writeFile(path.join(dir, "3.11.service-suffixes.txt"), "# header\n");
    const known = recordedParameters(dir);
    const context = { settings: [], services: new Map([["slow", "smtp"]]) };
    expect(known.releases).toEqual(["3.7", "3.11"]);
    expect(unknownParameterProblem("requiretls_enable", context, known)).toBeUndefined();
    expect(unknownParameterProblem("slow_destination_concurrency_limit", context, known)).toBeUndefined();
    expect(unknownParameterProblem("requiretls_enabled", context, known)).toBe(
      'unknown Postfix parameter (not in postconf -d of Postfix 3.7 or 3.11; Postfix would ignore it as "unused"); did you mean requiretls_enable?',
    );
  });

  it("hold the TLS parameters this checker knows the grammar of", () => {
    const { builtIn } = recordedParameters();
    for (const name of ["smtp_tls_security_level", "smtpd_tls_security_level", "lmtp_tls_security_level", "smtp_tls_protocols", "smtpd_tls_mandatory_protocols"]) {
      expect(builtIn.has(name), name).toBe(true);
    }
  });

  it("suggest by edit distance, a swapped pair of letters counting once", () => {
    expect(editDistance("smtp_tls_securty_level", "smtp_tls_security_level")).toBe(1);
    expect(editDistance("smtp_tls_secuirty_level", "smtp_tls_security_level")).toBe(1);
    expect(editDistance("smtpd", "smtp")).toBe(1);
  });
});

describe("the JSON Schema for editors", () => {
  it("offers, for each security-level parameter of either provider, exactly the levels validation accepts", () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, { properties: { postconf: { properties: Record<string, { enum: string[] }> } } }> };
    for (const role of ["sender", "receiver"]) {
      const offered = schema.properties[role]!.properties.postconf.properties;
      expect(Object.keys(offered).sort()).toEqual(Object.keys(SECURITY_LEVEL_PARAMETERS).sort());
      for (const [name, { enum: levels }] of Object.entries(offered)) {
        for (const level of levels) expect(postconfValueProblem(name, level), `${name} = ${level}`).toBeUndefined();
        const refused = ["none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure", "sometimes"].filter((level) => !levels.includes(level));
        for (const level of refused) expect(postconfValueProblem(name, level), `${name} = ${level}`).toBeDefined();
      }
    }
  });
});

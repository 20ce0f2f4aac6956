/**
 * Bring your own config: the admin's files are read next to the scenario,
 * checked against what the test world needs, and every refusal names the
 * scenario, its field, and the line of the admin's own file.
 */
import { describe, expect, it } from "vitest";
import { loadScenarioFiles, ScenarioError } from "../../src/scenario/load.js";
import { parseMainCf } from "../../src/scenario/ownConfig.js";
import { recordedParameters } from "../../src/scenario/postfixNames.js";

const DIR = "test/fixtures/scenarios/own-config";

async function problemsOf(file: string): Promise<string[]> {
  try {
    await loadScenarioFiles([`${DIR}/${file}`]);
  } catch (error) {
    if (error instanceof ScenarioError) return error.message.split("\n");
    throw error;
  }
  return [];
}

describe("an admin's main.cf fragment", () => {
  it("is read as parameter = value lines, with continuation lines and comments", () => {
    expect(parseMainCf("# comment\nsmtpd_banner = $myhostname ESMTP\n\nsmtpd_recipient_restrictions =\n    permit_mynetworks,\n    reject_unauth_destination\n")).toEqual([
      { name: "smtpd_banner", value: "$myhostname ESMTP", line: 2, valueColumn: 16 },
      { name: "smtpd_recipient_restrictions", value: "permit_mynetworks, reject_unauth_destination", line: 4, valueColumn: 31 },
    ]);
  });

  it("may not send mail out of the world: a relayhost outside *.test and its own routes are refused, at their lines", async () => {
    expect(await problemsOf("refused.yaml")).toEqual([
      `${DIR}/refused.yaml:1: sender.mainCf: ${DIR}/relayhost-main.cf:2: relayhost [smtp.example.com]:587 is outside *.test: mail would leave the world`,
      `${DIR}/refused.yaml:1: sender.mainCf: ${DIR}/relayhost-main.cf:4: transport_maps cannot be changed in the test world (the world's routes keep every message inside it)`,
    ]);
  });

  it("keeps the harness's certificate and says which of the harness's settings it replaces", async () => {
    const [scenario] = await loadScenarioFiles(["scenarios/examples/own-config/iroco.yaml"]);
    const own = scenario!.receiver.own!;
    expect(own.mainCf!.settings.map((setting) => setting.name)).not.toContain("smtpd_tls_cert_file");
    expect(own.overrides).toContainEqual(expect.stringMatching(/iroco-main\.cf replaces the harness's .*smtpd_banner.*smtpd_tls_security_level/));
    expect(own.overrides).toContainEqual(expect.stringMatching(/sets, but the world keeps, smtpd_tls_cert_file \(kept at the harness's value: choose the certificate with `certificate:`\)/));
    expect(own.files).toEqual([{ target: "/etc/postfix/sender_access", file: "scenarios/examples/own-config/sender_access", content: expect.stringContaining("spammer.test") }]);
  });
});

describe("an admin's files", () => {
  it("must sit in the scenario's folder: paths that climb out or are absolute are refused", async () => {
    expect(await problemsOf("escapes.yaml")).toEqual([
      `${DIR}/escapes.yaml:1: receiver.mainCf: ../../../../docker/mta/main.cf is outside the scenario's folder; own files must sit next to the scenario (or below it)`,
      `${DIR}/escapes.yaml:1: receiver.files./etc/postfix/passwd: /etc/passwd is outside the scenario's folder; own files must sit next to the scenario (or below it)`,
    ]);
  });

  it("must exist, and master.cf entries may not redefine the services the harness runs", async () => {
    expect(await problemsOf("owned-service.yaml")).toEqual([
      `${DIR}/owned-service.yaml:1: receiver.mainCf: missing-main.cf: no such file (looked for ${DIR}/missing-main.cf)`,
      `${DIR}/owned-service.yaml:1: receiver.masterCf: ${DIR}/owned-master.cf:1: the harness runs smtp/inet itself; set its -o options through mainCf or postconf instead`,
    ]);
  });
});

describe("an admin's main.cf, read as Postfix reads it", () => {
  const releases = recordedParameters().releases;
  const UNKNOWN = `unknown Postfix parameter (not in postconf -d of Postfix ${releases.slice(0, -1).join(", ")}${releases.length > 1 ? " or " : ""}${releases.at(-1)}; Postfix would ignore it as "unused")`;
  const SOMETIMES = '"sometimes" is not a TLS security level of the Postfix SMTP client; one of none, may, encrypt, dane, dane-only, fingerprint, verify, secure';
  const TLS14 = 'not a Postfix TLS protocol list: "!TLSv1.4": TLSv1.4 is not a protocol name Postfix knows (SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; bounds as >=TLSv1.2, <=TLSv1.3)';

  it("refuses a made-up level, an unknown protocol and a typo'd name, in main.cf and in master.cf -o, at their line and column", async () => {
    const at = `${DIR}/postfix-values.yaml:1`;
    expect(await problemsOf("postfix-values.yaml")).toEqual([
      `${at}: sender.mainCf: ${DIR}/postfix-values-main.cf:2:27: smtp_tls_security_level: ${SOMETIMES}`,
      `${at}: sender.mainCf: ${DIR}/postfix-values-main.cf:3:32: smtp_tls_mandatory_protocols: ${TLS14}`,
      `${at}: sender.mainCf: ${DIR}/postfix-values-main.cf:4:1: smtp_tls_securty_level: ${UNKNOWN}; did you mean smtp_tls_security_level?`,
      `${at}: sender.masterCf: ${DIR}/postfix-values-master.cf:3:30: -o smtp_tls_security_level: ${SOMETIMES}`,
      `${at}: sender.masterCf: ${DIR}/postfix-values-master.cf:4:6: -o smtp_tls_securty_level: ${UNKNOWN}; did you mean smtp_tls_security_level?`,
      `${at}: receiver.mainCf: ${DIR}/postfix-values-receiver-main.cf:1:28: smtpd_tls_security_level: "verify" is not a TLS security level of a Postfix server (verify is a client level); one of none, may, encrypt`,
    ]);
  });

  it("accepts what Postfix accepts (own $names, its master.cf's service names, any case, references) and refuses what it ignores", async () => {
    // The same files through real Postfix 3.7.11 (postconf -n) warn only about relay_tls_security_level.
    expect(await problemsOf("own-names.yaml")).toEqual([
      `${DIR}/own-names.yaml:1: sender.mainCf: ${DIR}/own-names-main.cf:11:1: relay_tls_security_level: ${UNKNOWN}; a master.cf service takes its own value as -o smtp_tls_security_level=… in masterCf`,
    ]);
  });
});

/**
 * Bring your own config: the admin's files are read next to the scenario,
 * checked against what the test world needs, and every refusal names the
 * scenario, its field, and the line of the admin's own file.
 */
import { describe, expect, it } from "vitest";
import { loadScenarioFiles, ScenarioError } from "../../src/scenario/load.js";
import { parseMainCf } from "../../src/scenario/ownConfig.js";

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

/**
 * `sender.mta` / `receiver.mta`: which mail server each provider runs. A
 * level the MTA has no equivalent for, Postfix's own settings on another
 * MTA, one MTA's options on another, and the features only Postfix gives
 * the harness are refused at their line, with the reason.
 */
import { describe, expect, it } from "vitest";
import { loadScenarioText } from "../../src/scenario/load.js";
import { describePins, describeShape, fitsWorld, groupByWorldShape, worldShapeOf } from "../../src/scenario/worldShape.js";
import { scenarioTextLoader } from "./helpers/scenarioText.js";

const { errorOf } = scenarioTextLoader("mta.yaml");
const problemsOf = (text: string): string[] => errorOf(text).split("\n");

const DELIVERED = "expect: { outcome: delivered, transport: tls }\n";

describe("choosing each provider's MTA", () => {
  it("keeps another MTA's level as a level, out of postconf, with its own options", () => {
    const [scenario] = loadScenarioText(
      `name: Exim both sides\nsender: { mta: exim, level: encrypt, exim: { tls_verify_hosts: "" } }\nreceiver: { mta: exim, level: may }\n${DELIVERED}`,
      "mta.yaml",
    );
    expect(scenario!.sender).toMatchObject({ mta: "exim", level: "encrypt", exim: { tls_verify_hosts: "" }, postconf: {} });
    expect(scenario!.receiver).toMatchObject({ mta: "exim", level: "may", postconf: {} });
  });

  it("takes OpenSMTPD's own relay options", () => {
    const [scenario] = loadScenarioText(`name: OpenSMTPD\nsender: { mta: opensmtpd, opensmtpd: [tls, no-verify] }\n${DELIVERED}`, "mta.yaml");
    expect(scenario!.sender).toMatchObject({ mta: "opensmtpd", opensmtpd: ["tls", "no-verify"] });
  });

  it("refuses a level the MTA has no equivalent for, with the reason", () => {
    expect(problemsOf(`name: Exim secure\nsender: { mta: exim, level: secure }\n${DELIVERED}`)).toEqual([
      expect.stringMatching(/^mta\.yaml:2:22: sender\.level: Exim has no equivalent of secure: Exim checks a certificate against the MX host's name only/),
    ]);
    expect(problemsOf(`name: OpenSMTPD none\nsender:\n  mta: opensmtpd\n  level: none\n${DELIVERED}`)).toEqual([
      expect.stringMatching(/^mta\.yaml:4:3: sender\.level: OpenSMTPD has no equivalent of none: OpenSMTPD's MX relay always tries STARTTLS/),
    ]);
    expect(problemsOf(`name: OpenSMTPD dane\nsender: { mta: opensmtpd, level: dane }\n${DELIVERED}`)).toEqual([
      expect.stringContaining("sender.level: OpenSMTPD has no equivalent of dane: OpenSMTPD 7.6 has no DANE support"),
    ]);
  });

  it("refuses OpenSMTPD as Bob's provider", () => {
    expect(problemsOf(`name: OpenSMTPD receiver\nreceiver: { mta: opensmtpd }\n${DELIVERED}`)).toEqual(['mta.yaml:2:18: receiver.mta: Invalid option: expected one of "postfix"|"exim"']);
  });

  it("refuses Postfix's settings on another MTA, and one MTA's options on another", () => {
    expect(
      problemsOf(`name: Mixed up\nsender:\n  mta: exim\n  postfix: "3.7"\n  postconf: { smtp_tls_loglevel: 1 }\n  opensmtpd: [tls]\nreceiver:\n  exim: { tls_advertise_hosts: "" }\n${DELIVERED}`),
    ).toEqual([
      "mta.yaml:4:3: sender.postfix: is Postfix's, and the sender runs Exim: use sender.level or sender.exim",
      "mta.yaml:5:3: sender.postconf: is Postfix's, and the sender runs Exim: use sender.level or sender.exim",
      "mta.yaml:6:3: sender.opensmtpd: OpenSMTPD's own options, but the sender runs Exim: set sender.mta: opensmtpd",
      "mta.yaml:8:3: receiver.exim: Exim's own options, but the receiver runs Postfix: set receiver.mta: exim",
    ]);
  });

  it("refuses what the harness reads from Postfix alone, and MTA-STS, which the others lack", () => {
    const problems = problemsOf(
      [
        "name: Exim and Postfix's features",
        "sender: { mta: exim }",
        "dns: { mtaSts: { mode: enforce }, tlsrpt: true }",
        "message: { requireTls: true }",
        "events:",
        "  - { after: 0, sender: restart }",
        DELIVERED,
      ].join("\n"),
    );
    expect(problems).toEqual([
      expect.stringContaining("dns.mtaSts.mode: Exim 4.98 has no MTA-STS (RFC 8461) client: it would never fetch the policy; the sender runs Exim"),
      expect.stringContaining("dns.tlsrpt: the harness reads TLSRPT reports from Postfix 3.10 or later only, and the sender runs Exim"),
      expect.stringContaining("message.requireTls: REQUIRETLS needs Postfix 3.11 as the sender, and the sender runs Exim"),
      expect.stringContaining("events[0].sender: stops, starts or reconfigures Postfix, and the sender runs Exim"),
    ]);
  });

  it("lets a certificate change happen on any MTA", () => {
    const [scenario] = loadScenarioText(
      `name: Exim receiver's certificate changes\nreceiver: { mta: exim }\nattempts: 2\nevents:\n  - { after: 1, receiver: { certificate: expired } }\n${DELIVERED}`,
      "mta.yaml",
    );
    expect(scenario!.events).toHaveLength(1);
  });

  it("runs each MTA as its own world shape, and a matrix over the MTA in as many", () => {
    const scenarios = loadScenarioText(
      [
        "name: Interop",
        "sender: { level: may }",
        "matrix:",
        "  axes:",
        "    sender: { set: sender.mta, values: [postfix, exim, opensmtpd] }",
        "    receiver: { set: receiver.mta, values: [postfix, exim] }",
        "  cells:",
        "    - when: { sender: [postfix, exim, opensmtpd], receiver: [postfix, exim] }",
        "      expect: { outcome: delivered, transport: tls }",
        "",
      ].join("\n"),
      "mta.yaml",
    );
    expect(scenarios).toHaveLength(6);
    const groups = groupByWorldShape(scenarios, "3.10");
    expect(groups.map((group) => describeShape(group.shape))).toEqual([
      "Postfix 3.10",
      "sender Postfix 3.10, receiver Exim",
      "sender Exim, receiver Postfix 3.10",
      "Exim",
      "sender OpenSMTPD, receiver Postfix 3.10",
      "sender OpenSMTPD, receiver Exim",
    ]);
    const eximBoth = scenarios.find((scenario) => scenario.sender.mta === "exim" && scenario.receiver.mta === "exim")!;
    expect(describePins(eximBoth)).toBe("sender Exim, receiver Exim");
    expect(fitsWorld(eximBoth, worldShapeOf(eximBoth, "3.7"))).toBe(true);
    expect(fitsWorld(eximBoth, worldShapeOf(scenarios[0]!, "3.10"))).toBe(false);
    // The sender's level is Postfix's smtp_tls_security_level only where Postfix runs.
    expect(scenarios.map((scenario) => scenario.sender.postconf.smtp_tls_security_level)).toEqual(["may", "may", undefined, undefined, undefined, undefined]);
  });
});

describe("OpenSMTPD's own relay options", () => {
  it("refuses no-verify without tls", () => {
    expect(problemsOf(`name: OpenSMTPD no-verify\nsender: { mta: opensmtpd, opensmtpd: [no-verify] }\n${DELIVERED}`)).toEqual([
      "mta.yaml:2:27: sender.opensmtpd: no-verify comes with tls (relay tls no-verify): without tls nothing is verified anyway",
    ]);
  });
});

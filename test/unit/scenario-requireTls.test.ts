/** message.requireTls and expect.requireTls in the scenario format, and the judge's reading of them. */
import { describe, expect, it } from "vitest";
import { classifySubmissionFailure } from "../../src/drive/alice.js";
import { judge } from "../../src/judge/judge.js";
import type { Observation } from "../../src/observe/types.js";
import { parseScenarioText } from "../../src/scenario/parseText.js";
import { formatProblem } from "../../src/scenario/load.js";
import { scenarioTextLoader } from "./helpers/scenarioText.js";

const { load, errorOf } = scenarioTextLoader("requiretls.yaml");
const delivered = "expect: { outcome: delivered, transport: tls }";
const refusal = 'requiretls.yaml:3:12: message.requireTls: REQUIRETLS needs a sender running Postfix 3.11';

describe("message.requireTls: only for a sender that runs Postfix 3.11", () => {
  it("is taken from a sender pinned to 3.11, and passed on to the scenario", () => {
    const [scenario] = load(`name: pinned\nsender: { postfix: "3.11" }\nmessage: { requireTls: true }\n${delivered}\n`);
    expect(scenario!.message.requireTls).toBe(true);
  });

  it("is absent from the scenario when not written", () => {
    const [scenario] = load(`name: plain\n${delivered}\n`);
    expect(scenario!.message).not.toHaveProperty("requireTls");
  });

  it("is refused for a sender pinned to another release, where the field is written", () => {
    expect(errorOf(`name: old sender\nsender: { postfix: "3.10" }\nmessage: { requireTls: true }\n${delivered}\n`)).toBe(
      `${refusal}, and the sender runs Postfix 3.10: pin sender.postfix: "3.11"`,
    );
  });

  it("is refused for an unpinned sender when the run's release is not known to be 3.11", () => {
    expect(errorOf(`name: unpinned\nreceiver: { postfix: "3.11" }\nmessage: { requireTls: true }\n${delivered}\n`)).toBe(
      `${refusal}, and the sender is not pinned, so it runs whatever release the run uses: pin sender.postfix: "3.11"`,
    );
  });

  it("is taken for an unpinned sender when the run says --postfix 3.11, and refused under --postfix 3.7", () => {
    const text = `name: unpinned\nreceiver: { postfix: "3.11" }\nmessage: { requireTls: true }\n${delivered}\n`;
    expect(parseScenarioText(text, "requiretls.yaml", "3.11").problems).toEqual([]);
    expect(parseScenarioText(text, "requiretls.yaml", "3.7").problems.map(formatProblem)).toEqual([
      `${refusal}, and the sender runs Postfix 3.7: pin sender.postfix: "3.11"`,
    ]);
  });

  it("is refused for each cell of a matrix whose sender runs another release", () => {
    const text = `name: per release
message: { requireTls: true }
matrix:
  axes:
    sender: { set: sender.postfix, values: ["3.10", "3.11"] }
  cells:
    - when: { sender: ["3.10", "3.11"] }
      ${delivered}
`;
    expect(parseScenarioText(text, "requiretls.yaml").problems.map(formatProblem)).toEqual([
      'requiretls.yaml:2:12: message.requireTls: REQUIRETLS needs a sender running Postfix 3.11, and the sender runs Postfix 3.10: pin sender.postfix: "3.11"',
    ]);
  });
});

describe("expect.requireTls", () => {
  it("is kept on both arms of the expectation", () => {
    const pinned = 'sender: { postfix: "3.11" }\nmessage: { requireTls: true }';
    const [bounced] = load(`name: back\n${pinned}\nexpect: { outcome: bounced, requireTls: { receiverAnnounced: false, tlsField: "dane/!requiretls:none" } }\n`);
    expect(bounced!.expect.requireTls).toEqual({ receiverAnnounced: false, tlsField: "dane/!requiretls:none" });
    const [sent] = load(`name: there\n${pinned}\nexpect: { outcome: delivered, transport: tls, requireTls: { requested: true } }\n`);
    expect(sent!.expect.requireTls).toEqual({ requested: true });
  });

  it("knows only its own fields", () => {
    expect(errorOf(`name: typo\nexpect: { outcome: bounced, requireTls: { announced: true } }\n`)).toContain("allowed here: requested, receiverAnnounced, tlsField");
  });
});

describe("judge: requireTls", () => {
  const observed: Observation = {
    outcome: "bounced",
    reason: "Sender requested REQUIRETLS, but no server was found that supports REQUIRETLS.",
    requireTls: { requested: true, receiverAnnounced: false, policyViolated: true, tlsField: "dane/!requiretls:none" },
    evidence: [],
  };

  it("passes when every given field is what the sender's tls= field says", () => {
    expect(judge({ outcome: "bounced", requireTls: { requested: true, receiverAnnounced: false, tlsField: "dane/!requiretls:none" } }, observed)).toEqual({
      passed: true,
      differences: [],
    });
  });

  it("names each field that differs, with the tls= field it was read from", () => {
    expect(judge({ outcome: "bounced", requireTls: { receiverAnnounced: true, tlsField: "dane/requiretls" } }, observed).differences).toEqual([
      { field: "requireTls.receiverAnnounced", expected: "true", observed: "false (tls=dane/!requiretls:none)" },
      { field: "requireTls.tlsField", expected: "dane/requiretls", observed: "dane/!requiretls:none (tls=dane/!requiretls:none)" },
    ]);
  });

  it("an announcement the sender never saw is none, not false", () => {
    const undecided: Observation = { ...observed, requireTls: { requested: true, policyViolated: true, tlsField: "may?/!requiretls:nocertmatch" } };
    expect(judge({ outcome: "bounced", requireTls: { receiverAnnounced: false } }, undecided).differences).toEqual([
      { field: "requireTls.receiverAnnounced", expected: "false", observed: "none (tls=may?/!requiretls:nocertmatch)" },
    ]);
  });

  it("a sender without a tls= field (before 3.11) cannot show it: one difference says so", () => {
    const { requireTls: _omitted, ...before } = observed;
    expect(judge({ outcome: "bounced", requireTls: { requested: true } }, before).differences).toEqual([
      { field: "requireTls", expected: "requested: true", observed: "none: the sender's status line has no tls= field (Postfix 3.11 writes it)" },
    ]);
  });
});

describe("Alice's client refusing to send REQUIRETLS to a server that does not announce it", () => {
  it("is a refusal at MAIL FROM, not a harness failure", () => {
    // The fields nodemailer 10.6.1 set, against Postfix 3.11 with requiretls_enable = no (scenarios/requiretls.yaml).
    const error = Object.assign(new Error("Server does not support REQUIRETLS extension (RFC 8689)"), { code: "EREQUIRETLS", command: "MAIL FROM" });
    expect(classifySubmissionFailure(error, "the sender's port 465")).toEqual({
      accepted: false,
      response: "Alice's client refused to send without REQUIRETLS: Server does not support REQUIRETLS extension (RFC 8689) (EREQUIRETLS)",
      command: "MAIL FROM",
    });
  });
});

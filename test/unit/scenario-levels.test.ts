/**
 * `sender.level` / `receiver.level`: TLS security levels in Postfix's words,
 * which on a Postfix provider become its native setting in postconf, so
 * every report shows what was applied. A level and the same parameter in
 * postconf, or a level the role has not, are refused at their line.
 */
import { describe, expect, it } from "vitest";
import { loadScenarioText } from "../../src/scenario/load.js";
import { scenarioTextLoader } from "./helpers/scenarioText.js";

const { errorOf } = scenarioTextLoader("levels.yaml");
const problemsOf = (text: string): string[] => errorOf(text).split("\n");

describe("security levels in one vocabulary", () => {
  it("writes a Postfix provider's level into its postconf as the native parameter, and keeps the level", () => {
    const [scenario] = loadScenarioText(
      "name: Levels\nsender: { level: encrypt, postconf: { smtp_tls_loglevel: 1 } }\nreceiver: { level: none }\nexpect: { outcome: deferred }\n",
      "levels.yaml",
    );
    expect(scenario!.sender).toMatchObject({ level: "encrypt", postconf: { smtp_tls_security_level: "encrypt", smtp_tls_loglevel: "1" } });
    expect(scenario!.receiver).toMatchObject({ level: "none", postconf: { smtpd_tls_security_level: "none" } });
  });

  it("leaves postconf alone without a level", () => {
    const [scenario] = loadScenarioText("name: No level\nexpect: { outcome: delivered, transport: tls }\n", "levels.yaml");
    expect(scenario!.sender.level).toBeUndefined();
    expect(scenario!.sender.postconf).toEqual({});
  });

  it("refuses a level and the same parameter in postconf", () => {
    expect(problemsOf("name: Twice\nsender:\n  level: may\n  postconf: { smtp_tls_security_level: encrypt }\nexpect: { outcome: delivered, transport: tls }\n")).toEqual([
      "levels.yaml:3:10: sender.level: is smtp_tls_security_level, which postconf also sets: write it in one place",
    ]);
  });

  it("refuses a sender's level on the receiver", () => {
    expect(problemsOf("name: Receiver verify\nreceiver: { level: verify }\nexpect: { outcome: delivered, transport: tls }\n")).toEqual([
      'levels.yaml:2:20: receiver.level: Invalid option: expected one of "none"|"may"|"encrypt"',
    ]);
  });

  it("sets the level per matrix cell", () => {
    const scenarios = loadScenarioText(
      [
        "name: Matrix",
        "matrix:",
        "  axes:",
        "    sender: { set: sender.level, values: [may, dane-only] }",
        "  cells:",
        "    - when: { sender: may }",
        "      expect: { outcome: delivered, transport: tls }",
        "    - when: { sender: dane-only }",
        "      expect: { outcome: deferred }",
      ].join("\n"),
      "levels.yaml",
    );
    expect(scenarios.map((scenario) => scenario.sender.postconf.smtp_tls_security_level)).toEqual(["may", "dane-only"]);
  });
});

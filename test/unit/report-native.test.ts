/**
 * A provider that runs another MTA than Postfix: every report shows the
 * configuration that MTA printed back (ScenarioResult.native), and the JSON
 * report keeps it for `merge`.
 */
import { describe, expect, it } from "vitest";
import type { ScenarioResult } from "../../src/core/result.js";
import { createConsoleReporter } from "../../src/report/console.js";
import { configurationLines } from "../../src/report/describe.js";
import { explainResult } from "../../src/report/explain.js";
import { toHtmlReport } from "../../src/report/html.js";
import { scenarioResultFromJson, toJsonReport } from "../../src/report/json.js";
import { toJunitXml } from "../../src/report/junit.js";
import { passing } from "./report-fixtures.js";

const EXIM_SENDER = ["hosts_avoid_tls =", "hosts_require_tls = *", "tls_verify_hosts =", "hosts_try_dane ="];

const withExim: ScenarioResult = {
  ...passing,
  scenario: { ...passing.scenario, name: "Exim at encrypt", sender: { ...passing.scenario.sender, mta: "exim", level: "encrypt", postconf: {} } },
  world: {
    sender: { mta: "exim", version: "4.98.2", tls: "GnuTLS 3.8.9" },
    receiver: { mta: "postfix", release: "3.10", version: "3.10.13", tls: "OpenSSL 3.5.9 29 Sep 2026 (Library: OpenSSL 3.5.9 29 Sep 2026)" },
  },
  native: { sender: EXIM_SENDER },
};

class Capture {
  readonly lines: string[] = [];
  write(chunk: string): boolean {
    this.lines.push(...chunk.split("\n").filter((line) => line !== ""));
    return true;
  }
}

describe("another MTA's configuration in the reports", () => {
  it("names the MTA and its level, then its own settings; a Postfix provider shows its postconf", () => {
    expect(configurationLines(withExim.scenario.sender, EXIM_SENDER)).toEqual(["Exim, level encrypt", ...EXIM_SENDER]);
    expect(configurationLines({ ...withExim.scenario.sender, exim: { tls_verify_hosts: "*" } }, [])).toEqual(["Exim, its own options"]);
    expect(configurationLines({ ...passing.scenario.sender, postconf: { smtp_tls_security_level: "may" } }, undefined)).toEqual(["smtp_tls_security_level = may"]);
  });

  it("is in the console line of the scenario, the explanation, the HTML, JUnit and JSON", () => {
    const out = new Capture();
    createConsoleReporter(out as unknown as NodeJS.WritableStream, { color: false }).scenarioFinished(0, 1, withExim);
    expect(out.lines).toContain("    sender: Exim, level encrypt; hosts_avoid_tls =; hosts_require_tls = *; tls_verify_hosts =; hosts_try_dane =");
    expect(explainResult(withExim)).toContain("    hosts_require_tls = *");
    expect(toHtmlReport({ results: [withExim], durationMs: 1 })).toContain("Exim, level encrypt, hosts_avoid_tls =, hosts_require_tls = *");
    expect(toJunitXml({ results: [withExim], durationMs: 1 })).toContain('name="sender.configuration" value="hosts_avoid_tls =; hosts_require_tls = *; tls_verify_hosts =; hosts_try_dane ="');
    expect(toJunitXml({ results: [withExim], durationMs: 1 })).toContain('name="sender.exim" value="4.98.2"');
    const [json] = toJsonReport({ results: [withExim], durationMs: 1 }).scenarios;
    expect(json!.native).toEqual({ sender: EXIM_SENDER });
    expect(scenarioResultFromJson(json!).native).toEqual({ sender: EXIM_SENDER });
  });
});

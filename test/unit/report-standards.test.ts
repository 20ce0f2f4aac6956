/**
 * The TLS standards (TLS-Required, TLSRPT, REQUIRETLS) reach every report:
 * the same lines in the console, JUnit, HTML, explain and JSON, and compare
 * names each one that differs between releases.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ScenarioResult } from "../../src/core/result.js";
import { statement } from "../../src/observe/evidence.js";
import { compareRuns } from "../../src/report/compare.js";
import { createConsoleReporter } from "../../src/report/console.js";
import { describeExpectation } from "../../src/report/describe.js";
import { explainResult } from "../../src/report/explain.js";
import { toHtmlReport } from "../../src/report/html.js";
import { toJsonReport } from "../../src/report/json.js";
import { escapeXmlText, toJunitXml } from "../../src/report/junit.js";
import { escapeMarkup } from "../../src/report/markup.js";
import { failing, scenario } from "./report-fixtures.js";

const waived: ScenarioResult = {
  scenario: scenario("TLS-Required: No waives encrypt", "scenarios/tls-required.yaml", {
    outcome: "delivered",
    transport: "plaintext",
    headers: { "TLS-Required": { kind: "substring", text: "No" } },
    tlsrpt: { policy: "sts", result: "failure", failure: "starttls-not-supported" },
    requireTls: { requested: false },
  }),
  observation: {
    outcome: "delivered",
    transport: "plaintext",
    headers: { "TLS-Required": "No" },
    tlsrpt: [
      {
        policyDomain: "iroco.test",
        domain: "iroco.test",
        reportPolicy: "v=TLSRPTv1; rua=mailto:tlsrpt@iroco.test",
        policyType: "sts",
        result: "failure",
        failureType: "starttls-not-supported",
        receivingMx: "mx.iroco.test",
      },
    ],
    requireTls: { requested: false, receiverAnnounced: true, tlsField: "none" },
    evidence: [statement("mailbox", "TLS-Required: No")],
  },
  verdict: { passed: true, differences: [] },
  durationMs: 300,
};

const LINES = [
  "header TLS-Required: No (as Bob's provider stored the message)",
  "tlsrpt: failure starttls-not-supported with mx.iroco.test (sts policy of iroco.test), reported for iroco.test to rua=mailto:tlsrpt@iroco.test",
  "REQUIRETLS not requested, announced by the receiver, sender logged tls=none",
];

describe("the TLS standards in the reports", () => {
  it("the expectation names each standard it expects", () => {
    expect(describeExpectation(waived.scenario.expect)).toBe(
      "delivered in plaintext; header TLS-Required: No; TLSRPT sts failure starttls-not-supported; REQUIRETLS not requested",
    );
  });

  it("the console prints each observed standard under the scenario's line", () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (chunk: Buffer) => (text += chunk.toString()));
    createConsoleReporter(out, { color: false }).scenarioFinished(0, 1, waived);
    for (const line of LINES) expect(text).toContain(`    ${line}\n`);
  });

  it("JUnit, HTML and explain carry the same lines", () => {
    const run = { results: [waived], durationMs: 300 };
    const junit = toJunitXml(run);
    const html = toHtmlReport(run);
    const lesson = explainResult(waived);
    for (const line of LINES) {
      expect(junit).toContain(escapeXmlText(line));
      expect(html).toContain(escapeMarkup(line));
      expect(lesson).toContain(`observed: ${line}`);
    }
    expect(lesson).toContain("expected: TLSRPT sts failure starttls-not-supported");
  });

  it("explain has no standards section for a scenario that neither expects nor shows one", () => {
    expect(explainResult(failing)).not.toContain("What the TLS standards showed");
  });

  it("JSON keeps the observations and the expectations as data", () => {
    const [json] = toJsonReport({ results: [waived], durationMs: 300 }).scenarios;
    expect(json!.expected).toMatchObject({ headers: { "TLS-Required": "No" }, tlsrpt: { policy: "sts", result: "failure", failure: "starttls-not-supported" }, requireTls: { requested: false } });
    expect(json!.observed).toMatchObject({ headers: { "TLS-Required": "No" }, tlsrpt: waived.observation!.tlsrpt, requireTls: waived.observation!.requireTls });
  });

  it("compare names each standard that differs between releases", () => {
    const on37: ScenarioResult = { ...waived, observation: { outcome: "deferred", reason: "TLS is required, but was not offered", evidence: [] }, verdict: { passed: false, differences: [] } };
    const comparison = compareRuns(["3.7", "3.10"], [waived.scenario], [[on37], [waived]]);
    const fields = comparison.scenarios[0]!.differences.map(({ field, values }) => [field, ...values]);
    expect(fields).toContainEqual(["headers", "(none)", "TLS-Required: No"]);
    expect(fields).toContainEqual(["tlsrpt", "(none)", LINES[1]]);
    expect(fields).toContainEqual(["requireTls", "(none)", LINES[2]]);
  });
});

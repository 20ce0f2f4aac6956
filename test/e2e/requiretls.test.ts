/**
 * REQUIRETLS (RFC 8689) on real Postfix 3.11 (Debian forky): the shipped
 * scenarios show what the sender's tls= field and the other witnesses say,
 * and every wrong expectation about it fails on exactly its own field.
 * So do the cases `diagnose` writes from those scenarios' bounces, and
 * their fixes. One run for all: the runner starts a 3.11 world, then a
 * 3.10 one for the sender that writes no tls= field.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ScenarioResult } from "../../src/core/result.js";
import { diagnose, scenarioFileText } from "../../src/diagnose/index.js";
import { loadScenarioFiles, loadScenarioText } from "../../src/scenario/load.js";
import type { Scenario } from "../../src/scenario/types.js";
import { runScenarios } from "../../src/vitest.js";
import { worldPool } from "./helpers/worldPool.js";

const SHIPPED = path.join("scenarios", "requiretls.yaml");
const WRONG = path.join("test", "fixtures", "scenarios", "wrong", "requiretls.yaml");
const CORPUS = path.join("test", "fixtures", "diagnose", "shipped");

/** What `diagnose --write` makes of each REQUIRETLS bounce of the shipped run: the customer's case and its fix, one file each. */
async function diagnosedDrafts(): Promise<Scenario[]> {
  const fixtures = (await readdir(CORPUS)).filter((name) => name.startsWith("requiretls-"));
  expect(fixtures.length).toBe(4);
  const drafts = await Promise.all(
    fixtures.map(async (fixture) => {
      const diagnosis = await diagnose(await readFile(path.join(CORPUS, fixture), "utf8"));
      if (!diagnosis.recognised) throw new Error(`${fixture} not recognised`);
      const file = `diagnosed/${fixture.replace(/\.txt$/, ".yaml")}`;
      return loadScenarioText(scenarioFileText(diagnosis, file), file);
    }),
  );
  return drafts.flat();
}

let results: ScenarioResult[] = [];
const fromFile = (file: string) => results.filter((result) => result.scenario.source.file === file);
const named = (start: string) => {
  const found = results.find((result) => result.scenario.name.startsWith(start));
  if (!found) throw new Error(`no result for a scenario named "${start}…"`);
  return found;
};
const linesFrom = (result: ScenarioResult, source: string) =>
  (result.observation?.evidence ?? []).filter((evidence) => evidence.source === source).map((evidence) => evidence.line);

beforeAll(async () => {
  const scenarios = [...(await loadScenarioFiles([SHIPPED, WRONG])), ...(await diagnosedDrafts())];
  expect(scenarios.length).toBe(19);
  results = (await runScenarios(scenarios, { workers: 1, worlds: worldPool })).results;
}, 900_000);

describe("the shipped REQUIRETLS scenarios", () => {
  it("all pass on Postfix 3.11 at both ends", () => {
    const shipped = fromFile(SHIPPED);
    expect(shipped.length).toBe(7);
    for (const result of shipped) {
      expect(result.error, result.scenario.name).toBeUndefined();
      expect(result.verdict, result.scenario.name).toEqual({ passed: true, differences: [] });
      expect(result.world?.sender.version, result.scenario.name).toMatch(/^3\.11\./);
      expect(result.world?.receiver.version, result.scenario.name).toMatch(/^3\.11\./);
    }
  });

  it("delivered: the sender's status line carries tls=dane/requiretls, and Bob's provider keeps the request", () => {
    const result = named("REQUIRETLS: verified by DANE");
    expect(result.observation?.requireTls).toEqual({ requested: true, receiverAnnounced: true, policyViolated: false, keptByReceiver: true, tlsField: "dane/requiretls" });
    expect(linesFrom(result, "sender-log").filter((line) => line.includes("status=sent"))).toEqual([expect.stringContaining(", tls=dane/requiretls, dsn=2.0.0, status=sent")]);
    expect(linesFrom(result, "receiver-log").filter((line) => line.includes("status=sent"))).toEqual([expect.stringContaining(", tls=none/requiretls:none, dsn=2.0.0")]);
    expect(linesFrom(result, "submission")).toEqual([expect.stringContaining("announced REQUIRETLS and accepted MAIL FROM with REQUIRETLS")]);
  });

  it("delivered over MTA-STS: the policy raised the may sender to secure", () => {
    expect(named("REQUIRETLS: verified by MTA-STS").observation?.requireTls).toEqual({
      requested: true,
      receiverAnnounced: true,
      policyViolated: false,
      keptByReceiver: true,
      tlsField: "secure/requiretls",
    });
  });

  it("returned: the message never crossed the wire readable, and the report reached Alice", () => {
    for (const start of ["REQUIRETLS: Bob's provider does not announce it", "REQUIRETLS: no DANE", "REQUIRETLS: STARTTLS stripped"]) {
      const result = named(start);
      expect(result.observation?.outcome, start).toBe("bounced");
      expect(result.observation?.wire?.plaintextBody, start).toBe(false);
      // The report reached Alice (the returned message's headers are read as well, for TLS-Required).
      expect(linesFrom(result, "mailbox").filter((line) => line.includes("non-delivery report")), start).toEqual([
        expect.stringMatching(/^alice@infomaniak\.test's inbox: non-delivery report/),
      ]);
    }
    // No TLS session could meet the policy: Postfix did not even connect.
    expect(named("REQUIRETLS: no DANE").observation?.wire?.hops).toEqual([]);
  });

  it("opportunistic policy: delivered over verified TLS, REQUIRETLS silently dropped, nothing kept downstream", () => {
    const result = named("REQUIRETLS, opportunistic policy");
    expect(result.observation?.requireTls).toEqual({ requested: true, receiverAnnounced: false, policyViolated: false, keptByReceiver: false, tlsField: "dane/requiretls:none" });
  });

  it("Alice's client refuses: nothing reaches either provider's queue or the wire", () => {
    const result = named("REQUIRETLS: Alice's own provider");
    expect(result.observation?.outcome).toBe("rejected");
    expect(result.observation?.requireTls).toBeUndefined();
    expect(result.observation?.wire?.hops).toEqual([]);
  });
});

describe("wrong expectations about REQUIRETLS", () => {
  it("each fails on the one field its name starts with", () => {
    const wrong = fromFile(WRONG);
    expect(wrong.length).toBe(4);
    for (const result of wrong) {
      const field = result.scenario.name.split(":")[0];
      expect(result.error, result.scenario.name).toBeUndefined();
      expect(result.verdict.passed, result.scenario.name).toBe(false);
      expect(result.verdict.differences.map((difference) => difference.field), result.scenario.name).toEqual([field]);
    }
    expect(named("requireTls: a Postfix 3.10 sender").world?.sender.version).toMatch(/^3\.10\./);
  });
});

describe("diagnose on the REQUIRETLS bounces", () => {
  it("writes cases that fail as the customer saw and fixes that deliver, on real 3.11", () => {
    const diagnosed = results.filter((result) => result.scenario.source.file.startsWith("diagnosed/"));
    expect(diagnosed.length).toBe(8);
    for (const result of diagnosed) {
      expect(result.error, `${result.scenario.source.file}: ${result.scenario.name}`).toBeUndefined();
      expect(result.verdict, `${result.scenario.source.file}: ${result.scenario.name}`).toEqual({ passed: true, differences: [] });
    }
    expect(diagnosed.map((result) => result.observation?.outcome).sort()).toEqual(["bounced", "bounced", "bounced", "delivered", "delivered", "delivered", "delivered", "rejected"]);
  });
});

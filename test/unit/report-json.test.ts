import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dnsEvidence } from "../../src/observe/dnsLog.js";
import { logEvidence, statement } from "../../src/observe/evidence.js";
import { parseLogLine } from "../../src/observe/postfixLog.js";
import { toJsonReport, writeJsonReport } from "../../src/report/json.js";
import { DEFERRAL, passing, run } from "./report-fixtures.js";

describe("toJsonReport", () => {
  const report = toJsonReport(run);

  it("has exactly DESIGN.md's top-level and summary keys", () => {
    expect(Object.keys(report)).toEqual(["scenarios", "summary"]);
    expect(report.summary).toEqual({ passed: 1, failed: 2, durationMs: 41_300 });
  });

  it("writes a passing TLS delivery in DESIGN.md's shape", () => {
    const entry = report.scenarios[0]!;
    expect(Object.keys(entry)).toEqual(["file", "name", "passed", "expected", "observed", "durationMs", "differences", "evidence", "definition"]);
    expect(entry).toEqual({
      file: "scenarios/basic.yaml",
      name: "may to may delivers over TLS",
      passed: true,
      expected: { outcome: "delivered", transport: "tls", tls: { version: "TLSv1.3", trust: "trusted" } },
      observed: {
        outcome: "delivered",
        transport: "tls",
        tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "trusted", peerName: "mx.iroco.test", keyExchange: "X25519" },
      },
      durationMs: 412,
      differences: [],
      evidence: passing.observation!.evidence.map(({ source, line }) => ({ source, line })),
      definition: passing.scenario,
    });
    expect(Object.keys(entry.observed!.tls!)).toEqual(["version", "cipher", "trust", "peerName", "keyExchange"]);
  });

  it("omits absent observation keys instead of writing null", () => {
    const entry = report.scenarios[1]!;
    expect(entry.passed).toBe(false);
    expect(entry.observed).toEqual({ outcome: "deferred", reason: DEFERRAL });
    expect(Object.keys(entry.observed!)).toEqual(["outcome", "reason"]);
    expect(entry.differences).toEqual([
      { field: "outcome", expected: "delivered", observed: "deferred" },
      { field: "transport", expected: "tls", observed: "(none)" },
    ]);
    expect(JSON.stringify(entry)).not.toContain("null");
  });

  it("writes null observed, the error and the regex as written for a harness error", () => {
    const entry = report.scenarios[2]!;
    expect(Object.keys(entry)).toEqual([
      "file",
      "name",
      "passed",
      "expected",
      "observed",
      "durationMs",
      "error",
      "differences",
      "definition",
    ]);
    expect(entry.observed).toBeNull();
    expect(entry.evidence).toBeUndefined();
    expect(entry.error).toContain("timed out");
    expect(entry.expected).toEqual({ outcome: "rejected", reason: "/5\\.7\\.1/i" });
  });

  it("writes the evidence as source and line, with what the harness parsed from it minus the line again", () => {
    const trusted =
      "Nov 27 22:47:19 smtp postfix/smtp[112]: Trusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";
    const mxAnswer = "[1795830040] unbound[1038:0] info: 172.20.0.3 iroco.test. MX IN NOERROR 0.000500 0 164";
    const evidence = [
      logEvidence("sender", trusted),
      ...dnsEvidence([mxAnswer], "172.20.0.3"),
      statement("queue", "sender queue: 0CDCF178411 in deferred: TLS is required"),
    ];
    const report = toJsonReport({ durationMs: 1, results: [{ ...run.results[0]!, observation: { ...run.results[0]!.observation!, evidence } }] });
    const { line: _sameLine, ...withoutLine } = parseLogLine(trusted)!;
    expect(withoutLine).toMatchObject({ kind: "tlsEstablished", trust: "trusted", version: "TLSv1.3" });
    expect(report.scenarios[0]!.evidence).toEqual([
      { source: "sender-log", line: trusted, event: withoutLine },
      {
        source: "dns-log",
        line: "dns: Alice's provider asked iroco.test. MX: NOERROR",
        event: { kind: "answer", asker: "sender", name: "iroco.test.", type: "MX", rcode: "NOERROR" },
      },
      { source: "queue", line: "sender queue: 0CDCF178411 in deferred: TLS is required" },
    ]);
  });

  it("keeps the wire's observation, plaintextBody first as DESIGN.md promises", () => {
    const wire = { mode: "pass" as const, plaintextBody: false, attackerReadBody: false, hops: [] };
    const withWire = toJsonReport({
      durationMs: 1,
      results: [{ ...run.results[0]!, observation: { ...run.results[0]!.observation!, wire } }],
    });
    expect(withWire.scenarios[0]!.observed!.wire).toEqual(wire);
    expect(Object.keys(withWire.scenarios[0]!.observed!.wire!)[0]).toBe("plaintextBody");
  });
});

describe("writeJsonReport", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("creates parent folders and writes parseable JSON", async () => {
    dir = await mkdtemp(join(tmpdir(), "report-json-"));
    const file = join(dir, "nested", "deeper", "report.json");
    await writeJsonReport(run, file);
    const text = await readFile(file, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(toJsonReport(run));
  });
});

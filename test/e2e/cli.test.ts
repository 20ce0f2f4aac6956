/**
 * The command line as users and CI jobs meet it: `node dist/cli.js …` in a
 * child process, against real Postfix containers. Exit codes, the last line
 * of stdout and the report files are contracts (DESIGN.md, "Contracts other
 * tools rely on").
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { JsonReport } from "../../src/report/json.js";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { orderByState } from "../../src/scenario/order.js";
import { CliProcess, runCli, type CliResult } from "./helpers/cli.js";
import { containersCreatedBy, ownedBy, removeOwnedBy } from "./helpers/docker.js";

const BROKEN = "test/fixtures/scenarios/broken";
const CLI_FIXTURES = "test/fixtures/scenarios/cli";
const POSTFIX_VALUES = "test/fixtures/scenarios/postfix-values";
const OWN_CONFIG = "test/fixtures/scenarios/own-config";

function lastLine(stdout: string): string | undefined {
  return stdout.replace(/\n$/, "").split("\n").at(-1);
}

function parseJunit(xml: string): { testsuites: Record<string, unknown> & { tests: string; failures: string; errors: string } } {
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml);
}

/** Runs the CLI and records what it created in Docker while it ran. */
async function runAndWatchDocker(args: string[]): Promise<CliResult & { containersCreated: string[]; leftOver: Awaited<ReturnType<typeof ownedBy>> }> {
  const started = Date.now();
  const result = await runCli(args);
  const containersCreated = await containersCreatedBy(result.pid, started, Date.now());
  const leftOver = await ownedBy(result.pid);
  console.log(`starttls-lab ${args.join(" ")} → exit ${result.code} in ${result.durationMs} ms`);
  return { ...result, containersCreated, leftOver };
}

describe("bad input: exit 2, a clear message, and nothing started", () => {
  test("a scenario file with an unknown key names the file, the line and the field", async ({ expect }) => {
    const result = await runAndWatchDocker(["run", `${BROKEN}/unknown-key.yaml`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${BROKEN}/unknown-key.yaml:2:`);
    expect(result.stderr).toMatch(/recever: unknown key/);
    expect(result.stdout).toBe("");
    expect(result.containersCreated).toEqual([]);
    expect(result.leftOver).toEqual({ containers: [], networks: [] });
  });

  test("a scenario file with a YAML syntax error names the file, the line and says it is YAML", async ({ expect }) => {
    const result = await runAndWatchDocker(["run", `${BROKEN}/yaml-syntax.yaml`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`${BROKEN}/yaml-syntax\\.yaml:[34]:\\d+: YAML: `));
    expect(result.containersCreated).toEqual([]);
    expect(result.leftOver).toEqual({ containers: [], networks: [] });
  });

  test.for([
    { what: "an unknown option", args: ["run", `${CLI_FIXTURES}/passes.yaml`, "--bogus"], stderr: /Unknown option '--bogus'/ },
    { what: "an unknown command", args: ["frobnicate"], stderr: /unknown command "frobnicate"/ },
    { what: "an unknown report kind", args: ["run", `${CLI_FIXTURES}/passes.yaml`, "--report", "bogus=x"], stderr: /unknown report kind "bogus".*supported kinds: json, junit, html/ },
    { what: "--only matching no scenario", args: ["run", CLI_FIXTURES, "--only", "no such scenario"], stderr: /no scenario name contains "no such scenario"/ },
    { what: "a shuffle seed that is not a number", args: ["run", `${CLI_FIXTURES}/passes.yaml`, "--shuffle", "abc"], stderr: /--shuffle takes an integer from 0 to \d+, not "abc"/ },
    { what: "a shard past the last", args: ["run", `${CLI_FIXTURES}/passes.yaml`, "--shard", "3/2"], stderr: /--shard takes K\/N with 1 ≤ K ≤ N \(e\.g\. 1\/4\), not "3\/2"/ },
    { what: "merge of a file that is not a report", args: ["merge", "package.json"], stderr: /package\.json: not a starttls-lab JSON report/ },
    { what: "zero workers", args: ["run", `${CLI_FIXTURES}/passes.yaml`, "--workers", "0"], stderr: /--workers takes an integer from 1 to 8, not "0"/ },
    { what: "a path that does not exist", args: ["run", "test/fixtures/scenarios/does-not-exist.yaml"], stderr: /does-not-exist\.yaml: no such file or directory/ },
  ])("$what", async ({ args, stderr }, { expect }) => {
    const result = await runAndWatchDocker(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(stderr);
    expect(result.containersCreated).toEqual([]);
    expect(result.leftOver).toEqual({ containers: [], networks: [] });
  });
});

describe("validate", () => {
  test("exits 0 on scenarios/ and prints how many scenarios it checked", async () => {
    const result = await runAndWatchDocker(["validate", "scenarios"]);
    const expected = await loadScenarioFiles(["scenarios"]);
    const files = new Set(expected.map((scenario) => scenario.source.file));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${expected.length} scenario(s) in ${files.size} file(s): valid\n`);
    expect(expected.length).toBeGreaterThan(0);
    expect(result.containersCreated).toEqual([]);
  });

  test("refuses what Postfix would reject or ignore: every file, line, column and field, exit 2, nothing started", async () => {
    const result = await runAndWatchDocker(["validate", POSTFIX_VALUES, `${OWN_CONFIG}/postfix-values.yaml`]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.replace(/^starttls-lab: /, "").trimEnd().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(
        /^test\/fixtures\/scenarios\/postfix-values\/protocols-matrix\.yaml:9:7: sender\.postconf\.smtp_tls_mandatory_protocols: not a Postfix TLS protocol list: "!TLSv1\.4": TLSv1\.4 is not a protocol name .* \(value !SSLv2, !TLSv1\.4 of matrix axis protocols\)$/,
      ),
      `${POSTFIX_VALUES}/sometimes.yaml:3:48: sender.postconf.smtp_tls_security_level: "sometimes" is not a TLS security level of the Postfix SMTP client; one of none, may, encrypt, dane, dane-only, fingerprint, verify, secure`,
      expect.stringMatching(/^test\/fixtures\/scenarios\/postfix-values\/typo\.yaml:4:5: sender\.postconf\.smtp_tls_securty_level: unknown Postfix parameter .*; did you mean smtp_tls_security_level\?$/),
      expect.stringMatching(/^test\/fixtures\/scenarios\/own-config\/postfix-values\.yaml:1: sender\.mainCf: \S+\/postfix-values-main\.cf:2:27: smtp_tls_security_level: "sometimes" is not/),
      expect.stringMatching(/: sender\.mainCf: \S+\/postfix-values-main\.cf:3:32: smtp_tls_mandatory_protocols: not a Postfix TLS protocol list/),
      expect.stringMatching(/: sender\.mainCf: \S+\/postfix-values-main\.cf:4:1: smtp_tls_securty_level: unknown Postfix parameter .*did you mean smtp_tls_security_level\?$/),
      expect.stringMatching(/: sender\.masterCf: \S+\/postfix-values-master\.cf:3:30: -o smtp_tls_security_level: "sometimes" is not/),
      expect.stringMatching(/: sender\.masterCf: \S+\/postfix-values-master\.cf:4:6: -o smtp_tls_securty_level: unknown Postfix parameter .*did you mean smtp_tls_security_level\?$/),
      expect.stringMatching(/: receiver\.mainCf: \S+\/postfix-values-receiver-main\.cf:1:28: smtpd_tls_security_level: "verify" is not a TLS security level of a Postfix server/),
    ]);
    expect(result.containersCreated).toEqual([]);
  });

  test("run refuses the same file before it starts anything", async () => {
    const result = await runAndWatchDocker(["run", `${POSTFIX_VALUES}/sometimes.yaml`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${POSTFIX_VALUES}/sometimes.yaml:3:48: sender.postconf.smtp_tls_security_level: "sometimes" is not`);
    expect(result.containersCreated).toEqual([]);
    expect(result.leftOver).toEqual({ containers: [], networks: [] });
  });
});

describe("runs against real Postfix containers", () => {
  let tmp: string;
  // Each invocation starts its own world; they run side by side to keep the file short.
  let passing: CliProcess;
  let wrong: CliProcess;
  let explained: CliProcess;
  let shards: CliProcess[];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "starttls-lab-cli-"));
    passing = new CliProcess(["run", `${CLI_FIXTURES}/passes.yaml`, "--report", `json=${tmp}/pass/r.json`, "--report", `junit=${tmp}/pass/r.xml`, "--report", `html=${tmp}/pass/r.html`]);
    wrong = new CliProcess(["run", `${CLI_FIXTURES}/wrong.yaml`, "--report", `junit=${tmp}/wrong/r.xml`]);
    explained = new CliProcess(["explain", "scenarios/founding-story.yaml", "--only", "fixed"]);
    shards = [1, 2].map((k) => new CliProcess(["run", `${CLI_FIXTURES}/several.yaml`, "--shard", `${k}/2`, "--report", `json=${tmp}/shard-${k}.json`]));
  });

  afterAll(async () => {
    for (const run of [passing, wrong, explained, ...(shards ?? [])]) {
      if (!run) continue;
      run.kill("SIGKILL");
      await run.finished().catch(() => undefined);
      await removeOwnedBy(run.pid);
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("one passing scenario: exit 0, a JSON report of exactly the documented shape, JUnit with no failure, and the HTML page", async () => {
    const result = await passing.finished();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lastLine(result.stdout)).toBe("1 passed, 0 failed");

    const report = JSON.parse(await readFile(`${tmp}/pass/r.json`, "utf8")) as JsonReport;
    expect(Object.keys(report)).toEqual(["scenarios", "summary"]);
    expect(report.scenarios).toHaveLength(1);
    const scenario = report.scenarios[0]!;
    // DESIGN.md's keys, plus only the documented extras (world, differences, error, flags, evidence).
    expect(Object.keys(scenario)).toEqual(expect.arrayContaining(["file", "name", "passed", "expected", "observed", "durationMs"]));
    expect(Object.keys(scenario).filter((key) => !["file", "name", "passed", "expected", "observed", "durationMs"].includes(key))).toEqual(["world", "differences", "evidence", "definition"]);
    // The providers' software as read from the running containers: the default release, 3.10 on Debian 13's OpenSSL 3.5.
    for (const role of ["sender", "receiver"] as const) {
      expect(scenario.world?.[role]).toEqual({ mta: "postfix", release: "3.10", version: expect.stringMatching(/^3\.10\.\d+$/), tls: expect.stringMatching(/^OpenSSL 3\.5\./) });
    }
    expect(scenario).toMatchObject({
      file: `${CLI_FIXTURES}/passes.yaml`,
      name: "Both providers at may deliver over TLS",
      passed: true,
      expected: { outcome: "delivered", transport: "tls" },
      differences: [],
    });
    const observed = scenario.observed!;
    expect(Object.keys(observed).sort()).toEqual(["headers", "outcome", "relayedBy", "tls", "transport", "wire"]);
    expect(observed).toEqual({
      outcome: "delivered",
      transport: "tls",
      relayedBy: "sender",
      // TLS-Required is always looked for in the stored copy; this message did not carry it.
      headers: {},
      tls: { version: "TLSv1.3", cipher: expect.stringMatching(/^TLS_/), trust: "trusted", peerName: "mx.iroco.test", keyExchange: expect.stringMatching(/x25519/i) },
      wire: { plaintextBody: false, mode: "pass", attackerReadBody: false, keyExchange: expect.stringMatching(/x25519/i), hops: [expect.objectContaining({ id: expect.any(Number), mode: "pass" })] },
    });
    // The eavesdropper's transcript of the one connection: the offer, the switch, and encrypted records.
    const events: Array<{ kind: string; line?: string }> = observed.wire!.hops[0]!.transcript.events;
    expect(events.map((event) => event.kind)).toEqual(expect.arrayContaining(["smtp", "starttls", "tls-handshake", "tls-data", "closed"]));
    expect(events.some((event) => event.kind === "smtp" && event.line?.startsWith("MAIL FROM"))).toBe(false);
    // The evidence: each line with its witness, and what the harness read from the sender's TLS line.
    const evidence = (scenario.evidence ?? []) as Array<{ source: string; line: string; event?: { kind?: string; trust?: string } }>;
    expect(evidence.map((item) => item.source)).toEqual(expect.arrayContaining(["sender-log", "receiver-log", "wire", "dns-log", "mailbox", "harness"]));
    const judged = evidence.find((item) => item.event?.kind === "tlsEstablished");
    expect(judged).toMatchObject({ source: "sender-log", event: { trust: "trusted" } });
    expect(judged?.line).toContain("Trusted TLS connection established to mx.iroco.test");
    expect(Number.isInteger(scenario.durationMs) && scenario.durationMs > 0).toBe(true);
    expect(Object.keys(report.summary)).toEqual(["passed", "failed", "durationMs"]);
    expect(report.summary).toEqual({ passed: 1, failed: 0, durationMs: expect.any(Number) });
    expect(report.summary.durationMs).toBeGreaterThanOrEqual(scenario.durationMs);

    const junit = parseJunit(await readFile(`${tmp}/pass/r.xml`, "utf8"));
    expect(junit.testsuites).toMatchObject({ tests: "1", failures: "0", errors: "0" });

    const html = await readFile(`${tmp}/pass/r.html`, "utf8");
    expect(html).toContain("Both providers at may deliver over TLS");
    const diagram = /<svg[\s\S]*<\/svg>/.exec(html)?.[0] ?? "";
    expect(diagram).toContain("STARTTLS accepted (220)");
    expect(diagram).toContain("READABLE BY ANYONE ON THE WIRE");
    expect(diagram).toContain("ENCRYPTED");

    expect(await ownedBy(result.pid)).toEqual({ containers: [], networks: [] });
  });

  test("a wrong expectation: exit 1, the FAIL row and the difference, last line `0 passed, 1 failed`, JUnit failures=1", async () => {
    const result = await wrong.finished();
    expect(result.code).toBe(1);
    const lines = result.stdout.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^✗ \[1\/1\] Wrongly expects TLS delivery to a receiver without STARTTLS: deferred: /));
    expect(lines).toContainEqual(
      expect.stringMatching(/^\s+outcome: expected delivered, observed deferred: TLS is required, but was not offered by host mx\.iroco\.test/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^\| FAIL +\| Wrongly expects TLS delivery .*\| delivered over TLS +\| deferred: TLS is required/));
    expect(lastLine(result.stdout)).toBe("0 passed, 1 failed");

    const junit = parseJunit(await readFile(`${tmp}/wrong/r.xml`, "utf8"));
    expect(junit.testsuites).toMatchObject({ tests: "1", failures: "1", errors: "0" });

    expect(await ownedBy(result.pid)).toEqual({ containers: [], networks: [] });
  });

  test("two shards split the file, each scenario in one, and merge gives the run one machine would have reported", async () => {
    const loaded = await loadScenarioFiles([`${CLI_FIXTURES}/several.yaml`]);
    const shardNames: string[][] = [];
    for (const [index, shard] of shards.entries()) {
      const result = await shard.finished();
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`shard ${index + 1}/2: 3 of 6 scenarios`);
      const report = JSON.parse(await readFile(`${tmp}/shard-${index + 1}.json`, "utf8")) as JsonReport;
      shardNames.push(report.scenarios.map((scenario) => scenario.name));
      expect(await ownedBy(result.pid)).toEqual({ containers: [], networks: [] });
    }
    expect(shardNames.flat().sort()).toEqual(loaded.map((scenario) => scenario.name).sort());

    const merged = await runCli(["merge", `${tmp}/shard-2.json`, `${tmp}/shard-1.json`, "--report", `json=${tmp}/merged.json`, "--report", `junit=${tmp}/merged.xml`]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(lastLine(merged.stdout)).toBe("6 passed, 0 failed");
    const report = JSON.parse(await readFile(`${tmp}/merged.json`, "utf8")) as JsonReport;
    // The order one machine runs them in: nearest state first, from the file's order.
    expect(report.scenarios.map((scenario) => scenario.name)).toEqual(orderByState(loaded).map((scenario) => scenario.name));
    expect(parseJunit(await readFile(`${tmp}/merged.xml`, "utf8")).testsuites).toMatchObject({ tests: "6", failures: "0", errors: "0" });

    const twice = await runCli(["merge", `${tmp}/shard-1.json`, `${tmp}/merged.json`]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/scenario "Several \d: .*" is in both .*shard-1\.json and .*merged\.json: these are not shards of one run/);
  });

  test("explain --only fixed: exit 0, the story, the settings, the real dialogue on the wire, and the TLS line with its gloss", async () => {
    const result = await explained.finished();
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^Scenario: Founding story, fixed: Bob's provider offers STARTTLS\n/);
    expect(out).toContain("The fix on Bob's side: offer STARTTLS");
    expect(out).toMatch(/Alice's provider \(sender\), certificate valid \(rsa\):\n\s+smtp_tls_security_level = encrypt\n/);
    expect(out).toMatch(/Bob's provider \(receiver\), certificate valid \(rsa\):\n\s+smtpd_tls_security_level = may\n/);
    expect(out).toMatch(
      /Trusted TLS connection established to mx\.iroco\.test\[[\d.]+\]:25: TLSv1\.3 with cipher \S+.*\n\s+↳ STARTTLS taken: TLSv1\.3 with \S+\. Trusted = the certificate chains to a trusted CA/,
    );
    // The lesson: the real dialogue, where the clear text ends, what the eavesdropper could read.
    expect(out).toMatch(/<- +220 mx\.iroco\.test ESMTP/);
    expect(out).toMatch(/<- +250-STARTTLS +« the server offers STARTTLS/);
    expect(out).toMatch(/ -> STARTTLS +« Alice's provider takes the offer/);
    expect(out).toContain("---- from here on: encrypted (TLS) ----");
    expect(out).toMatch(/<-> \d+ records, [\d.]+ kB the eavesdropper cannot read/);
    expect(out).toContain("What an eavesdropper could read:");
    expect(out).toMatch(/it could not read the body,\s+nor the envelope/);
    expect(out).toContain("PASS: real Postfix did what the scenario expects.");

    expect(await ownedBy(result.pid)).toEqual({ containers: [], networks: [] });
  });

  test("explain on a file with several scenarios and no --only: exit 2, listing them", async () => {
    const result = await runAndWatchDocker(["explain", "scenarios/founding-story.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("scenarios/founding-story.yaml holds 2 scenarios; pick one with --only NAME:");
    expect(result.stderr).toContain("\n  Founding story: Alice's provider requires TLS, Bob's provider offers none\n");
    expect(result.stderr).toContain("\n  Founding story, fixed: Bob's provider offers STARTTLS\n");
    expect(result.containersCreated).toEqual([]);
  });
});

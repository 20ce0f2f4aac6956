/**
 * From a customer's input to a green fix, as support staff do it: `diagnose
 * --write` on a bounce and on a log excerpt, then `run` on what it wrote,
 * against real Postfix. Each written case must fail the way the customer saw
 * it (its expectation holds) and its fix must deliver.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { JsonReport } from "../../src/report/json.js";
import { runCli } from "./helpers/cli.js";

const HANDWRITTEN = "test/fixtures/diagnose/handwritten";
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "starttls-lab-diagnose-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("exit 1 and nothing written for what is not a TLS problem; exit 2 for bad usage", async () => {
  const file = path.join(dir, "never-written.yaml");
  const mailboxFull = await runCli(["diagnose", `${HANDWRITTEN}/negative-mailbox-full.eml`, "--write", file]);
  expect(mailboxFull.code).toBe(1);
  expect(mailboxFull.stdout).toMatch(/^not a TLS problem I recognise\./);
  await expect(readFile(file, "utf8")).rejects.toThrow(/ENOENT/);

  const twoFiles = await runCli(["diagnose", `${HANDWRITTEN}/gmail-530-bounce.txt`, `${HANDWRITTEN}/negative-random.txt`]);
  expect(twoFiles.code).toBe(2);
  expect(twoFiles.stderr).toContain("diagnose takes one FILE (or -)");

  const missing = await runCli(["diagnose", path.join(dir, "no-such-bounce.eml")]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("cannot read");
});

test("a Postfix DSN and a Postfix log, diagnosed and written, reproduce the customer's failure, and their fixes deliver", { timeout: 600_000 }, async () => {
  const cases = [
    { input: `${HANDWRITTEN}/postfix-dsn-tls-not-offered.eml`, file: path.join(dir, "not-offered.yaml") },
    { input: `${HANDWRITTEN}/postfix-log-untrusted-issuer.log`, file: path.join(dir, "untrusted-issuer.yaml") },
  ];
  for (const { input, file } of cases) {
    const diagnosed = await runCli(["diagnose", input, "--write", file]);
    expect(diagnosed.stderr).toBe("");
    expect(diagnosed.code).toBe(0);
    expect(diagnosed.stdout).toContain(`wrote ${file}`);
  }

  const json = path.join(dir, "run.json");
  const run = await runCli(["run", ...cases.map(({ file }) => file), "--workers", "1", "--report", `json=${json}`]);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const report = JSON.parse(await readFile(json, "utf8")) as JsonReport;
  const observed = Object.fromEntries(report.scenarios.map((scenario) => [scenario.name, scenario.observed]));

  expect(observed["Customer case: TLS required, STARTTLS not offered"]).toMatchObject({
    outcome: "deferred",
    reason: expect.stringContaining("TLS is required, but was not offered by host mx.iroco.test"),
  });
  expect(observed["Customer case, fixed: the receiving server offers STARTTLS"]).toMatchObject({ outcome: "delivered", transport: "tls" });
  // The log showed a TLS 1.2 session: the written case replays that version.
  expect(observed["Customer case: the server's certificate is not verified"]).toMatchObject({ outcome: "deferred", reason: "Server certificate not verified" });
  expect(observed["Customer case, fixed: the server presents a valid certificate"]).toMatchObject({
    outcome: "delivered",
    transport: "tls",
    tls: { version: "TLSv1.2", trust: "verified" },
  });
  expect(report.summary).toMatchObject({ passed: 4, failed: 0 });
});

/**
 * Regenerates the diagnose corpus (test/fixtures/diagnose/shipped/) from the
 * shipped scenarios' own evidence: what a customer could send us is what
 * these runs really logged, not text written by hand.
 *
 *   npx tsc -p tsconfig.build.json && node scripts/diagnose-corpus.mjs           # runs scenarios/ (a few minutes)
 *   node scripts/diagnose-corpus.mjs --report run.json                           # or reads `run --report json=run.json`
 *
 * Both give the same fixtures: the reason, then the evidence lines (the JSON
 * report's `evidence: [{ source, line }]`). Only the outcomes a customer
 * complains about become fixtures: not delivered, or delivered in plaintext.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}test/fixtures/diagnose/shipped/`;

/** Evidence records `{ source, line }`; plain strings in reports written before the records existed. */
const lineOf = (evidence) => (typeof evidence === "string" ? evidence : evidence.line);

/** One shape for both sources: { name, file, outcome, transport, reason, evidence: string[] }. */
async function fromReport(file) {
  const report = JSON.parse(await readFile(file, "utf8"));
  return report.scenarios
    .filter((entry) => entry.observed !== null)
    .map((entry) => ({
      name: entry.name,
      file: entry.file,
      outcome: entry.observed.outcome,
      transport: entry.observed.transport,
      reason: entry.observed.reason,
      evidence: (entry.evidence ?? []).map(lineOf),
    }));
}

async function fromRun() {
  const { loadScenarioFiles } = await import(`${root}dist/scenario/load.js`);
  const { runScenarios } = await import(`${root}dist/runner.js`);
  const scenarios = await loadScenarioFiles(["scenarios"], { cwd: root });
  const run = await runScenarios(scenarios, {
    workers: 2,
    listener: { scenarioFinished: (index, total, result) => process.stderr.write(`[${index + 1}/${total}] ${result.scenario.name}\n`) },
  });
  return run.results
    .filter((result) => result.observation !== undefined)
    .map(({ scenario, observation }) => ({
      name: scenario.name,
      file: scenario.source.file,
      outcome: observation.outcome,
      transport: observation.transport,
      reason: observation.reason,
      evidence: observation.evidence.map(lineOf),
    }));
}

const complaint = (entry) => entry.outcome !== "delivered" || entry.transport === "plaintext";

const slug = (name) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

const { values } = parseArgs({ options: { report: { type: "string" } } });
const entries = (values.report ? await fromReport(values.report) : await fromRun()).filter(complaint);
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const index = [];
for (const entry of entries) {
  const fixture = `${slug(entry.name)}.txt`;
  // The reason first, as a customer quotes it; then the log lines that back it.
  const text = [...(entry.reason ? [entry.reason] : []), ...entry.evidence].join("\n") + "\n";
  await writeFile(`${out}${fixture}`, text);
  index.push({ fixture, scenario: entry.name, file: entry.file, outcome: entry.outcome, ...(entry.transport ? { transport: entry.transport } : {}) });
}
await writeFile(`${out}index.json`, JSON.stringify(index, null, 2) + "\n");
process.stdout.write(`wrote ${index.length} fixture(s) to ${out}\n`);

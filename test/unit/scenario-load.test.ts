import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadScenarioFiles, loadScenarioText, ScenarioError } from "../../src/scenario/load.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = "test/fixtures/scenarios";
const load = (paths: string[], cwd = repo) => loadScenarioFiles(paths, { cwd });

async function errorOf(loading: Promise<unknown>): Promise<ScenarioError> {
  const error = await loading.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ScenarioError);
  return error as ScenarioError;
}

describe("good scenario files", () => {
  it("load from a directory, recursively, *.yaml and *.yml, in sorted order", async () => {
    const scenarios = await load([`${fixtures}/good`]);
    expect(scenarios.map(({ source }) => source.file)).toEqual([
      `${fixtures}/good/more/minimal.yml`,
      ...Array(9).fill(`${fixtures}/good/security-levels.yaml`),
      `${fixtures}/good/support-case.yaml`,
      `${fixtures}/good/support-case.yaml`,
    ]);
  });

  it("may hold several documents, each a scenario with the line it starts on", async () => {
    const scenarios = await load([`${fixtures}/good/support-case.yaml`]);
    expect(scenarios.map(({ name, source }) => [name, source.line])).toEqual([
      ["Bob's provider offers no STARTTLS, Alice's provider requires it", 2],
      ["The fix - Bob's provider offers STARTTLS", 15],
    ]);
    expect(scenarios[0]?.expect).toEqual({
      outcome: "deferred",
      reason: { kind: "substring", text: "TLS is required, but was not offered" },
    });
    expect(scenarios[1]?.sender.postconf).toEqual({
      smtp_tls_security_level: "encrypt",
      smtp_tls_loglevel: "1",
      smtp_tls_note_starttls_offer: "yes",
    });
  });

  it("name files relative to the working directory", async () => {
    const [scenario] = await load(["good/more/minimal.yml"], path.join(repo, fixtures));
    expect(scenario?.source).toEqual({ file: "good/more/minimal.yml", line: 1 });
  });

  it("are loaded once even when named twice", async () => {
    const scenarios = await load([`${fixtures}/good/more`, `${fixtures}/good/more/minimal.yml`]);
    expect(scenarios).toHaveLength(1);
  });
});

describe("each broken fixture gives one problem at its file, line and field", () => {
  const broken = `${fixtures}/broken`;
  it.each([
    ["unknown-key.yaml", "2:1: recever: unknown key (allowed here: name, story, sender, receiver, wire, dns, attempts, events, message, expect, matrix)"],
    ["wrong-type.yaml", "3:13: sender.postconf: expected a mapping of keys to values, got string"],
    ["bad-enum.yaml", '3:12: expect.outcome: Invalid option: expected one of "delivered"|"deferred"|"bounced"|"rejected"'],
    ["yaml-syntax.yaml", "4:1: YAML: Flow map in block collection must be sufficiently indented and end with a }"],
    ["matrix-missing-cell.yaml", "6:3: matrix.cells: no cell for sender=verify, receiver=none"],
    ["matrix-overlap.yaml", "11:7: matrix.cells[2].when: sender=none, receiver=may also covered by matrix.cells[0] (line 7)"],
    ["matrix-unknown-value.yaml", "8:35: matrix.cells[1].when.receiver[1]: verify is not a value of axis receiver (none, may, encrypt)"],
    ["matrix-bad-axis-value.yaml", '8:7: receiver.certificate: Invalid option: expected one of "valid"|"expired"|"not-yet-valid"|"wrong-name"|"self-signed"|"unknown-ca"|"missing-intermediate"|"with-intermediate" (value bogus of matrix axis certificate)'],
    ["plaintext-with-tls.yaml", "5:3: expect.tls: contradicts transport: plaintext (no TLS session to check)"],
    ["delivered-with-reason.yaml", "5:11: expect.reason: a delivered message has no reason; reason is for deferred, bounced or rejected"],
    ["auth-on-port-25.yaml", "3:46: message.via.auth: no AUTH on port 25 in this world (AUTH needs submissions on 465); use auth: false or port: 465"],
    ["empty.yaml", "1: empty file; expected one or more scenario documents"],
    ["binary.yaml", "2: binary file (NUL byte); a scenario file is YAML text"],
    [
      "duplicate-names.yaml",
      `4: name: duplicate scenario name "Same name twice" (also at ${broken}/duplicate-names.yaml:1)`,
    ],
  ])("%s", async (file, problem) => {
    const error = await errorOf(load([`${broken}/${file}`]));
    expect(error.message).toBe(`${broken}/${file}:${problem}`);
    expect(error.problems).toHaveLength(1);
  });

  it("bad-regex.yaml", async () => {
    const error = await errorOf(load([`${broken}/bad-regex.yaml`]));
    expect(error.message).toMatch(
      /^test\/fixtures\/scenarios\/broken\/bad-regex\.yaml:6:11: expect\.reason: invalid regular expression \/Must issue \(a STARTTLS\/: .*Unterminated group$/,
    );
    expect(error.problems).toHaveLength(1);
  });
});

describe("problems", () => {
  it("are all collected, in the order of the file, not just the first", () => {
    const text = "name: One\nsender: { certificate: bogus }\nexpect: { outcome: delivered }\n---\nname: Two\nexpect: { outcome: lost }\n";
    const error = (() => {
      try {
        loadScenarioText(text, "many.yaml");
      } catch (thrown) {
        return thrown as ScenarioError;
      }
      throw new Error("expected a ScenarioError");
    })();
    expect(error.message.split("\n")).toEqual([
      'many.yaml:2:24: sender.certificate: Invalid option: expected one of "valid"|"expired"|"not-yet-valid"|"wrong-name"|"self-signed"|"unknown-ca"|"missing-intermediate"|"with-intermediate"',
      "many.yaml:3:1: expect.transport: required when the outcome is delivered: tls or plaintext",
      'many.yaml:6:20: expect.outcome: Invalid option: expected one of "delivered"|"deferred"|"bounced"|"rejected"',
    ]);
    expect(error.problems[0]).toEqual({
      file: "many.yaml",
      line: 2,
      column: 24,
      field: "sender.certificate",
      message: 'Invalid option: expected one of "valid"|"expired"|"not-yet-valid"|"wrong-name"|"self-signed"|"unknown-ca"|"missing-intermediate"|"with-intermediate"',
    });
  });

  it("name a missing key at the line of its parent mapping", () => {
    expect(() => loadScenarioText("name: x\nexpect:\n  transport: tls\n", "missing.yaml")).toThrow(
      'missing.yaml:2:1: expect.outcome: required: one of "delivered"|"deferred"|"bounced"|"rejected"',
    );
  });
});

describe("files that cannot be scenario files", () => {
  let scratch: string;
  beforeEach(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "scenario-load-"));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("a path that does not exist", async () => {
    const error = await errorOf(load(["scenarios/nowhere.yaml"], scratch));
    expect(error.message).toBe("scenarios/nowhere.yaml: no such file or directory");
  });

  it("a directory without scenario files", async () => {
    await mkdir(path.join(scratch, "empty"));
    await writeFile(path.join(scratch, "empty", "notes.txt"), "not yaml");
    const error = await errorOf(load(["empty"], scratch));
    expect(error.message).toBe("empty: no *.yaml or *.yml file in this directory");
  });

  it("a file over 1 MiB", async () => {
    await writeFile(path.join(scratch, "huge.yaml"), `name: huge\nstory: ${"x".repeat(1024 * 1024)}\n`);
    const error = await errorOf(load(["huge.yaml"], scratch));
    expect(error.message).toMatch(/^huge\.yaml: file too large \(\d+ bytes; a scenario file is at most 1 MiB\)$/);
  });

  it("a file that is not UTF-8", async () => {
    await writeFile(path.join(scratch, "latin1.yaml"), Buffer.from("name: caf\xe9\n", "latin1"));
    const error = await errorOf(load(["latin1.yaml"], scratch));
    expect(error.message).toBe("latin1.yaml: not UTF-8 text; a scenario file is YAML text in UTF-8");
  });

  it("a file of comments only", async () => {
    await writeFile(path.join(scratch, "comments.yaml"), "# to do\n---\n# later\n");
    const error = await errorOf(load(["comments.yaml"], scratch));
    expect(error.message).toBe("comments.yaml:1: no scenario in this file (only comments or empty documents)");
  });

  it("the same name in two files, naming both places", async () => {
    const scenario = "name: Twice\nexpect: { outcome: delivered, transport: tls }\n";
    await writeFile(path.join(scratch, "a.yaml"), scenario);
    await writeFile(path.join(scratch, "b.yaml"), `# the same again\n${scenario}`);
    const error = await errorOf(load(["."], scratch));
    expect(error.message).toBe('b.yaml:2: name: duplicate scenario name "Twice" (also at a.yaml:1)');
  });

  it("every bad path and file is reported together", async () => {
    await writeFile(path.join(scratch, "empty.yaml"), "");
    const error = await errorOf(load(["missing.yaml", "empty.yaml"], scratch));
    expect(error.message.split("\n")).toEqual([
      "missing.yaml: no such file or directory",
      "empty.yaml:1: empty file; expected one or more scenario documents",
    ]);
  });
});

/**
 * README "As a library": `import { MailWorld } from "starttls-lab"` in a
 * user's own script starts a world the same way the CLI and
 * `starttls-lab/vitest` do, with nothing set in the environment. Without the
 * harness's testcontainers defaults, testcontainers would start (and first
 * pull) its reaper image, which fails on a machine without a registry.
 */
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { CliProcess, endChildren, childEnv, REPO_ROOT } from "./helpers/cli.js";
import { ownedBy, removeOwnedBy } from "./helpers/docker.js";

const SCRIPT = path.join(REPO_ROOT, "test", "fixtures", "library", "start-world.mjs");

/** The environment of a user who never heard of testcontainers' variables. */
function envWithoutTestcontainers(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(childEnv()).filter(([name]) => !name.startsWith("TESTCONTAINERS_")));
}

const children: CliProcess[] = [];

afterEach(async () => {
  await endChildren(children, removeOwnedBy);
});

test("a plain node script imports MailWorld from the package, starts a world and stops it", async () => {
  const env = envWithoutTestcontainers();
  expect(Object.keys(env).filter((name) => name.startsWith("TESTCONTAINERS_"))).toEqual([]);
  const script = new CliProcess([], SCRIPT, env);
  children.push(script);

  const ended = await script.finishedWithin(240_000, "the library script");
  expect(ended.stderr).toBe("");
  expect(ended.code).toBe(0);
  const lines = ended.stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^world \S+ on starttls-lab-\S+$/);
  // Set by the world as it started, not by anyone before it.
  expect(lines[1]).toBe("ryuk disabled=true host=localhost");
  expect(lines[2]).toBe("stopped");
  expect(await ownedBy(script.pid)).toEqual({ containers: [], networks: [] });
});

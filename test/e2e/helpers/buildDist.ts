/**
 * vitest's global setup for the end-to-end projects: compiles src/ into dist/
 * once, before any test file runs. The e2e files run in parallel workers and
 * start `node dist/cli.js` (and the package's self-reference) as children; a
 * build inside one file would rewrite dist/ under another file's running
 * child, so no test file builds.
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withLock } from "../../../src/world/buildLock.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Both e2e projects (vitest.config.ts) name this setup, and vitest loads it
 * once per project in its one main process: the first call builds, the other
 * finds it done there. The lock keeps two vitest runs' builds apart.
 */
const BUILT = Symbol.for("starttls-lab.e2e.dist-built");

export default async function buildDist(): Promise<void> {
  const main = globalThis as { [BUILT]?: Promise<void> };
  main[BUILT] ??= build();
  await main[BUILT];
}

async function build(): Promise<void> {
  await withLock(path.join(os.tmpdir(), "starttls-lab-e2e"), "build-dist", async () => {
    const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: REPO_ROOT, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${result.stdout}${result.stderr}`);
  });
}

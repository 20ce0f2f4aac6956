import { defineConfig } from "vitest/config";
import { LongestFirst } from "./test/longestFirst.js";

/**
 * Files that watch what any starttls-lab process leaves in Docker: a run they
 * kill must still have its leftovers when they look, and any world starting
 * beside them (another file's) removes dead runs' leftovers first.
 */
const ALONE = "test/e2e/cleanup.test.ts";

export default defineConfig({
  test: {
    // The end-to-end files mostly wait on real servers (SMTP, queues, logs),
    // not on the CPU: vitest's default on two cores is one file at a time.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    // End-to-end files share one world per file and start real containers.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    env: {
      TESTCONTAINERS_RYUK_DISABLED: "true",
      TESTCONTAINERS_HOST_OVERRIDE: "localhost",
    },
    projects: [
      // Unit files share each worker's loaded modules (no fresh module graph per file): a third less CPU for the
      // project, what CI is short of. They keep no state between files; any that must, restores it (afterAll).
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], isolate: false } },
      {
        extends: true,
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], exclude: [ALONE], globalSetup: ["test/e2e/helpers/buildDist.ts", "test/e2e/helpers/worldPoolSetup.ts"] },
      },
      // vitest runs a one-worker project's files after all the others, with nothing beside them.
      { extends: true, test: { name: "e2e-alone", include: [ALONE], maxWorkers: 1, globalSetup: ["test/e2e/helpers/buildDist.ts"] } },
    ],
  },
});

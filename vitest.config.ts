import { defineConfig } from "vitest/config";
import { LongestFirst } from "./test/longestFirst.js";

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
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], globalSetup: ["test/e2e/helpers/buildDist.ts"] } },
    ],
  },
});

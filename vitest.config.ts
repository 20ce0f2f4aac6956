import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // End-to-end files share one world per file and start real containers.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    env: {
      TESTCONTAINERS_RYUK_DISABLED: "true",
      TESTCONTAINERS_HOST_OVERRIDE: "localhost",
    },
  },
});

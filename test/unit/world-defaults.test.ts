import { describe, expect, it } from "vitest";
import { applyTestcontainersDefaults } from "../../src/world/testcontainersDefaults.js";

describe("the testcontainers settings a world starts with", () => {
  it("sets no reaper and the loopback host when the user set nothing", () => {
    const env: NodeJS.ProcessEnv = { PATH: "/usr/bin" };
    applyTestcontainersDefaults(env);
    expect(env).toEqual({ PATH: "/usr/bin", TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" });
  });

  it("keeps what the user set", () => {
    const env: NodeJS.ProcessEnv = { TESTCONTAINERS_RYUK_DISABLED: "false", TESTCONTAINERS_HOST_OVERRIDE: "docker.example.test" };
    applyTestcontainersDefaults(env);
    expect(env).toEqual({ TESTCONTAINERS_RYUK_DISABLED: "false", TESTCONTAINERS_HOST_OVERRIDE: "docker.example.test" });
  });
});

/**
 * A vitest fixture for users' own tests: `worldTest` is vitest's `test`
 * extended with a `world` that starts once per test file and is stopped
 * after its last test, so every test in the file shares the containers.
 *
 *   import { worldTest, scenarioFromYaml, runScenario } from "starttls-lab/vitest";
 *   worldTest("my relay uses TLS", async ({ world }) => { … });
 */
import { test } from "vitest";
import { MailWorld, type WorldOptions } from "./world/world.js";

export function worldTestWith(options: WorldOptions = {}) {
  // vitest reads a fixture's dependencies from its first parameter's destructuring: none here.
  // eslint-disable-next-line no-empty-pattern
  return test.extend("world", { scope: "file" }, async ({}, { onCleanup }) => {
    const world = await MailWorld.start(options);
    onCleanup(() => world.stop());
    return world;
  });
}

export const worldTest = worldTestWith();

export { runScenario, runScenarios, applyScenario } from "./runner.js";
export { scenarioFromYaml } from "./scenario/inline.js";
export { MailWorld } from "./world/world.js";

/**
 * The lab's guided lesson promises a prediction at every step; each must be
 * what real Postfix does, or the lesson teaches something false. And when
 * the lab's world cannot start, the learner is told so, and the next Send
 * tries again.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { scenarioPassed } from "../../src/core/result.js";
import { choicesToScenario } from "../../src/lab/choices.js";
import { LESSON } from "../../src/lab/lesson.js";
import { LabSession, type LabEvent } from "../../src/lab/session.js";
import { runScenarios } from "../../src/runner.js";
import { worldPool } from "./helpers/worldPool.js";

test("every step of the guided lesson predicts what real Postfix does", async () => {
  const scenarios = LESSON.map((step, index) => choicesToScenario(step.choices, index + 1).scenario);
  const run = await runScenarios(scenarios, { workers: 1, worlds: worldPool });
  const verdicts = run.results.map((result, index) => ({ step: LESSON[index]!.title, passed: scenarioPassed(result), error: result.error, differences: result.verdict.differences }));
  expect(verdicts.filter((verdict) => !verdict.passed)).toEqual([]);
  expect(verdicts).toHaveLength(8);
}, 600_000);

test("a world that cannot start: the learner sees why, the run fails with that reason, and the next Send tries again", async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "starttls-lab-lesson-"));
  // A cache folder that is a file: the world's certificates cannot be kept, so it cannot start.
  const notAFolder = path.join(tmp, "cache");
  await writeFile(notAFolder, "not a folder\n");
  const session = new LabSession({ cacheDir: notAFolder });
  const events: LabEvent[] = [];
  session.subscribe((event) => events.push(event));
  const finished = (id: number) =>
    new Promise<Extract<LabEvent, { type: "run" }>["run"]>((resolve) => {
      const stop = session.subscribe((event) => {
        if (event.type === "run" && event.run.id === id && event.run.status === "finished") {
          stop();
          resolve(event.run);
        }
      });
    });
  try {
    const first = session.submit(LESSON[0]!.choices);
    const run = await finished(first.id);
    expect(run.outcome?.kind).toBe("failed");
    expect(run.outcome?.headline).toMatch(/^The run failed: the world could not start: .*cache/);
    expect(run.outcome?.predictionHeld).toBe(false);
    const worldStates = events.flatMap((event) => (event.type === "world" ? [event.world.state] : []));
    expect(worldStates[0]).toBe("starting");
    expect(worldStates.at(-1)).toBe("failed");

    const second = session.submit(LESSON[0]!.choices);
    await finished(second.id);
    const again = events.flatMap((event) => (event.type === "world" ? [event.world.state] : []));
    // The failed start was forgotten: the second Send started the world again (and failed the same way).
    expect(again.filter((state) => state === "starting").length).toBeGreaterThan(worldStates.filter((state) => state === "starting").length);
    expect(again.at(-1)).toBe("failed");
  } finally {
    await session.close();
    await rm(tmp, { recursive: true, force: true });
  }
}, 120_000);

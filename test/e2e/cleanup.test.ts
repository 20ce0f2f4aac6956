/**
 * DESIGN.md, "Reliability": every container and network carries its run's
 * labels; a run killed outright leaves them behind until `clean` or the next
 * world removes them; SIGINT removes the run's own containers on the way out.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { MailWorld } from "../../src/world/world.js";
import { CliProcess, endChildren, nameInResultLine, resultLines, runCli } from "./helpers/cli.js";
import { ownedBy, removeOwnedBy } from "./helpers/docker.js";

/** Six passing scenarios: long enough (~3 s each) that the run is surely still going when we strike. */
const SEVERAL = "test/fixtures/scenarios/cli/several.yaml";

const children: CliProcess[] = [];
const worlds: MailWorld[] = [];
const tmpDirs: string[] = [];

function spawnCli(args: string[]): CliProcess {
  const child = new CliProcess(args);
  children.push(child);
  return child;
}

afterEach(async () => {
  await endChildren(children, removeOwnedBy);
  for (const world of worlds.splice(0)) await world.stop();
  for (const dir of tmpDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Starts a run and kills it with SIGKILL once its world is up; returns what it left behind. */
async function killedRun() {
  // One world: four containers (dns, sender, receiver, wire) and a network to find.
  const run = spawnCli(["run", SEVERAL, "--workers", "1"]);
  await run.waitForLine((line) => line.startsWith("world ready"), "the world was ready");
  const whileRunning = await ownedBy(run.pid);
  run.kill("SIGKILL");
  const ended = await run.finished();
  const afterKill = await ownedBy(run.pid);
  return { run, ended, whileRunning, afterKill };
}

describe("a run killed with SIGKILL", () => {
  test("leaves its containers and network behind, and `clean` removes them and says which", async () => {
    const { run, ended, whileRunning, afterKill } = await killedRun();
    expect(ended.signal).toBe("SIGKILL");
    expect(whileRunning.containers).toHaveLength(4);
    expect(whileRunning.networks).toHaveLength(1);
    // Nobody cleaned up: a killed process runs no handler.
    expect(afterKill).toEqual(whileRunning);

    const cleaned = await runCli(["clean"]);
    expect(cleaned.code).toBe(0);
    for (const container of whileRunning.containers) expect(cleaned.stdout).toContain(container.name);
    for (const network of whileRunning.networks) expect(cleaned.stdout).toContain(network.name);
    expect(cleaned.stdout).toMatch(/^removed \d+ container\(s\): .*\nremoved \d+ network\(s\): .*\n$/);
    expect(await ownedBy(run.pid)).toEqual({ containers: [], networks: [] });
  });

  test("leaves its containers behind until the next world starts, which removes them", async () => {
    const { run, whileRunning, afterKill } = await killedRun();
    expect(whileRunning.containers).toHaveLength(4);
    expect(afterKill).toEqual(whileRunning);

    const progress: string[] = [];
    const world = await MailWorld.start({ onProgress: (step) => progress.push(step) });
    worlds.push(world);
    expect(await ownedBy(run.pid)).toEqual({ containers: [], networks: [] });
    expect(progress).toContainEqual(expect.stringMatching(/^removed \d+ container\(s\) left by runs that died$/));

    // The new world's own containers are labelled with this process and go away with stop().
    expect((await ownedBy(process.pid)).containers.map((c) => c.name)).toEqual(
      expect.arrayContaining([`starttls-lab-${world.runId}-sender`, `starttls-lab-${world.runId}-receiver`, `starttls-lab-${world.runId}-wire`, `starttls-lab-${world.runId}-dns`]),
    );
    await world.stop();
    const mine = await ownedBy(process.pid);
    expect(mine.containers.filter((c) => c.name.includes(world.runId))).toEqual([]);
    expect(mine.networks.filter((n) => n.name === world.networkName)).toEqual([]);
  });
});

describe("a run interrupted with SIGINT", () => {
  test("exits 130, removes its containers, and writes the report of the scenarios finished so far", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "starttls-lab-sigint-"));
    tmpDirs.push(tmp);
    const run = spawnCli(["run", SEVERAL, "--workers", "1", "--report", `json=${tmp}/partial.json`]);
    await run.waitForLine((line) => /^[✓✗] /.test(line), "the first scenario finished");
    expect((await ownedBy(run.pid)).containers).toHaveLength(4);
    run.kill("SIGINT");

    const ended = await run.finishedWithin(15_000, "after SIGINT");
    // A scenario may finish between our look and the signal: what counts is what the run printed as finished.
    const finishedBeforeSignal = resultLines(ended.stdout).map(nameInResultLine);
    // Soft: an interrupted run owes all of these at once; report every one that is missing.
    expect.soft(ended.code).toBe(130);
    expect.soft(ended.stderr).toContain("SIGINT: stopping; removing this run's containers");
    expect.soft(await ownedBy(run.pid)).toEqual({ containers: [], networks: [] });

    expect(finishedBeforeSignal.length).toBeGreaterThanOrEqual(1);
    expect(finishedBeforeSignal.length).toBeLessThan(6);
    const report = JSON.parse(await readFile(`${tmp}/partial.json`, "utf8")) as {
      scenarios: { name: string; passed: boolean; error?: string }[];
      summary: { passed: number; failed: number };
    };
    // Exactly the scenarios that had finished, not the one cut short nor those never started;
    // every one of them passes when it is allowed to run to its end.
    expect.soft(report.scenarios.map((s) => s.name)).toEqual(finishedBeforeSignal);
    expect.soft(report.scenarios.map((s) => ({ name: s.name, passed: s.passed, error: s.error }))).toEqual(
      report.scenarios.map((s) => ({ name: s.name, passed: true, error: undefined })),
    );
    expect.soft(report.summary).toMatchObject({ passed: report.scenarios.length, failed: 0 });
  });
});

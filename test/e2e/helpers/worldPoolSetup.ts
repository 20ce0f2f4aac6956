/**
 * vitest's global setup for the shared worlds (worldPool.ts): tells the test
 * files whose run the pooled worlds belong to, removes those of runs that
 * died, and removes this run's when it ends.
 */
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { processAlive } from "../../../src/world/buildLock.js";
import { dockerClient } from "../../../src/world/docker.js";
import { LABEL_KEPT, removeKeptWorld } from "../../../src/world/runLabels.js";

/** Where the pool keeps its locks and what each world's borrowers must pass on (worldPool.ts). */
export const POOL_DIR = path.join(os.tmpdir(), "starttls-lab-e2e", "pool");

/** What a world of the pool is called: `p<owner>-<sender release>-<receiver release>-<slot>`, e.g. p4242-310-37-0. */
export const POOL_NAME = /^p(\d+)-\d+-\d+-\d+$/;

/** What the borrowers of this pooled world pass on to the next (its WorldMemory). */
export function memoryFile(name: string): string {
  return path.join(POOL_DIR, `${name}.json`);
}

/** Removes the pooled worlds whose run `isDone` says is over, and what the pool wrote of them. */
async function removePools(isDone: (owner: number) => boolean): Promise<void> {
  const kept = await dockerClient().listContainers({ all: true, filters: { label: [LABEL_KEPT] } });
  const names = new Set(kept.map((info) => info.Labels[LABEL_KEPT]).filter((name): name is string => name !== undefined && POOL_NAME.test(name)));
  const done = [...names].filter((name) => isDone(Number(POOL_NAME.exec(name)![1])));
  await Promise.all(done.map(async (name) => {
    await removeKeptWorld(name);
    await rm(memoryFile(name), { force: true });
  }));
}

export default async function worldPoolSetup(project: TestProject): Promise<() => Promise<void>> {
  project.provide("worldPoolOwner", process.pid);
  await removePools((owner) => !processAlive(owner));
  return () => removePools((owner) => owner === process.pid);
}

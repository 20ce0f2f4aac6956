/**
 * What a world that stays up leaves for the commands that come after `up`
 * (apply, send, logs, status, down), which run in other processes: one JSON
 * file per world name under ~/.cache/starttls-lab/worlds, readable by its
 * owner only (it holds the mailbox passwords), and the CA beside it for the
 * admins' tools.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Scenario } from "../scenario/types.js";
import { WorldGoneError } from "../world/attach.js";
import { dockerClient } from "../world/docker.js";
import { LABEL_RUN } from "../world/runLabels.js";
import { defaultCacheDir, MailWorld, type WorldMemory } from "../world/world.js";
import { UsageError } from "./shared.js";

export const DEFAULT_WORLD_NAME = "default";

export interface WorldState {
  name: string;
  startedAt: string;
  memory: WorldMemory;
  /** The scenario whose state the world is in (`up` or the last `apply`): send submits its message and judges by its expectation. */
  applied: Scenario;
  /** The harness CA as a file, for swaks --tls-ca-path and openssl -CAfile. */
  caFile: string;
}

function worldsDir(): string {
  return path.join(defaultCacheDir(), "worlds");
}

/** How later commands name this world on the command line ("" for the default one). */
export function nameFlag(name: string): string {
  return name === DEFAULT_WORLD_NAME ? "" : ` --name ${name}`;
}

export function worldName(value: unknown): string {
  if (value === undefined) return DEFAULT_WORLD_NAME;
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9-]{0,30}$/.test(value)) {
    throw new UsageError(`--name takes lower-case letters, digits and dashes (up to 31), not "${String(value)}"`);
  }
  return value;
}

export function statePath(name: string): string {
  return path.join(worldsDir(), `${name}.json`);
}

export function caPath(name: string): string {
  return path.join(worldsDir(), `${name}-ca.pem`);
}

export async function readWorldState(name: string): Promise<WorldState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(name), "utf8")) as WorldState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export async function writeWorldState(state: WorldState, caCertPem: string): Promise<void> {
  await mkdir(worldsDir(), { recursive: true, mode: 0o700 });
  await writeFile(state.caFile, caCertPem, { mode: 0o644 });
  await writeFile(statePath(state.name), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

export async function forgetWorld(name: string): Promise<void> {
  await Promise.all([rm(statePath(name), { force: true }), rm(caPath(name), { force: true })]);
}

/** How many of the world's containers are running (4 when it is whole). */
export async function runningContainers(state: WorldState): Promise<number> {
  const running = await dockerClient().listContainers({ filters: { label: [`${LABEL_RUN}=${state.memory.runId}`], status: ["running"] } });
  return running.length;
}

export const WORLD_CONTAINERS = 4;

/** The named world's state, or a usage error saying how to start one. */
export async function requireWorldState(name: string): Promise<WorldState> {
  const state = await readWorldState(name);
  if (!state) throw new UsageError(`no world named "${name}" is up; start one with: starttls-lab up${nameFlag(name)}`);
  return state;
}

/** The named world, re-attached, with its state; a usage error when it is not up or its containers are gone. */
export async function attachWorld(name: string): Promise<{ state: WorldState; world: MailWorld }> {
  const state = await requireWorldState(name);
  try {
    return { state, world: await MailWorld.attach(state.memory) };
  } catch (error) {
    if (error instanceof WorldGoneError) {
      throw new UsageError(`world "${name}" is gone (${error.message}); forget it with: starttls-lab down${nameFlag(name)}`);
    }
    throw error;
  }
}

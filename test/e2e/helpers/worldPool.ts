/**
 * Worlds shared by the end-to-end test files. Starting a world costs about
 * 5.5 s of CPU, and the files run side by side on two cores: a file that
 * needs a Postfix world of a shape borrows one that an earlier file left,
 * instead of starting its own. A borrowed world is this file's alone (a lock
 * per world), put back into the state a world starts in, and re-attached in
 * this process (MailWorld.attach), so nothing this process knows of it comes
 * from another process's memory but its certificates and files, which the
 * last borrower wrote down when it gave the world back.
 *
 * The worlds are kept (the leftover sweeps leave them alone while files
 * come and go) under names carrying the pid of vitest's main process, which
 * removes them when the run ends (worldPoolSetup.ts); a run that died
 * leaves them to the next run's setup.
 *
 * Worlds with Exim or OpenSMTPD are not shared: MailWorld.attach knows
 * Postfix's state only. Those are started and stopped as before.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { inject, test } from "vitest";
import { closeMailboxSessions } from "../../../src/drive/mailbox.js";
import { applyScenario, FRESH_WORLDS, type WorldSource } from "../../../src/runner.js";
import { scenarioFromYaml } from "../../../src/scenario/inline.js";
import { WorldGoneError } from "../../../src/world/attach.js";
import { tryLock } from "../../../src/world/buildLock.js";
import { removeKeptWorld } from "../../../src/world/runLabels.js";
import { liveRuns, MailWorld, providersOf, type WorldMemory, type WorldOptions } from "../../../src/world/world.js";
import { memoryFile, POOL_DIR } from "./worldPoolSetup.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** vitest's main process, whose run the pooled worlds belong to. */
    worldPoolOwner: number;
  }
}

/** The state every borrower gets the world in: what MailWorld.start leaves (baseline settings, valid certificates, the default DNS). */
const START_STATE = scenarioFromYaml(`
  name: the state a world starts in
  expect: { outcome: delivered, transport: tls }
`);

interface Loan {
  name: string;
  giveBack: () => Promise<void>;
}

const loans = new Map<MailWorld, Loan>();

/** The pool's key for a Postfix-only world of these options, or undefined when another MTA runs in it. */
function shapeKey(options: WorldOptions): string | undefined {
  const { sender, receiver } = providersOf(options);
  if (sender.mta !== "postfix" || receiver.mta !== "postfix") return undefined;
  return `${sender.release.replace(".", "")}-${receiver.release.replace(".", "")}`;
}

async function readMemory(name: string): Promise<WorldMemory | undefined> {
  try {
    return JSON.parse(await readFile(memoryFile(name), "utf8")) as WorldMemory;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function writeMemory(name: string, world: MailWorld): Promise<void> {
  await writeFile(memoryFile(name), JSON.stringify(world.memory), { mode: 0o600 });
}

/** The pooled world of this name: the one that is up, re-attached and put into START_STATE, or a new one. */
async function attachOrStart(name: string, options: WorldOptions): Promise<MailWorld> {
  const memory = await readMemory(name);
  if (memory) {
    try {
      const world = await MailWorld.attach(memory);
      await applyScenario(world, START_STATE);
      return world;
    } catch (error) {
      if (!(error instanceof WorldGoneError)) throw error;
      await removeKeptWorld(name);
    }
  }
  const world = await MailWorld.start({ ...options, keptAs: name });
  // Kept: this process's exit (or Ctrl-C) must not take it down; the run's teardown does.
  liveRuns.delete(world.runId);
  await writeMemory(name, world);
  return world;
}

/** Lends the pool's worlds to runScenarios (`worlds: worldPool`) and to pooledWorldTest. */
export const worldPool: WorldSource = {
  async acquire(options) {
    const key = shapeKey(options);
    if (key === undefined) return FRESH_WORLDS.acquire(options);
    await mkdir(POOL_DIR, { recursive: true });
    const owner = inject("worldPoolOwner");
    // The first world of this shape nobody holds; a new one when every one is lent. Named as POOL_NAME says.
    for (let slot = 0; ; slot++) {
      const name = `p${owner}-${key}-${slot}`;
      const unlock = await tryLock(POOL_DIR, name);
      if (!unlock) continue;
      try {
        const world = await attachOrStart(name, options);
        loans.set(world, { name, giveBack: unlock });
        return world;
      } catch (error) {
        await unlock();
        throw error;
      }
    }
  },

  async release(world) {
    const loan = loans.get(world);
    if (!loan) return FRESH_WORLDS.release(world);
    loans.delete(world);
    try {
      // What the next borrower cannot read from the containers: the certificate each provider presents, the admin's files in place.
      await writeMemory(loan.name, world);
      world.detach();
      await Promise.all([closeMailboxSessions(world.sender), closeMailboxSessions(world.receiver)]);
    } finally {
      await loan.giveBack();
    }
  },
};

/**
 * vitest's `test` with a `world` borrowed from the pool for the whole file
 * (the default Postfix world, in the state a world starts in), given back
 * after the file's last test: the library's worldTest, shared.
 */
// vitest reads a fixture's dependencies from its first parameter's destructuring: none here.
// eslint-disable-next-line no-empty-pattern
export const pooledWorldTest = test.extend("world", { scope: "file" }, async ({}, { onCleanup }) => {
  const world = await worldPool.acquire({});
  onCleanup(() => worldPool.release(world));
  return world;
});

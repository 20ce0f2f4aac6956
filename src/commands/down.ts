/** `starttls-lab down [--name N]`: remove a world that stays up, and forget it. */
import { removeKeptWorld } from "../world/runLabels.js";
import { EXIT, type CommandInput } from "./shared.js";
import { forgetWorld, readWorldState, worldName } from "./worldState.js";

export async function down({ values }: CommandInput): Promise<number> {
  const name = worldName(values.name);
  const state = await readWorldState(name);
  const removed = await removeKeptWorld(name);
  await forgetWorld(name);
  if (!state && removed.containers.length + removed.networks.length === 0) {
    process.stdout.write(`no world named "${name}" is up\n`);
    return EXIT.passed;
  }
  const run = state ? ` of run ${state.memory.runId}` : " (its state file was already gone)";
  process.stdout.write(`world "${name}" is down: removed ${removed.containers.length} container(s) and ${removed.networks.length} network(s)${run}\n`);
  return EXIT.passed;
}

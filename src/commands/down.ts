/** `starttls-lab down [--name N]`: remove a world that stays up, and forget it. */
import { removeRun } from "../world/runLabels.js";
import { EXIT, type CommandInput } from "./shared.js";
import { forgetWorld, readWorldState, worldName } from "./worldState.js";

export async function down({ values }: CommandInput): Promise<number> {
  const name = worldName(values.name);
  const state = await readWorldState(name);
  if (!state) {
    process.stdout.write(`no world named "${name}" is up\n`);
    return EXIT.passed;
  }
  const removed = await removeRun(state.memory.runId);
  await forgetWorld(name);
  process.stdout.write(`world "${name}" is down: removed ${removed.containers.length} container(s) and ${removed.networks.length} network(s) of run ${state.memory.runId}\n`);
  return EXIT.passed;
}

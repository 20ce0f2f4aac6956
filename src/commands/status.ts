/** `starttls-lab status [--name N]`: whether the world is up, in which state, and how to reach it. */
import { describeWorld } from "./endpoints.js";
import { EXIT, type CommandInput } from "./shared.js";
import { attachWorld, worldName } from "./worldState.js";

export async function status({ values }: CommandInput): Promise<number> {
  const { state, world } = await attachWorld(worldName(values.name));
  process.stdout.write(describeWorld(world, state));
  const death = await world.deathNotice();
  if (death) {
    process.stdout.write(`\n${death}\n`);
    return EXIT.failed;
  }
  return EXIT.passed;
}

/** `starttls-lab apply FILE [--only NAME] [--name N]`: put the running world into another scenario's state. */
import { applyScenario } from "../runner.js";
import { EXIT, loadOne, UsageError, type CommandInput } from "./shared.js";
import { attachWorld, worldName, writeWorldState } from "./worldState.js";

function settingsLine(label: string, settings: Record<string, string>): string {
  const entries = Object.entries(settings);
  return `  ${label}: ${entries.length === 0 ? "(the role's baseline)" : entries.map(([name, value]) => `${name} = ${value}`).join(", ")}`;
}

export async function apply({ values, positionals }: CommandInput): Promise<number> {
  if (positionals.length !== 1) throw new UsageError("apply takes exactly one FILE");
  const scenario = await loadOne(positionals[0]!, values.only as string[] | undefined);
  const { state, world } = await attachWorld(worldName(values.name));
  await applyScenario(world, scenario);
  await writeWorldState({ ...state, memory: world.memory, applied: scenario }, world.caCertPem);
  const presented = world.receiver.presentedCertificate;
  process.stdout.write(
    [
      `world "${state.name}" is now in the state of "${scenario.name}"`,
      settingsLine("sender", scenario.sender.postconf),
      settingsLine("receiver", scenario.receiver.postconf),
      `  receiver presents: ${presented.variant} ${presented.key} certificate (CN ${presented.subjectCN})`,
      `  wire: ${scenario.wire}, dns: ${JSON.stringify(scenario.dns)}`,
      "",
    ].join("\n"),
  );
  return EXIT.passed;
}

/**
 * `starttls-lab send [--to ADDRESS] [--subject TEXT] [--json] [--name N]`:
 * Alice submits a message to the running world, in the state `up` or
 * `apply` left it; the harness follows it as `run` does and prints what it
 * observed, and the verdict against the applied scenario's expectation.
 */
import { scenarioPassed } from "../core/result.js";
import { describeExpectation, describeResultObserved } from "../report/describe.js";
import { judgeSummary } from "../judge/summary.js";
import { sendInAppliedState } from "../runner.js";
import type { Scenario } from "../scenario/types.js";
import { EXIT, UsageError, type CommandInput } from "./shared.js";
import { attachWorld, worldName } from "./worldState.js";

function withMessage(scenario: Scenario, to: unknown, subject: unknown): Scenario {
  if (to !== undefined && (typeof to !== "string" || !/^[^@\s]+@[^@\s]+$/.test(to))) throw new UsageError(`--to takes an address such as bob@iroco.test, not "${String(to)}"`);
  return {
    ...scenario,
    message: {
      ...scenario.message,
      ...(typeof to === "string" ? { to } : {}),
      ...(typeof subject === "string" ? { subject } : {}),
    },
  };
}

export async function send({ values, positionals }: CommandInput): Promise<number> {
  if (positionals.length > 0) throw new UsageError("send takes no FILE: it sends in the state the world is in (change it with apply)");
  const { state, world } = await attachWorld(worldName(values.name));
  const scenario = withMessage(state.applied, values.to, values.subject);
  const result = await sendInAppliedState(world, scenario);
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ scenario: scenario.name, message: scenario.message, observation: result.observation, verdict: result.verdict, error: result.error }, null, 2) + "\n");
    return scenarioPassed(result) ? EXIT.passed : EXIT.failed;
  }
  const { message } = scenario;
  const tls = result.observation?.tls;
  const lines = [
    `sent as ${message.from} to ${message.to}, subject "${message.subject}" (world "${state.name}", scenario "${scenario.name}")`,
    `observed: ${describeResultObserved(result)}`,
    ...(tls ? [`  cipher: ${tls.cipher}`] : []),
    ...(result.observation?.evidence ?? []).map((item) => `  ${item.line}`),
    `expected: ${describeExpectation(scenario.expect)}${message.to !== state.applied.message.to ? ` (written for ${state.applied.message.to})` : ""}`,
    judgeSummary(result),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  return scenarioPassed(result) ? EXIT.passed : EXIT.failed;
}

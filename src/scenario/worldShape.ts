/**
 * Which Postfix release each provider of a scenario runs. The precedence (a
 * contract, see README "Postfix releases"): a provider the scenario pins
 * (`sender.postfix`, `receiver.postfix`, or a matrix axis over them) runs
 * that release; every other provider runs the run's release (`--postfix`,
 * else STARTTLS_LAB_POSTFIX, else the default). Scenarios with the same
 * shape share worlds.
 */
import type { PostfixRelease } from "../core/releases.js";
import type { Role, Scenario } from "./types.js";

export type WorldShape = Readonly<Record<Role, PostfixRelease>>;

export function worldShapeOf(scenario: Pick<Scenario, Role>, unpinned: PostfixRelease): WorldShape {
  return { sender: scenario.sender.postfix ?? unpinned, receiver: scenario.receiver.postfix ?? unpinned };
}

/** Whether a world of this shape can run the scenario: every provider it pins runs the pinned release. */
export function fitsWorld(scenario: Pick<Scenario, Role>, shape: WorldShape): boolean {
  return (scenario.sender.postfix ?? shape.sender) === shape.sender && (scenario.receiver.postfix ?? shape.receiver) === shape.receiver;
}

/** The providers a scenario pins, e.g. "sender Postfix 3.7"; empty when it pins none. */
export function describePins(scenario: Pick<Scenario, Role>): string {
  return (["sender", "receiver"] as const)
    .flatMap((role) => (scenario[role].postfix ? [`${role} Postfix ${scenario[role].postfix}`] : []))
    .join(", ");
}

export function sameShape(a: WorldShape, b: WorldShape): boolean {
  return a.sender === b.sender && a.receiver === b.receiver;
}

/** "Postfix 3.10" when both run it, else "sender Postfix 3.7, receiver Postfix 3.10". */
export function describeShape(shape: WorldShape): string {
  return shape.sender === shape.receiver ? `Postfix ${shape.sender}` : `sender Postfix ${shape.sender}, receiver Postfix ${shape.receiver}`;
}

export interface ShapeGroup {
  shape: WorldShape;
  /** Positions in the scenario list, ascending. */
  indices: number[];
}

/** The scenarios grouped by world shape, groups in the order their first scenario comes. */
export function groupByWorldShape(scenarios: readonly Pick<Scenario, Role>[], unpinned: PostfixRelease): ShapeGroup[] {
  const groups: ShapeGroup[] = [];
  scenarios.forEach((scenario, index) => {
    const shape = worldShapeOf(scenario, unpinned);
    const group = groups.find((candidate) => sameShape(candidate.shape, shape));
    if (group) group.indices.push(index);
    else groups.push({ shape, indices: [index] });
  });
  return groups;
}

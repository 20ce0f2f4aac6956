/**
 * What each provider of a scenario runs: its MTA (`sender.mta`,
 * `receiver.mta`, Postfix unless chosen) and, for Postfix, its release. The
 * precedence of releases (a contract, see README "Postfix releases"): a
 * provider the scenario pins (`sender.postfix`, `receiver.postfix`, or a
 * matrix axis over them) runs that release; every other Postfix provider
 * runs the run's release (`--postfix`, else STARTTLS_LAB_POSTFIX, else the
 * default). Scenarios with the same shape share worlds.
 */
import { DEFAULT_POSTFIX_RELEASE, type PostfixRelease } from "../core/releases.js";
import type { ProviderSoftware } from "../core/result.js";
import { MTA_NAMES, mtaOf, type Mta } from "./levels.js";
import type { ProviderSettings, Role, Scenario } from "./types.js";

export type ProviderShape = { mta: "postfix"; release: PostfixRelease } | { mta: Exclude<Mta, "postfix"> };
export type WorldShape = Readonly<Record<Role, ProviderShape>>;

const ROLES: readonly Role[] = ["sender", "receiver"];

function providerShape(settings: Pick<ProviderSettings, "mta" | "postfix">, unpinned: PostfixRelease): ProviderShape {
  const mta = mtaOf(settings);
  return mta === "postfix" ? { mta, release: settings.postfix ?? unpinned } : { mta };
}

/** The default world's shape: Postfix of one release on both sides. */
export function postfixWorld(release: PostfixRelease): WorldShape {
  return { sender: { mta: "postfix", release }, receiver: { mta: "postfix", release } };
}

/** What a started provider runs, from the software it reported. */
export function providerShapeOf(software: ProviderSoftware): ProviderShape {
  return software.mta === "postfix" ? { mta: "postfix", release: software.release } : { mta: software.mta };
}

export function worldShapeOf(scenario: Pick<Scenario, Role>, unpinned: PostfixRelease): WorldShape {
  return { sender: providerShape(scenario.sender, unpinned), receiver: providerShape(scenario.receiver, unpinned) };
}

/** Whether a world of this shape can run the scenario: each provider runs the scenario's MTA and, for Postfix, any release it pins. */
export function fitsWorld(scenario: Pick<Scenario, Role>, shape: WorldShape): boolean {
  return ROLES.every((role) => {
    const running = shape[role];
    const wanted = providerShape(scenario[role], running.mta === "postfix" ? running.release : DEFAULT_POSTFIX_RELEASE);
    return sameProvider(wanted, running);
  });
}

function describeProvider(shape: ProviderShape): string {
  return shape.mta === "postfix" ? `Postfix ${shape.release}` : MTA_NAMES[shape.mta];
}

/** The providers a scenario pins, e.g. "sender Postfix 3.7", "receiver Exim"; empty when it pins none. */
export function describePins(scenario: Pick<Scenario, Role>): string {
  return ROLES.flatMap((role) => {
    const { mta, postfix } = scenario[role];
    if (mta !== undefined && mta !== "postfix") return [`${role} ${MTA_NAMES[mta]}`];
    return postfix ? [`${role} Postfix ${postfix}`] : [];
  }).join(", ");
}

function sameProvider(a: ProviderShape, b: ProviderShape): boolean {
  return a.mta === b.mta && (a.mta !== "postfix" || b.mta !== "postfix" || a.release === b.release);
}

export function sameShape(a: WorldShape, b: WorldShape): boolean {
  return ROLES.every((role) => sameProvider(a[role], b[role]));
}

/** "Postfix 3.10" when both run it, else "sender Exim, receiver Postfix 3.10". */
export function describeShape(shape: WorldShape): string {
  if (sameProvider(shape.sender, shape.receiver)) return describeProvider(shape.sender);
  return `sender ${describeProvider(shape.sender)}, receiver ${describeProvider(shape.receiver)}`;
}

/** The world options that start a world of this shape: each role's MTA, and a Postfix release (any, for a role that runs none). */
export function worldOptionsOf(shape: WorldShape): { mta: Record<Role, Mta>; postfix: Record<Role, PostfixRelease> } {
  const releaseOf = (role: Role): PostfixRelease => {
    const provider = shape[role];
    const other = shape[role === "sender" ? "receiver" : "sender"];
    return provider.mta === "postfix" ? provider.release : other.mta === "postfix" ? other.release : DEFAULT_POSTFIX_RELEASE;
  };
  return { mta: { sender: shape.sender.mta, receiver: shape.receiver.mta }, postfix: { sender: releaseOf("sender"), receiver: releaseOf("receiver") } };
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

/** What every command shares: exit codes, usage errors, parsed arguments and choosing scenarios. */
import { isPostfixRelease, POSTFIX_RELEASES, type PostfixRelease } from "../core/releases.js";
import { loadScenarioFiles } from "../scenario/load.js";
import type { Scenario } from "../scenario/types.js";

/** Worlds side by side for run and compare; measured with `npm run bench` (suite_ms against suite_one_world_ms) on a 2-core machine. */
export const DEFAULT_WORKERS = 2;

export const EXIT = { passed: 0, failed: 1, usage: 2 } as const;

/** Bad usage: the CLI prints the message and exits 2, nothing started. */
export class UsageError extends Error {}

/** A command's arguments as node:util parseArgs gave them. */
export interface CommandInput {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

/** The scenarios of these paths (default scenarios/) whose names contain one of `only`; `postfix`: the release of every unpinned provider. */
export async function loadSelected(paths: string[], only: string[] | undefined, postfix?: PostfixRelease): Promise<Scenario[]> {
  const scenarios = await loadScenarioFiles(paths.length > 0 ? paths : ["scenarios"], postfix ? { postfix } : {});
  if (!only || only.length === 0) return scenarios;
  const wanted = only.map((name) => name.toLowerCase());
  const selected = scenarios.filter((scenario) => wanted.some((name) => scenario.name.toLowerCase().includes(name)));
  if (selected.length === 0) throw new UsageError(`no scenario name contains ${only.map((name) => `"${name}"`).join(" or ")}`);
  return selected;
}

/** The one scenario a FILE and --only name (explain, up, apply). */
export async function loadOne(file: string, only: string[] | undefined, postfix?: PostfixRelease): Promise<Scenario> {
  const scenarios = await loadSelected([file], only, postfix);
  if (scenarios.length !== 1) {
    throw new UsageError(
      `${file} holds ${scenarios.length} scenarios; pick one with --only NAME:\n` + scenarios.map((scenario) => `  ${scenario.name}`).join("\n"),
    );
  }
  return scenarios[0]!;
}

/** --postfix VERSION, checked against the releases a world can run. */
export function releaseOption(value: unknown): PostfixRelease | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !isPostfixRelease(value)) {
    throw new UsageError(`--postfix takes one of ${POSTFIX_RELEASES.join(", ")}, not "${String(value)}"`);
  }
  return value;
}

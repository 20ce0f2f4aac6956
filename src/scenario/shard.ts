/**
 * `run --shard K/N`: one of N machines runs its share of the scenarios.
 * The split depends only on the scenarios themselves (sorted by file, then
 * name), never on the order they were loaded or the machine, so N machines
 * given the same files agree on it; dealing them round-robin keeps the
 * shares within one scenario of each other, and every scenario lands in
 * exactly one.
 */
import type { Scenario } from "./types.js";

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export class ShardError extends Error {
  override name = "ShardError";
}

/** "2/3" → { index: 2, count: 3 }. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new ShardError(`--shard takes K/N with 1 ≤ K ≤ N (e.g. 1/4), not "${text}"`);
  }
  return { index, count };
}

function byFileThenName(a: Pick<Scenario, "name" | "source">, b: Pick<Scenario, "name" | "source">): number {
  return a.source.file < b.source.file ? -1 : a.source.file > b.source.file ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The scenarios of one shard, in the order they were given. */
export function scenariosOfShard<T extends Pick<Scenario, "name" | "source">>(scenarios: readonly T[], shard: Shard): T[] {
  const mine = new Set([...scenarios].sort(byFileThenName).filter((_, position) => position % shard.count === shard.index - 1));
  return scenarios.filter((scenario) => mine.has(scenario));
}

/**
 * Scenario order. By default a run goes from each scenario to the one whose
 * state is nearest, so the world changes as little as possible between
 * them; --shuffle gives a seeded random order instead: results must not
 * depend on order, and the seed lets anyone replay the order that showed a
 * problem.
 */
import { mtaOf } from "./levels.js";
import type { Scenario } from "./types.js";

/** mulberry32: a small, well-known 32-bit PRNG; plenty for ordering tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A new array in a Fisher–Yates order determined by `seed`. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/**
 * What a world must change to go from one scenario's state to the next's,
 * as a cost: a release or MTA change needs another world (runner groups by
 * shape anyway), a certificate or DNS change rewrites files and republishes
 * zones, another MTA's new level or options rewrite its configuration
 * (Exim checks it, and reloads for a receiver level; OpenSMTPD restarts), a
 * wire mode restarts the wire's listener, each differing main.cf parameter
 * is one more `postconf -e`.
 */
function stateDistance(a: Scenario, b: Scenario): number {
  let cost = 0;
  for (const role of ["sender", "receiver"] as const) {
    if (a[role].postfix !== b[role].postfix) cost += 1000;
    const mta = mtaOf(a[role]);
    if (mta !== mtaOf(b[role])) cost += 1000;
    else if (mta !== "postfix" && JSON.stringify([a[role].level, a[role].exim, a[role].opensmtpd]) !== JSON.stringify([b[role].level, b[role].exim, b[role].opensmtpd])) cost += 20;
    if (a[role].certificate !== b[role].certificate || a[role].certificateKey !== b[role].certificateKey) cost += 20;
    if (a[role].own !== undefined || b[role].own !== undefined) cost += 20;
    const names = new Set([...Object.keys(a[role].postconf), ...Object.keys(b[role].postconf)]);
    for (const name of names) if (a[role].postconf[name] !== b[role].postconf[name]) cost += 1;
  }
  if (JSON.stringify(a.dns) !== JSON.stringify(b.dns)) cost += 20;
  if (a.wire !== b.wire) cost += 5;
  if (a.attempts !== b.attempts) cost += 1;
  return cost;
}

/**
 * The run's default order: each next scenario is the one whose state is
 * nearest the current one (ties to the earlier in the files), starting from
 * the first. Deterministic, so a run is reproducible without a seed; the
 * verdicts do not depend on it (--shuffle shows that).
 */
export function orderByState<T extends Scenario>(scenarios: readonly T[]): T[] {
  const left = [...scenarios];
  const ordered: T[] = [];
  let current = left.shift();
  while (current !== undefined) {
    ordered.push(current);
    let best = -1;
    let bestCost = Infinity;
    for (const [index, candidate] of left.entries()) {
      const cost = stateDistance(current, candidate);
      if (cost < bestCost) [best, bestCost] = [index, cost];
    }
    current = best < 0 ? undefined : left.splice(best, 1)[0];
  }
  return ordered;
}

/** Files in path order, scenarios in the order of their lines: the order the loader reads a folder in. */
export function byLoadOrder(a: Scenario, b: Scenario): number {
  if (a.source.file !== b.source.file) return a.source.file < b.source.file ? -1 : 1;
  if (a.source.line !== b.source.line) return a.source.line - b.source.line;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

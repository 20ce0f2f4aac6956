/**
 * Which main.cf parameter names Postfix knows, so that a typo such as
 * smtp_tls_securty_level is refused (with a suggestion) instead of being
 * ignored by Postfix with nothing but an "unused parameter" warning.
 *
 * Postfix accepts three kinds of names (postconf(1), postconf_user.c,
 * postconf_service.c), and so does this check:
 * - built-in names: recorded per release from `postconf -d` of the real
 *   images (schema/postfix-parameters/, scripts/record-postfix-parameters.sh);
 * - service-defined names: a master.cf service running a delivery program
 *   gets <service><suffix> names (relay_destination_concurrency_limit); the
 *   harness's own services are already in `postconf -d`, the admin's
 *   masterCf services are added from the recorded suffixes per program;
 * - user-defined names: a name=value that some value references as $name
 *   (or that smtpd_restriction_classes lists); any other invented name is
 *   what postconf flags as "unused parameter", and is refused here.
 * Service-prefixed TLS settings such as relay_tls_security_level are not
 * service-defined (postconf flags them as unused, checked on 3.7.11): a
 * service gets its own TLS level through `-o` in master.cf.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { POSTFIX_RELEASES, type PostfixRelease } from "../core/releases.js";
import { packageRoot } from "../paths.js";

export interface RecordedParameters {
  /** The releases recorded in schema/postfix-parameters/, in POSTFIX_RELEASES order. */
  releases: PostfixRelease[];
  /** Built-in names known to at least one of them. */
  builtIn: ReadonlySet<string>;
  /** Delivery program (smtp, pipe, …) → the suffixes its master.cf services get, in any recorded release. */
  serviceSuffixes: ReadonlyMap<string, ReadonlySet<string>>;
}

export function postfixParametersDir(): string {
  return path.join(packageRoot(), "schema", "postfix-parameters");
}

/** The lines of a recorded file, without its comment header. */
export function recordedLines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"));
}

const recorded = new Map<string, RecordedParameters>();

/**
 * The recorded releases among `only` (default: every release), merged: a
 * provider that does not pin its release may run on any of them, one that
 * pins it (or a matrix axis over it) runs on those only.
 */
export function recordedParameters(dir = postfixParametersDir(), only: readonly PostfixRelease[] = POSTFIX_RELEASES): RecordedParameters {
  const shipped = dir === postfixParametersDir();
  const key = only.join(" ");
  const cached = shipped ? recorded.get(key) : undefined;
  if (cached) return cached;
  const releases = POSTFIX_RELEASES.filter((release) => only.includes(release) && existsSync(path.join(dir, `${release}.txt`)));
  if (releases.length === 0) {
    throw new Error(`no Postfix parameter list for ${only.join(", ")} in ${dir}: run scripts/record-postfix-parameters.sh once a provider image is built`);
  }
  const builtIn = new Set<string>();
  const serviceSuffixes = new Map<string, Set<string>>();
  for (const release of releases) {
    for (const name of recordedLines(path.join(dir, `${release}.txt`))) builtIn.add(name);
    for (const line of recordedLines(path.join(dir, `${release}.service-suffixes.txt`))) {
      const [program = "", suffix = ""] = line.split(" ");
      const suffixes = serviceSuffixes.get(program) ?? new Set<string>();
      suffixes.add(suffix);
      serviceSuffixes.set(program, suffixes);
    }
  }
  const merged = { releases, builtIn, serviceSuffixes };
  if (shipped) recorded.set(key, merged);
  return merged;
}

/** The releases whose recorded `postconf -d` has this parameter: where a feature exists, read from the images, not assumed. */
export function releasesWith(parameter: string): PostfixRelease[] {
  return POSTFIX_RELEASES.filter((release) => recordedParameters(undefined, [release]).builtIn.has(parameter));
}

/** What one server's configuration says about the names it may invent. */
export interface NameContext {
  /** Every name = value of the server: the harness's main.cf, the admin's, the scenario's postconf. */
  settings: ReadonlyArray<readonly [name: string, value: string]>;
  /** The admin's master.cf, whose -o values may use $name too. */
  masterCf?: string;
  /** The admin's master.cf services: service name → program (smtp, pipe, …). */
  services: ReadonlyMap<string, string>;
}

/** Names a value expands: $name, ${name}, $(name), ${name:…}, ${name?…}. */
function referencedNames(value: string): string[] {
  return [...value.matchAll(/\$[{(]?([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
}

function userDefinedNames({ settings, masterCf = "" }: NameContext): Set<string> {
  const restrictionClasses = settings
    .filter(([name]) => name === "smtpd_restriction_classes")
    .flatMap(([, value]) => value.split(/[,\s]+/).filter((word) => word !== ""));
  return new Set([...settings.flatMap(([, value]) => referencedNames(value)), ...referencedNames(masterCf), ...restrictionClasses]);
}

function isServiceDefined(name: string, context: NameContext, known: RecordedParameters): boolean {
  for (const [service, program] of context.services) {
    const suffix = name.startsWith(service) ? name.slice(service.length) : undefined;
    if (suffix && known.serviceSuffixes.get(program)?.has(suffix)) return true;
  }
  return false;
}

/** Damerau-Levenshtein distance (a swapped pair of letters counts once): how far a typo is from a name. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The closest known name, when it is close enough to be the one meant. */
function closestName(name: string, names: ReadonlySet<string>): string | undefined {
  const allowed = Math.max(2, Math.floor(name.length / 8));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of names) {
    if (Math.abs(candidate.length - name.length) > allowed) continue;
    const distance = editDistance(name, candidate);
    if (distance <= allowed && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function listOf(releases: readonly string[]): string {
  return releases.length === 1 ? releases[0]! : `${releases.slice(0, -1).join(", ")} or ${releases.at(-1)}`;
}

/**
 * Why Postfix would ignore `name` ("unused parameter"), with the name meant
 * when one is close; undefined when some recorded release knows it.
 */
export function unknownParameterProblem(name: string, context: NameContext, known = recordedParameters()): string | undefined {
  if (known.builtIn.has(name) || isServiceDefined(name, context, known)) return undefined;
  if (userDefinedNames(context).has(name)) return undefined;

  const unknown = `unknown Postfix parameter (not in postconf -d of Postfix ${listOf(known.releases)}; Postfix would ignore it as "unused")`;
  const suggestion = closestName(name, known.builtIn);
  if (suggestion) return `${unknown}; did you mean ${suggestion}?`;
  const perService = /^[a-z0-9-]+_(.+)$/.exec(name)?.[1];
  const clientName = perService && ["smtp", "lmtp", "smtpd"].map((prefix) => `${prefix}_${perService}`).find((candidate) => known.builtIn.has(candidate));
  if (clientName) return `${unknown}; a master.cf service takes its own value as -o ${clientName}=… in masterCf`;
  return `${unknown}; a name of your own is valid only where a value uses it as $${name}`;
}

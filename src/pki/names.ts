// Server names end up in subjectAltName and in Postfix/Dovecot configuration,
// and certificate name matching is case-insensitive: accepting "MX.Iroco.test"
// would make two specs that mean the same certificate hash differently.
// So only the canonical form is accepted, and the error says what to write.

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_NAME_LENGTH = 253;

/** Returns a reason the name is not a lowercase DNS name, or undefined when it is fine. */
export function dnsNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return `expected a string, got ${typeof name}`;
  if (name === "") return "the name is empty";
  if (name !== name.trim()) return "the name has surrounding whitespace";
  if (name.endsWith(".")) return `drop the trailing dot: write "${name.replace(/\.+$/, "")}"`;
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`;
  if (name !== name.toLowerCase()) return `DNS names must be lowercase: write "${name.toLowerCase()}"`;
  for (const label of name.split(".")) {
    if (!LABEL.test(label)) {
      return label === ""
        ? "it has an empty label (two dots in a row or a leading dot)"
        : `label "${label}" is not 1-63 characters of a-z, 0-9 and inner hyphens`;
    }
  }
  return undefined;
}

/**
 * Checks every server's name list before anything is generated, so bad input
 * fails fast and leaves the cache untouched.
 */
export function assertServerSpecs(servers: unknown): asserts servers is Record<string, { names: string[] }> {
  if (typeof servers !== "object" || servers === null || Array.isArray(servers)) {
    throw new Error("pki: `servers` must be an object mapping a server key to { names: [...] }");
  }
  for (const [key, spec] of Object.entries(servers)) {
    const where = `pki: server "${key}"`;
    if (key === "") throw new Error("pki: server keys must be non-empty strings");
    assertNames((spec as { names?: unknown } | null)?.names, where);
  }
}

/** Checks one certificate's name list; `where` starts each message (e.g. `pki: server "receiver"`). */
export function assertNames(names: unknown, where: string): asserts names is string[] {
  if (!Array.isArray(names)) throw new Error(`${where}: \`names\` must be an array of DNS names`);
  if (names.length === 0) {
    throw new Error(`${where}: \`names\` is empty; give at least one DNS name (the first becomes the subject CN)`);
  }
  const seen = new Set<string>();
  names.forEach((name: unknown, index) => {
    const problem = dnsNameProblem(name);
    if (problem !== undefined) {
      throw new Error(`${where}: names[${index}] ${JSON.stringify(name)} is not a valid lowercase DNS name: ${problem}`);
    }
    const value = name as string;
    if (seen.has(value)) throw new Error(`${where}: names[${index}] "${value}" is listed twice`);
    seen.add(value);
  });
}

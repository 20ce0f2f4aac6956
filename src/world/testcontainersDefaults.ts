/**
 * The two testcontainers settings every world needs, whatever entry point
 * started it (the CLI, `starttls-lab/vitest`, or `import { MailWorld } from
 * "starttls-lab"` in a user's own script):
 *
 * - TESTCONTAINERS_RYUK_DISABLED: the harness removes its own containers
 *   (run labels, signal handlers, leftovers of dead runs), so it needs no
 *   reaper, and the reaper's image would be pulled from a registry the
 *   machine may not reach.
 * - TESTCONTAINERS_HOST_OVERRIDE: ports are published on 127.0.0.1 only
 *   (see worldContainer.ts); without it, testcontainers running inside a
 *   container guesses the bridge gateway and finds nothing listening there.
 *
 * testcontainers 11 reads both lazily, not at import: the host when it first
 * connects to the engine (getContainerRuntimeClient, then cached for the
 * process), the reaper when the first container starts (getReaper). So they
 * are set as a world starts, before its first container; a value the user
 * set is kept.
 */
export const TESTCONTAINERS_DEFAULTS = {
  TESTCONTAINERS_RYUK_DISABLED: "true",
  TESTCONTAINERS_HOST_OVERRIDE: "localhost",
} as const;

export function applyTestcontainersDefaults(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(TESTCONTAINERS_DEFAULTS)) env[name] ??= value;
}

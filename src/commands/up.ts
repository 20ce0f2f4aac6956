/**
 * `starttls-lab up [FILE] [--only NAME] [--postfix V] [--name N]`: start a
 * world that outlives this process, put it into a scenario's state, print
 * how to reach it, and return. `down` removes it.
 */
import path from "node:path";
import type { PostfixRelease } from "../core/releases.js";
import { applyScenario } from "../runner.js";
import { scenarioFromYaml } from "../scenario/inline.js";
import type { Scenario } from "../scenario/types.js";
import { withLock } from "../world/buildLock.js";
import { defaultCacheDir, liveRuns, MailWorld, removeLiveRuns } from "../world/world.js";
import { describeWorld } from "./endpoints.js";
import { EXIT, loadOne, releaseOption, UsageError, type CommandInput } from "./shared.js";
import { caPath, nameFlag, readWorldState, runningContainers, WORLD_CONTAINERS, worldName, writeWorldState } from "./worldState.js";

/** The state a world starts in when `up` names no scenario: both providers at Postfix's opportunistic level. */
export function mayToMay(): Scenario {
  return scenarioFromYaml(
    `
    name: may to may
    story: |
      The state "starttls-lab up" starts in: Alice's provider sends with
      smtp_tls_security_level = may, Bob's offers STARTTLS with
      smtpd_tls_security_level = may, each with a valid certificate from the
      harness CA. TLS is used and the certificate is checked, never enforced.
    sender: { postconf: { smtp_tls_security_level: may } }
    receiver: { postconf: { smtpd_tls_security_level: may } }
    expect: { outcome: delivered, transport: tls, tls: { trust: trusted } }
    `,
    "<starttls-lab up: may to may>",
  );
}

export async function up({ values, positionals }: CommandInput): Promise<number> {
  const name = worldName(values.name);
  const postfix = releaseOption(values.postfix);
  if (positionals.length > 1) throw new UsageError("up takes at most one FILE");
  const scenario = positionals[0] !== undefined ? await loadOne(positionals[0], values.only as string[] | undefined) : mayToMay();
  // Two `up` at once for one name: the second waits, then finds the first's world up.
  return withLock(path.join(defaultCacheDir(), "locks"), `world-${name}`, () => startKept(name, scenario, postfix), () =>
    process.stderr.write(`  waiting for another "starttls-lab up" of world "${name}"…\n`),
  );
}

async function startKept(name: string, scenario: Scenario, postfix: PostfixRelease | undefined): Promise<number> {
  const existing = await readWorldState(name);
  if (existing && (await runningContainers(existing)) > 0) {
    process.stderr.write(
      `starttls-lab: world "${name}" is already up (run ${existing.memory.runId}, scenario "${existing.applied.name}").\n` +
        `  Use it (starttls-lab status${nameFlag(name)}), stop it (starttls-lab down${nameFlag(name)}), or start another with --name N.\n`,
    );
    return EXIT.usage;
  }

  // Until the world is ready, Ctrl-C removes what was started: a kept world half built would stay forever.
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: removing the world being started…\n`);
    void removeLiveRuns().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  const world = await MailWorld.start({ keptAs: name, ...(postfix ? { postfix } : {}), onProgress: (step) => process.stderr.write(`  ${step}\n`) });
  try {
    await applyScenario(world, scenario);
    const state = { name, startedAt: new Date().toISOString(), memory: world.memory, applied: scenario, caFile: caPath(name) };
    await writeWorldState(state, world.caCertPem);
    // From here on the world belongs to `down`, not to this process.
    liveRuns.delete(world.runId);
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    process.stdout.write(describeWorld(world, state));
    if ((await runningContainers(state)) !== WORLD_CONTAINERS) throw new Error(`world ${world.runId} lost a container while starting: ${await world.deathNotice()}`);
    return EXIT.passed;
  } catch (error) {
    await world.stop();
    throw error;
  }
}

/**
 * The test world: one private network, Alice's provider (sender) and Bob's
 * provider (receiver), started once and reconfigured in place per scenario.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { StartedTestContainer } from "testcontainers";
import { ensurePki, type ServerCredentials } from "../pki/index.js";
import type { Role } from "../scenario/types.js";
import { assertDockerAvailable, dockerClient } from "./docker.js";
import { assertBaseImage, ensureMtaImage } from "./images.js";
import { LogBook } from "./logBook.js";
import { IMAPS_PORT, MtaContainer, SMTP_PORT, SUBMISSIONS_PORT } from "./mtaContainer.js";
import { certificateNames, dovecotUsers, mailboxTable, PROVIDERS, roleSettings, transportTable, type ProviderIdentity } from "./providers.js";
import { newRunId, removeLeftovers, removeRun, runLabels } from "./runLabels.js";

export interface WorldOptions {
  /** Where certificates are cached between runs (default ~/.cache/starttls-lab). */
  cacheDir?: string;
  /** Called with a short text at each start-up step (for live progress). */
  onProgress?: (step: string) => void;
}

export interface StartupTimings {
  imageMs: number;
  pkiMs: number;
  containersMs: number;
  totalMs: number;
  imageBuilt: boolean;
  keysGenerated: string[];
}

export function defaultCacheDir(): string {
  return process.env.STARTTLS_LAB_CACHE ?? path.join(os.homedir(), ".cache", "starttls-lab");
}

/** One mail provider of a started world. */
export class Provider {
  constructor(
    readonly identity: ProviderIdentity,
    readonly container: StartedTestContainer,
    readonly log: LogBook,
    readonly password: string,
    readonly credentials: ServerCredentials,
  ) {}

  get smtpPort(): number {
    return this.container.getMappedPort(SMTP_PORT);
  }
  get submissionsPort(): number {
    return this.container.getMappedPort(SUBMISSIONS_PORT);
  }
  get imapsPort(): number {
    return this.container.getMappedPort(IMAPS_PORT);
  }

  /**
   * Reset main.cf to the role's baseline plus these settings, empty the
   * queue; lab-apply reloads Postfix only when a long-lived daemon would
   * otherwise keep old state (see docker/mta/lab-apply).
   */
  async applySettings(settings: Record<string, string>): Promise<{ reloaded: boolean }> {
    const args = Object.entries(settings).map(([name, value]) => `${name}=${value}`);
    const result = await this.container.exec(["lab-apply", ...args]);
    if (result.exitCode !== 0) {
      throw new Error(`applying settings to the ${this.identity.role} failed (exit ${result.exitCode}): ${result.output.trim()}`);
    }
    if (/warning|fatal/i.test(result.output)) {
      throw new Error(`Postfix on the ${this.identity.role} complained about the settings: ${result.output.trim()}`);
    }
    return { reloaded: result.output.includes("reloaded") };
  }

  /** Undefined while the container runs; otherwise what stopped it, with its last log lines. */
  async deathNotice(): Promise<string | undefined> {
    const state = await dockerClient()
      .getContainer(this.container.getId())
      .inspect()
      .then((info) => info.State)
      .catch(() => undefined);
    if (state?.Running) return undefined;
    const how = state ? `exit code ${state.ExitCode}${state.OOMKilled ? ", out of memory" : ""}` : "removed";
    return `the ${this.identity.role} container (${this.identity.smtpHost}) stopped (${how}); its last log lines:\n    ${this.log.tail(12).join("\n    ")}`;
  }

  /** `postqueue -j`: one JSON object per queued message. */
  async queueJson(): Promise<string> {
    const result = await this.container.exec(["lab-queue"]);
    if (result.exitCode !== 0) throw new Error(`postqueue -j failed on the ${this.identity.role}: ${result.output.trim()}`);
    return result.stdout;
  }
}

/** Runs whose containers may exist (from network creation until stopped), so a signal handler can remove them. */
export const liveRuns = new Set<string>();

/** Remove every container and network of the runs this process still has (SIGINT, SIGTERM). */
export async function removeLiveRuns(): Promise<void> {
  await Promise.allSettled([...liveRuns].map((runId) => removeRun(runId)));
  liveRuns.clear();
}

export class MailWorld {
  private stopping?: Promise<void>;

  private constructor(
    readonly runId: string,
    readonly networkName: string,
    readonly caCertPem: string,
    readonly sender: Provider,
    readonly receiver: Provider,
    readonly timings: StartupTimings,
  ) {
  }

  provider(role: Role): Provider {
    return role === "sender" ? this.sender : this.receiver;
  }

  /** Undefined while both containers run; otherwise which stopped and its last log lines. */
  async deathNotice(): Promise<string | undefined> {
    const notices = await Promise.all([this.sender.deathNotice(), this.receiver.deathNotice()]);
    const dead = notices.filter((notice): notice is string => notice !== undefined);
    return dead.length > 0 ? dead.join("\n") : undefined;
  }

  static async start(options: WorldOptions = {}): Promise<MailWorld> {
    const progress = options.onProgress ?? (() => {});
    const started = Date.now();
    await assertDockerAvailable();
    const leftovers = await removeLeftovers();
    if (leftovers.containers.length > 0) progress(`removed ${leftovers.containers.length} container(s) left by runs that died`);

    await assertBaseImage();
    const imageStarted = Date.now();
    const pkiPromise = (async () => {
      const pkiStarted = Date.now();
      const pki = await ensurePki({
        cacheDir: path.join(options.cacheDir ?? defaultCacheDir(), "pki"),
        servers: { sender: { names: certificateNames(PROVIDERS.sender) }, receiver: { names: certificateNames(PROVIDERS.receiver) } },
      });
      return { pki, ms: Date.now() - pkiStarted };
    })();
    const [image, { pki, ms: pkiMs }] = await Promise.all([ensureMtaImage(path.join(options.cacheDir ?? defaultCacheDir(), "locks"), progress), pkiPromise]);
    const imageMs = Date.now() - imageStarted;
    if (pki.generated.length > 0) progress(`generated ${pki.generated.join(", ")}`);

    const runId = newRunId();
    const labels = runLabels(runId);
    const networkName = `starttls-lab-${runId}`;
    liveRuns.add(runId);
    await dockerClient().createNetwork({ Name: networkName, Driver: "bridge", Labels: labels, CheckDuplicate: true });

    const containersStarted = Date.now();
    const startProvider = async (role: Role): Promise<Provider> => {
      const identity = PROVIDERS[role];
      const credentials = pki.servers[role];
      if (!credentials) throw new Error(`no certificate for the ${role}`);
      const password = randomBytes(12).toString("base64url");
      const log = new LogBook(role === "sender" ? "sender (Alice's provider)" : "receiver (Bob's provider)");
      progress(`starting ${role} (${identity.smtpHost})`);
      const container = await new MtaContainer(image.tag)
        .withRole(role, networkName, [identity.smtpHost, identity.imapHost])
        .withName(`starttls-lab-${runId}-${role}`)
        .withLabels(labels)
        .withLabFiles({
          "role.cf": roleSettings(identity).join("\n") + "\n",
          transport: transportTable(identity),
          mailboxes: mailboxTable(identity),
          users: dovecotUsers(identity, password),
          "tls/ca.pem": pki.caCertPem,
          "tls/server.pem": credentials.certPem,
          "tls/server.key": credentials.keyPem,
        })
        .withLogBook(log)
        .start();
      return new Provider(identity, container, log, password, credentials);
    };

    const results = await Promise.allSettled([startProvider("sender"), startProvider("receiver")]);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failure) {
      await removeRun(runId).catch(() => undefined);
      liveRuns.delete(runId);
      throw failure.reason;
    }
    const [sender, receiver] = results.map((result) => (result as PromiseFulfilledResult<Provider>).value) as [Provider, Provider];
    const now = Date.now();
    const timings: StartupTimings = {
      imageMs,
      pkiMs,
      containersMs: now - containersStarted,
      totalMs: now - started,
      imageBuilt: image.built,
      keysGenerated: pki.generated,
    };
    progress(`world ${runId} ready`);
    return new MailWorld(runId, networkName, pki.caCertPem, sender, receiver, timings);
  }

  /** Stop and remove the containers and the network. Every call waits for the same removal. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([
        this.sender.container.stop({ remove: true, timeout: 2_000 }),
        this.receiver.container.stop({ remove: true, timeout: 2_000 }),
      ]);
      await removeRun(this.runId).catch(() => undefined);
      liveRuns.delete(this.runId);
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

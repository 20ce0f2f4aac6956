/**
 * One mail provider's container (Postfix + Dovecot), either role. Started,
 * it is the harness's handle on that provider: its ports, its mailboxes'
 * password, the certificate Postfix presents, and what a scenario does to it
 * (apply settings, present a certificate, put the admin's own files, read
 * the queue, retry a message).
 */
import { Wait, type StartedTestContainer } from "testcontainers";
import { isPostfixRelease } from "../core/releases.js";
import type { PostfixSoftware } from "../core/result.js";
import { POSTFIX_LOG_READER } from "../observe/logReader.js";
import { parsePostqueueJson, type QueuedMessage } from "../observe/queue.js";
import type { OwnConfig } from "../scenario/types.js";
import { LAB_DIR, labFile, mailboxFiles } from "./providerFiles.js";
import {
  hostAliases,
  roleSettings,
  sniTable,
  transportTable,
  type ProviderIdentity,
  type WorldDns,
} from "./providers.js";
import type { LogBook } from "./logBook.js";
import { LABEL_ROLE } from "./runLabels.js";
import { ProviderContainer, StartedProviderContainer, type ProviderAccess } from "./providerContainer.js";
import { type ContainerTitle, type WorldNetwork } from "./worldContainer.js";

const OWN_MASTER_CF = `${LAB_DIR}/own-master.cf`;

/** Indexed maps (built with postmap) that settings name among the given files. */
function indexedMapsIn(settings: Record<string, string>, files: string[]): string[] {
  const maps = new Set<string>();
  for (const value of Object.values(settings)) {
    for (const match of value.matchAll(/\b(hash|btree|lmdb|cdb|dbm):(\/etc\/postfix\/[A-Za-z0-9._/-]+)/g)) {
      if (files.includes(match[2]!)) maps.add(`${match[1]}:${match[2]}`);
    }
  }
  return [...maps];
}

/** How a provider's container is named in logs and errors, whichever process started it. */
export function mtaTitle(identity: ProviderIdentity): ContainerTitle {
  return {
    log: identity.role === "sender" ? "sender (Alice's provider)" : "receiver (Bob's provider)",
    container: `the ${identity.role} container (${identity.smtpHost})`,
  };
}

/** What a started Postfix provider holds beyond its container: its access and, when re-attaching, which admin's files an earlier process put in place. */
export interface ProviderState extends ProviderAccess {
  restoredOwnFiles?: string[];
}

export class MtaContainer extends ProviderContainer<StartedMtaContainer> {
  constructor(image: string, identity: ProviderIdentity) {
    super(image, mtaTitle(identity), identity);
    this.withWaitStrategy(Wait.forAll([Wait.forLogMessage(/postfix\/master\[\d+\]: daemon started/), Wait.forLogMessage(/Dovecot v\S+ .*starting up/)]))
      .withLabels({ [LABEL_ROLE]: identity.role })
      .withCopyContentToContainer([
        labFile("transport", transportTable(identity)),
        ...mailboxFiles(identity, this.password),
        labFile("sni", sniTable(identity)),
      ]);
  }

  /** On the world's network under the provider's names, resolving through the world's DNS only. */
  inProviderWorld(network: WorldNetwork, dns: WorldDns): this {
    return this.inWorld(network, this.identity.role, hostAliases(this.identity))
      // Only Alice's provider reports TLSRPT: the receiver's smtp only ever sends bounces back.
      .withEnvironment({ LAB_RESOLVER: dns.resolver, ...(this.identity.role === "sender" && { LAB_TLSRPT: "collect" }) })
      .withCopyContentToContainer([labFile("role.cf", roleSettings(this.identity, dns).join("\n") + "\n")]);
  }

  protected override started(container: StartedTestContainer, address: string): StartedMtaContainer {
    return new StartedMtaContainer(container, this.log, this.title, address, this.startedAccess());
  }
}

/** Where docker/mta/entrypoint.sh starts the TLSRPT collector (smtp_tlsrpt_socket_name = run/tlsrpt/tlsrpt.sock). */
const TLSRPT_SOCKET = "/var/spool/postfix/run/tlsrpt/tlsrpt.sock";

export class StartedMtaContainer extends StartedProviderContainer {
  readonly mta = "postfix";
  readonly reader = POSTFIX_LOG_READER;
  private ownFiles: string[] = [];
  /**
   * The settings lab-apply last put in force. While the queue is also known
   * to be empty, the same settings again change nothing, and the exec (the
   * largest part of applying a scenario) is skipped.
   */
  private settingsInForce: string | undefined;
  /** False between stopPostfix() and the next start (startPostfix, or a new scenario's applySettings). */
  private running = true;

  constructor(
    container: StartedTestContainer,
    log: LogBook,
    title: ContainerTitle,
    address: string,
    provider: ProviderState,
  ) {
    super(container, log, title, address, provider);
    this.ownFiles = [...(provider.restoredOwnFiles ?? [])];
  }

  private tlsrptCollector?: Promise<boolean>;

  /**
   * Whether this provider's TLSRPT events reach the harness: its entrypoint
   * started the collector, which it does on the sender where Postfix is built
   * with libtlsrpt (3.10 on). Asked of the container once.
   */
  hasTlsrptCollector(): Promise<boolean> {
    this.tlsrptCollector ??= this.exec(["test", "-S", TLSRPT_SOCKET]).then((result) => result.exitCode === 0);
    return this.tlsrptCollector;
  }

  /** The admin's own files in place now (what a later process must remove before putting others). */
  get ownFileTargets(): readonly string[] {
    return this.ownFiles;
  }

  /**
   * Reset main.cf to the role's baseline plus these settings, empty the
   * queue and start a Postfix that stopPostfix() stopped (a new scenario
   * starts from a running provider); lab-apply reloads Postfix only when a
   * long-lived daemon would otherwise keep old state (see docker/mta/lab-apply).
   *
   * keepQueue: a configuration change while mail waits. The queue stays as
   * it is, and a stopped Postfix stays stopped (it reads the new settings
   * when it starts).
   */
  async applySettings(settings: Record<string, string>, options: { keepQueue?: boolean } = {}): Promise<void> {
    const keepQueue = options.keepQueue ?? false;
    const wanted = JSON.stringify(Object.entries(settings));
    if (wanted === this.settingsInForce && (keepQueue || (this.queueClean && this.running))) return;
    this.settingsInForce = undefined;
    const result = await this.run(["lab-apply", ...(keepQueue ? ["--keep-queue"] : []), ...Object.entries(settings).map(([name, value]) => `${name}=${value}`)]);
    if (/warning|fatal/i.test(result.output)) {
      throw new Error(`Postfix on the ${this.identity.role} complained about the settings: ${result.output.trim()}`);
    }
    this.settingsInForce = wanted;
    if (keepQueue) return;
    this.queueClean = true;
    this.running = true;
  }

  /** Whether Postfix runs: false from stopPostfix() until it is started again. */
  get postfixRunning(): boolean {
    return this.running;
  }

  /**
   * Postfix stops as a whole (master, queue manager, smtpd: what `postfix
   * stop` does) while the container, Dovecot and the queue on disk stay:
   * an outage, not a death. Resolves once port 25 refuses connections.
   */
  async stopPostfix(): Promise<void> {
    await this.run(["lab-postfix", "stop"]);
    this.running = false;
  }

  /**
   * Starts a stopped Postfix again; resolves once the master and the queue
   * manager run and port 25 answers 220. Queued mail is then Postfix's to
   * retry (retry() sends it at once).
   */
  async startPostfix(): Promise<void> {
    await this.run(["lab-postfix", "start"]);
    this.running = true;
  }

  /** A real stop and start (not a reload), with the queue on disk carried over. */
  async restartPostfix(): Promise<void> {
    await this.stopPostfix();
    await this.startPostfix();
  }

  /**
   * Put the admin's own files in place (removing the previous scenario's):
   * maps under /etc/postfix (indexed ones rebuilt with postmap) and master.cf
   * entries, which lab-apply appends to the role's master.cf.
   */
  async useOwnFiles(own: OwnConfig | undefined, settings: Record<string, string>): Promise<void> {
    const files = own?.files ?? [];
    if (this.ownFiles.length === 0 && files.length === 0 && !own?.masterCf) return;
    await this.run(["rm", "-f", OWN_MASTER_CF, ...this.ownFiles, ...this.ownFiles.map((file) => `${file}.db`)]);
    this.ownFiles = files.map((file) => file.target);
    const contents = [
      ...files.map((file) => ({ content: file.content, target: file.target, mode: 0o644 })),
      ...(own?.masterCf ? [{ content: own.masterCf.text, target: OWN_MASTER_CF, mode: 0o644 }] : []),
    ];
    if (contents.length === 0) return;
    await this.copyContentToContainer(contents);
    // Postfix waits for freshly written files to settle; backdate them, then build the indexed maps.
    await this.run(["touch", "-d", "10 seconds ago", ...contents.map((file) => file.target)]);
    for (const map of indexedMapsIn(settings, this.ownFiles)) await this.run(["postmap", map]);
  }

  /** The Postfix and OpenSSL versions this container runs, asked from the programs themselves; the release is the version's first two parts. */
  async software(): Promise<PostfixSoftware> {
    const [postfix, openssl] = await Promise.all([this.run(["postconf", "-h", "mail_version"]), this.run(["openssl", "version"])]);
    const version = postfix.stdout.trim();
    const release = version.split(".").slice(0, 2).join(".");
    if (!isPostfixRelease(release)) throw new Error(`${this.title.container} runs Postfix ${version}, not one of the releases the harness knows`);
    return { mta: "postfix", release, version, tls: openssl.stdout.trim() };
  }

  /** `postqueue -j`: one JSON object per queued message. */
  async queueJson(): Promise<string> {
    return (await this.run(["lab-queue"])).stdout;
  }

  async queued(): Promise<QueuedMessage[]> {
    return parsePostqueueJson(await this.queueJson());
  }

  /** Deliver this queued message now instead of at its next retry time (`postqueue -i`). */
  async retry(queueId: string): Promise<void> {
    await this.run(["postqueue", "-i", queueId]);
  }

  /**
   * Deliver everything queued now (`postqueue -f`), what an admin does after
   * an outage: unlike retry, it also reaches a message the queue manager put
   * back into incoming for 60 s when it found it "still being delivered".
   */
  async flush(): Promise<void> {
    await this.run(["postqueue", "-f"]);
  }
}

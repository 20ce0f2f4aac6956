/**
 * The test world: one private network, Alice's provider (sender) and Bob's
 * provider (receiver), started once and reconfigured in place per scenario.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { StartedTestContainer } from "testcontainers";
import { certificateSha256Hex, spkiSha256Hex } from "../pki/digests.js";
import { ensurePki, ensureServerVariant, type ServerCredentials, type VariantCredentials } from "../pki/index.js";
import { DEFAULT_DNS_SETTINGS } from "../scenario/dnsDefaults.js";
import type { CertificateKey, CertificateVariant, DnsSettings, OwnConfig, Role } from "../scenario/types.js";
import { dnsPlan, mtaStsHosts, type TlsaDigests, type WorldAddresses } from "./zones.js";
import { assertDockerAvailable, deathNotice, dockerClient, execChecked } from "./docker.js";
import { assertBaseImage, ensureImage } from "./images.js";
import { LogBook } from "./logBook.js";
import { IMAPS_PORT, MtaContainer, SMTP_PORT, SUBMISSIONS_PORT } from "./mtaContainer.js";
import {
  certificateNames,
  dovecotSniConfig,
  dovecotUsers,
  backendHost,
  hostAliases,
  hostedDomains,
  mxHosts,
  mailboxTable,
  PROVIDERS,
  roleSettings,
  sniFiles,
  PRESENTED_FILES,
  sniTable,
  transportTable,
  type ProviderIdentity,
  type WorldDns,
} from "./providers.js";
import { newRunId, removeLeftovers, removeRun, runLabels } from "./runLabels.js";
import { Dns } from "./dns.js";
import { DnsContainer, MTA_STS_RESOLVER_PORT } from "./dnsContainer.js";
import { Wire } from "./wire.js";
import { WireContainer } from "./wireContainer.js";
import { wireProgram } from "./wireProgram.js";
import { applyTestcontainersDefaults } from "./testcontainersDefaults.js";

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

/** The certificate a provider's Postfix presents (port 25 and 465), with its fingerprints for pinning. */
export interface PresentedCertificate {
  variant: CertificateVariant;
  key: CertificateKey;
  certSha256: string;
  pkeySha256: string;
  subjectCN: string;
  /** The harness CA is sent after the leaf (for DANE-TA records). */
  chainWithCa: boolean;
}

const OWN_MASTER_CF = "/etc/starttls-lab/own-master.cf";

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

function presentedBy(issued: VariantCredentials): PresentedCertificate {
  return {
    variant: issued.variant,
    key: issued.keyType,
    certSha256: issued.certSha256,
    pkeySha256: issued.pkeySha256,
    subjectCN: issued.subjectCN,
    chainWithCa: false,
  };
}

/** One mail provider of a started world. */
export class Provider {
  private presented: PresentedCertificate;
  private ownFiles: string[] = [];

  constructor(
    readonly identity: ProviderIdentity,
    readonly container: StartedTestContainer,
    readonly log: LogBook,
    readonly password: string,
    readonly credentials: ServerCredentials,
    private readonly pkiDir: string,
    private readonly caCertPem: string,
    /** What the container was started with on ports 25 and 465. */
    initiallyPresented: VariantCredentials,
  ) {
    this.presented = presentedBy(initiallyPresented);
  }

  /**
   * Make Postfix present this certificate from the next connection on (each
   * smtpd reads it when it starts; IMAPS keeps its own valid certificate).
   */
  async presentCertificate(variant: CertificateVariant, key: CertificateKey, options: { chainWithCa?: boolean } = {}): Promise<PresentedCertificate> {
    const chainWithCa = options.chainWithCa ?? false;
    if (this.presented.variant === variant && this.presented.key === key && this.presented.chainWithCa === chainWithCa) return this.presented;
    const issued: VariantCredentials = await ensureServerVariant({
      cacheDir: this.pkiDir,
      spec: { names: certificateNames(this.identity), variant, keyType: key },
    });
    // A DANE-TA (2 0 1) record names the CA itself: the client can match it only if the server sends the CA too.
    const chain = chainWithCa ? `${issued.certPem.trimEnd()}\n${this.caCertPem.trimEnd()}\n` : issued.certPem;
    await this.container.copyContentToContainer([
      { content: chain, target: PRESENTED_FILES.cert, mode: 0o644 },
      { content: issued.keyPem, target: PRESENTED_FILES.key, mode: 0o600 },
    ]);
    this.presented = { ...presentedBy(issued), chainWithCa };
    return this.presented;
  }

  /** The certificate Postfix presents on ports 25 and 465 now. */
  get presentedCertificate(): PresentedCertificate {
    return this.presented;
  }

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
  async applySettings(settings: Record<string, string>): Promise<void> {
    const args = Object.entries(settings).map(([name, value]) => `${name}=${value}`);
    const result = await this.container.exec(["lab-apply", ...args]);
    if (result.exitCode !== 0) {
      throw new Error(`applying settings to the ${this.identity.role} failed (exit ${result.exitCode}): ${result.output.trim()}`);
    }
    if (/warning|fatal/i.test(result.output)) {
      throw new Error(`Postfix on the ${this.identity.role} complained about the settings: ${result.output.trim()}`);
    }
  }

  /**
   * Put the admin's own files in place (removing the previous scenario's):
   * maps under /etc/postfix (indexed ones rebuilt with postmap) and master.cf
   * entries, which lab-apply appends to the role's master.cf.
   */
  async useOwnFiles(own: OwnConfig | undefined, settings: Record<string, string>): Promise<void> {
    const files = own?.files ?? [];
    if (this.ownFiles.length === 0 && files.length === 0 && !own?.masterCf) return;
    await this.exec(["rm", "-f", OWN_MASTER_CF, ...this.ownFiles, ...this.ownFiles.map((file) => `${file}.db`)]);
    this.ownFiles = files.map((file) => file.target);
    const contents = [
      ...files.map((file) => ({ content: file.content, target: file.target, mode: 0o644 })),
      ...(own?.masterCf ? [{ content: own.masterCf.text, target: OWN_MASTER_CF, mode: 0o644 }] : []),
    ];
    if (contents.length === 0) return;
    await this.container.copyContentToContainer(contents);
    // Postfix waits for freshly written files to settle; backdate them, then build the indexed maps.
    await this.exec(["touch", "-d", "10 seconds ago", ...contents.map((file) => file.target)]);
    for (const map of indexedMapsIn(settings, this.ownFiles)) await this.exec(["postmap", map]);
  }

  private exec(command: string[]): Promise<string> {
    return execChecked(this.container, command, `on the ${this.identity.role}`);
  }

  /** Undefined while the container runs; otherwise what stopped it, with its last log lines. */
  deathNotice(): Promise<string | undefined> {
    return deathNotice(`the ${this.identity.role} container (${this.identity.smtpHost})`, this.container, this.log);
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
    /** The proxy on the port-25 hop: every connection from the sender to the receiver's MX names crosses it. */
    readonly wire: Wire,
    /** Zones, the validating resolver both providers use, and MTA-STS. */
    readonly dns: Dns,
    readonly addresses: WorldAddresses,
    /** The TLSA digests that do not change from scenario to scenario. */
    private readonly fixedDigests: Omit<TlsaDigests, "presentedKey"> & { otherDomains: Record<string, string> },
    readonly timings: StartupTimings,
  ) {
  }

  provider(role: Role): Provider {
    return role === "sender" ? this.sender : this.receiver;
  }

  /** Undefined while every container runs; otherwise which stopped and its last log lines. */
  async deathNotice(): Promise<string | undefined> {
    const notices = await Promise.all([this.sender.deathNotice(), this.receiver.deathNotice(), this.wire.deathNotice(), this.dns.deathNotice()]);
    const dead = notices.filter((notice): notice is string => notice !== undefined);
    return dead.length > 0 ? dead.join("\n") : undefined;
  }

  static async start(options: WorldOptions = {}): Promise<MailWorld> {
    applyTestcontainersDefaults();
    const progress = options.onProgress ?? (() => {});
    const started = Date.now();
    await assertDockerAvailable();
    const leftovers = await removeLeftovers();
    if (leftovers.containers.length > 0) progress(`removed ${leftovers.containers.length} container(s) left by runs that died`);

    await assertBaseImage();
    const imageStarted = Date.now();
    const pkiDir = path.join(options.cacheDir ?? defaultCacheDir(), "pki");
    const pkiPromise = (async () => {
      const pkiStarted = Date.now();
      const pki = await ensurePki({
        cacheDir: pkiDir,
        servers: Object.fromEntries([
          ["sender", { names: certificateNames(PROVIDERS.sender) }],
          ["receiver", { names: certificateNames(PROVIDERS.receiver) }],
          ...PROVIDERS.receiver.extraDomains.map((hosted) => [`domain ${hosted.domain}`, { names: certificateNames(hosted) }] as const),
        ]),
      });
      return { pki, ms: Date.now() - pkiStarted };
    })();
    const lockDir = path.join(options.cacheDir ?? defaultCacheDir(), "locks");
    const [image, wireImage, dnsImage, { pki, ms: pkiMs }] = await Promise.all([
      ensureImage("mta", lockDir, progress),
      ensureImage("wire", lockDir, progress),
      ensureImage("dns", lockDir, progress),
      pkiPromise,
    ]);
    const imageMs = Date.now() - imageStarted;
    if (pki.generated.length > 0) progress(`generated ${pki.generated.join(", ")}`);

    const runId = newRunId();
    const labels = runLabels(runId);
    const networkName = `starttls-lab-${runId}`;
    liveRuns.add(runId);
    await dockerClient().createNetwork({ Name: networkName, Driver: "bridge", Labels: labels, CheckDuplicate: true });

    const containersStarted = Date.now();
    // The DNS first: the providers are told its address as their nameserver.
    const startDns = async (): Promise<Dns> => {
      const policyServer = await ensureServerVariant({ cacheDir: pkiDir, spec: { names: mtaStsHosts(), variant: "valid", keyType: "rsa" } });
      const log = new LogBook("dns");
      progress("starting dns (zones, validating resolver, MTA-STS)");
      const container = await new DnsContainer(dnsImage.tag)
        .withWorldNetwork(networkName, [])
        .withName(`starttls-lab-${runId}-dns`)
        .withLabels(labels)
        .withTls(pki.caCertPem, policyServer.certPem, policyServer.keyPem)
        .withLogBook(log)
        .start();
      return new Dns(container, log, container.getIpAddress(networkName));
    };
    // A world that cannot start leaves nothing behind.
    const abandonRun = async (error: unknown): Promise<never> => {
      await removeRun(runId).catch(() => undefined);
      liveRuns.delete(runId);
      throw error;
    };
    const dns = await startDns().catch(abandonRun);
    const worldDns: WorldDns = { resolver: dns.address, mtaStsPort: MTA_STS_RESOLVER_PORT };

    const startProvider = async (role: Role): Promise<Provider> => {
      const identity = PROVIDERS[role];
      const credentials = pki.servers[role];
      // Ports 25 and 465 start with the certificate scenarios ask for by default (valid, RSA),
      // so the first scenario has nothing to install.
      const presented = await ensureServerVariant({ cacheDir: pkiDir, spec: { names: certificateNames(identity), variant: "valid", keyType: "rsa" } });
      if (!credentials) throw new Error(`no certificate for the ${role}`);
      const password = randomBytes(12).toString("base64url");
      const log = new LogBook(role === "sender" ? "sender (Alice's provider)" : "receiver (Bob's provider)");
      progress(`starting ${role} (${identity.smtpHost})`);
      const sniCredentials = Object.fromEntries(
        identity.extraDomains.flatMap((hosted) => {
          const domainCredentials = pki.servers[`domain ${hosted.domain}`];
          if (!domainCredentials) return [];
          const files = sniFiles(hosted);
          const strip = (file: string) => file.replace("/etc/starttls-lab/", "");
          return [
            [strip(files.cert), domainCredentials.certPem],
            [strip(files.key), domainCredentials.keyPem],
          ];
        }),
      );
      const container = await new MtaContainer(image.tag)
        .withRole(role, networkName, hostAliases(identity))
        .withEnvironment({ LAB_RESOLVER: worldDns.resolver })
        .withName(`starttls-lab-${runId}-${role}`)
        .withLabels(labels)
        .withLabFiles({
          "role.cf": roleSettings(identity, worldDns).join("\n") + "\n",
          transport: transportTable(identity),
          mailboxes: mailboxTable(identity),
          users: dovecotUsers(identity, password),
          sni: sniTable(identity),
          "dovecot-sni.conf": dovecotSniConfig(identity),
          "tls/ca.pem": pki.caCertPem,
          "tls/server.pem": presented.certPem,
          "tls/server.key": presented.keyPem,
          "tls/imap.pem": credentials.certPem,
          "tls/imap.key": credentials.keyPem,
          ...sniCredentials,
        })
        .withLogBook(log)
        .start();
      return new Provider(identity, container, log, password, credentials, pkiDir, pki.caCertPem, presented);
    };

    const startWire = async (): Promise<Wire> => {
      const receiver = PROVIDERS.receiver;
      // The attacker's certificate names the receiver's hosts but comes from a CA the sender does not trust.
      const attacker = await ensureServerVariant({
        cacheDir: pkiDir,
        spec: { names: hostedDomains(receiver).flatMap(certificateNames), variant: "unknown-ca", keyType: "rsa" },
      });
      const log = new LogBook("wire");
      progress(`starting the wire (${mxHosts(receiver).join(", ")})`);
      const container = await new WireContainer(wireImage.tag)
        .withWorldNetwork(networkName, mxHosts(receiver))
        .withName(`starttls-lab-${runId}-wire`)
        .withLabels(labels)
        .withUpstream(backendHost(receiver), SMTP_PORT)
        .withProgram(await wireProgram())
        .withMitmCertificate(attacker.certPem, attacker.keyPem)
        .withLogBook(log)
        .start();
      return new Wire(container, log);
    };

    const [senderStart, receiverStart, wireStart] = await Promise.allSettled([startProvider("sender"), startProvider("receiver"), startWire()]);
    if (senderStart.status === "rejected") return abandonRun(senderStart.reason);
    if (receiverStart.status === "rejected") return abandonRun(receiverStart.reason);
    if (wireStart.status === "rejected") return abandonRun(wireStart.reason);
    const [sender, receiver, wire] = [senderStart.value, receiverStart.value, wireStart.value];
    const addresses: WorldAddresses = {
      dns: dns.address,
      sender: sender.container.getIpAddress(networkName),
      receiver: receiver.container.getIpAddress(networkName),
      wire: wire.container.getIpAddress(networkName),
    };
    const fixedDigests = {
      otherKey: spkiSha256Hex(pki.servers.sender!.certPem),
      caCertificate: certificateSha256Hex(pki.caCertPem),
      otherDomains: Object.fromEntries(
        PROVIDERS.receiver.extraDomains.map((hosted) => [hosted.domain, spkiSha256Hex(pki.servers[`domain ${hosted.domain}`]!.certPem)]),
      ),
    };
    const now = Date.now();
    const timings: StartupTimings = {
      imageMs,
      pkiMs,
      containersMs: now - containersStarted,
      totalMs: now - started,
      imageBuilt: image.built || wireImage.built || dnsImage.built,
      keysGenerated: pki.generated,
    };
    const world = new MailWorld(runId, networkName, pki.caCertPem, sender, receiver, wire, dns, addresses, fixedDigests, timings);
    try {
      await world.publishDns(DEFAULT_DNS_SETTINGS);
    } catch (error) {
      await world.stop();
      throw error;
    }
    progress(`world ${runId} ready`);
    return world;
  }

  /**
   * Publish what a scenario's DNS settings ask for, with TLSA records made
   * from the certificate Bob's provider presents now (apply the scenario's
   * certificates first).
   */
  async publishDns(settings: DnsSettings): Promise<void> {
    const { otherDomains, ...fixed } = this.fixedDigests;
    const presentedKey = { ...otherDomains, [this.receiver.identity.domain]: this.receiver.presentedCertificate.pkeySha256.replace(/:/g, "").toLowerCase() };
    await this.dns.publish(dnsPlan(settings, this.addresses, { ...fixed, presentedKey }));
  }

  /** Stop and remove the containers and the network. Every call waits for the same removal. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([
        this.sender.container.stop({ remove: true, timeout: 2_000 }),
        this.receiver.container.stop({ remove: true, timeout: 2_000 }),
        this.wire.container.stop({ remove: true, timeout: 2_000 }),
        this.dns.container.stop({ remove: true, timeout: 2_000 }),
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

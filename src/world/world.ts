/**
 * The test world: one private network with four containers, started once
 * and reconfigured in place per scenario: the dns (zones, validating
 * resolver, MTA-STS), Alice's provider (sender), Bob's provider (receiver)
 * and the wire, the proxy on the port-25 hop between them. Each provider
 * runs the MTA the world was asked for (Postfix by default, Exim, or
 * OpenSMTPD as the sender). Each container class builds and starts its own
 * kind (testcontainers' module shape); the world only composes them.
 */
import os from "node:os";
import path from "node:path";
import { chosenPostfixRelease, type PostfixRelease } from "../core/releases.js";
import type { ProviderSoftware, WorldSoftware } from "../core/result.js";
import { certificateDigest } from "../pki/digests.js";
import { DEFAULT_DNS_SETTINGS } from "../scenario/dnsDefaults.js";
import { MTA_NAMES, type Mta } from "../scenario/levels.js";
import type { DnsSettings, Role } from "../scenario/types.js";
import { WorldCertificates, type ProviderCredentials } from "./credentials.js";
import { assertDockerAvailable, dockerClient } from "./docker.js";
import { DNS_TITLE, DnsContainer, StartedDnsContainer } from "./dnsContainer.js";
import { ensureImage } from "./images.js";
import { attachContainer } from "./attach.js";
import { EximContainer, type StartedEximContainer } from "./eximContainer.js";
import { MtaContainer, mtaTitle, StartedMtaContainer } from "./mtaContainer.js";
import { OpensmtpdContainer, type StartedOpensmtpdContainer } from "./opensmtpdContainer.js";
import { SMTP_PORT, type PresentedCertificate } from "./providerContainer.js";
import { backendHost, certificateNames, hostedDomains, mxHosts, PROVIDERS, type WorldDns } from "./providers.js";
import { newRunId, removeRun, runLabels, sweepDeadRuns } from "./runLabels.js";
import { applyTestcontainersDefaults } from "./testcontainersDefaults.js";
import { StartedWireContainer, WIRE_TITLE, WireContainer } from "./wireContainer.js";
import { wireProgram } from "./wireProgram.js";
import type { StartedWorldContainer, WorldNetwork } from "./worldContainer.js";
import { dnsPlan, mtaStsHosts, type TlsaDigests, type WorldAddresses } from "./zones.js";

/** A started provider, whichever MTA it runs: `mta` tells them apart. */
export type StartedProvider = StartedMtaContainer | StartedEximContainer | StartedOpensmtpdContainer;

/** The role runs another MTA than Postfix where something only Postfix has was asked of it. */
export class NotPostfixError extends Error {
  constructor(role: Role, mta: Mta, what: string) {
    super(`${what} needs Postfix as the ${role}, which runs ${MTA_NAMES[mta]} in this world`);
    this.name = "NotPostfixError";
  }
}

/** See MailWorld.joining. */
export interface WorldJoining {
  network: WorldNetwork;
  dns: WorldDns;
  certificates: WorldCertificates;
  credentials: ProviderCredentials;
}

export interface WorldOptions {
  /** Where certificates are cached between runs (default ~/.cache/starttls-lab). */
  cacheDir?: string;
  /** Called with a short text at each start-up step (for live progress). */
  onProgress?: (step: string) => void;
  /** The Postfix release both providers run, or each role's (default: chosenPostfixRelease()); a role running another MTA ignores it. */
  postfix?: PostfixRelease | Record<Role, PostfixRelease>;
  /** The MTA each provider runs (default: Postfix for both). */
  mta?: Partial<Record<Role, Mta>>;
  /** Keep the world after this process exits, under this name (`starttls-lab up`): leftover sweeps leave it alone. */
  keptAs?: string;
}

/**
 * What a process that re-attaches to a running world must be told, because
 * the containers do not say it: each mailbox password and what each
 * provider's Postfix was made to present and read (see MailWorld.memory).
 */
export interface WorldMemory {
  runId: string;
  networkName: string;
  postfix: Record<Role, PostfixRelease>;
  providers: Record<Role, { password: string; presented: PresentedCertificate; ownFiles: string[] }>;
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

/** What each provider of a world started with these options runs: its MTA (Postfix unless chosen) and the Postfix release, given or chosenPostfixRelease(). */
export function providersOf(options: Pick<WorldOptions, "postfix" | "mta">): Record<Role, { mta: Mta; release: PostfixRelease }> {
  const release = options.postfix ?? chosenPostfixRelease();
  const of = (role: Role) => ({ mta: options.mta?.[role] ?? "postfix", release: typeof release === "string" ? release : release[role] });
  return { sender: of("sender"), receiver: of("receiver") };
}

/** Runs whose containers may exist (from network creation until stopped), so a signal handler can remove them. */
export const liveRuns = new Set<string>();

/** Remove every container and network of the runs this process still has (SIGINT, SIGTERM). */
export async function removeLiveRuns(): Promise<void> {
  await Promise.allSettled([...liveRuns].map((runId) => removeRun(runId)));
  liveRuns.clear();
}

/** The TLSA digests that do not change from scenario to scenario. */
type FixedDigests = Omit<TlsaDigests, "presentedKey"> & { otherDomains: Record<string, string> };

function fixedDigestsOf(certificates: WorldCertificates, providers: Record<Role, ProviderCredentials>): FixedDigests {
  return {
    otherKey: providers.sender.own.pkeySha256.tlsa,
    caCertificate: certificateDigest(certificates.caCertPem).tlsa,
    otherDomains: Object.fromEntries(providers.receiver.sni.map(({ hosted, credentials }) => [hosted.domain, credentials.pkeySha256.tlsa])),
  };
}

async function openCertificates(cacheDir: string): Promise<{ certificates: WorldCertificates; providers: Record<Role, ProviderCredentials> }> {
  const certificates = await WorldCertificates.open(path.join(cacheDir, "pki"));
  const [sender, receiver] = await Promise.all([certificates.provider(PROVIDERS.sender), certificates.provider(PROVIDERS.receiver)]);
  return { certificates, providers: { sender, receiver } };
}

/** Waits for every start; if one fails, the run's containers and network are removed and its error thrown. */
async function allStarted<T extends unknown[]>(runId: string, starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((start): start is PromiseRejectedResult => start.status === "rejected");
  if (failed) {
    await removeRun(runId).catch(() => undefined);
    liveRuns.delete(runId);
    throw failed.reason;
  }
  return settled.map((start) => (start as PromiseFulfilledResult<unknown>).value) as T;
}

export class MailWorld {
  private stopping?: Promise<void>;
  /** Every container of the world: what stop() removes and deathNotice() checks. */
  private readonly containers: readonly StartedWorldContainer[];

  private constructor(
    readonly runId: string,
    readonly networkName: string,
    private readonly certificates: WorldCertificates,
    /** Zones, the validating resolver both providers use, and MTA-STS. */
    readonly dns: StartedDnsContainer,
    readonly sender: StartedProvider,
    readonly receiver: StartedProvider,
    /** The proxy on the port-25 hop: every connection from the sender to the receiver's MX names crosses it. */
    readonly wire: StartedWireContainer,
    private readonly fixedDigests: FixedDigests,
    readonly timings: StartupTimings,
    /** Each provider's MTA and TLS library, read from its container at start (never assumed from the release). */
    readonly software: WorldSoftware,
  ) {
    this.containers = [dns, sender, receiver, wire];
  }

  /** The harness CA, the only trust anchor of the world (Alice and Bob trust it). */
  get caCertPem(): string {
    return this.certificates.caCertPem;
  }

  get addresses(): WorldAddresses {
    return { dns: this.dns.address, sender: this.sender.address, receiver: this.receiver.address, wire: this.wire.address };
  }

  provider(role: Role): StartedProvider {
    return role === "sender" ? this.sender : this.receiver;
  }

  /** The role's provider where only Postfix will do (events, TLSRPT, the admin's own files); throws NotPostfixError for another MTA. */
  postfix(role: Role, what: string): StartedMtaContainer {
    const provider = this.provider(role);
    if (provider.mta !== "postfix") throw new NotPostfixError(role, provider.mta, what);
    return provider;
  }

  /** The MTA each provider runs. */
  get mta(): Record<Role, Mta> {
    return { sender: this.sender.mta, receiver: this.receiver.mta };
  }

  /** Undefined while every container runs; otherwise which stopped and its last log lines. */
  async deathNotice(): Promise<string | undefined> {
    const notices = await Promise.all(this.containers.map((container) => container.deathNotice()));
    const dead = notices.filter((notice): notice is string => notice !== undefined);
    return dead.length > 0 ? dead.join("\n") : undefined;
  }

  static async start(options: WorldOptions = {}): Promise<MailWorld> {
    applyTestcontainersDefaults();
    const progress = options.onProgress ?? (() => {});
    const started = Date.now();
    await assertDockerAvailable();
    const leftovers = await sweepDeadRuns();
    if (leftovers.containers.length > 0) progress(`removed ${leftovers.containers.length} container(s) left by runs that died`);

    const cacheDir = options.cacheDir ?? defaultCacheDir();
    const lockDir = path.join(cacheDir, "locks");
    const imageStarted = Date.now();
    const pki = (async () => {
      const pkiStarted = Date.now();
      return { ...(await openCertificates(cacheDir)), ms: Date.now() - pkiStarted };
    })();
    const chosen = providersOf(options);
    const releaseOf = (role: Role): PostfixRelease => chosen[role].release;
    const mtaOf = (role: Role): Mta => chosen[role].mta;
    if (mtaOf("receiver") === "opensmtpd") throw new Error("OpenSMTPD cannot be Bob's provider: it serves one domain here, and Bob's provider hosts three");
    // The one place a world chooses the mail servers it runs.
    const providerImage = (role: Role) => {
      const mta = mtaOf(role);
      return mta === "postfix" ? ensureImage("mta", lockDir, progress, releaseOf(role)) : ensureImage(mta, lockDir, progress);
    };
    const [senderImage, receiverImage, wireImage, dnsImage, { certificates, providers, ms: pkiMs }] = await Promise.all([
      providerImage("sender"),
      providerImage("receiver"),
      ensureImage("wire", lockDir, progress),
      ensureImage("dns", lockDir, progress),
      pki,
    ]);
    const imageMs = Date.now() - imageStarted;
    const keysGenerated = [...certificates.generated];
    if (keysGenerated.length > 0) progress(`generated ${keysGenerated.join(", ")}`);

    const runId = newRunId();
    const network: WorldNetwork = { runId, name: `starttls-lab-${runId}`, labels: runLabels(runId, options.keptAs) };
    liveRuns.add(runId);
    await dockerClient().createNetwork({ Name: network.name, Driver: "bridge", Labels: network.labels, CheckDuplicate: true });

    const containersStarted = Date.now();
    // The DNS first: the providers are told its address as their nameserver.
    const [dns] = await allStarted<[StartedDnsContainer]>(runId, [
      (async () => {
        const policyServer = await certificates.server(mtaStsHosts());
        progress("starting dns (zones, validating resolver, MTA-STS)");
        return new DnsContainer(dnsImage.tag).inWorld(network, "dns").withTls(certificates.caCertPem, policyServer).start();
      })(),
    ]);
    const worldDns: WorldDns = dns.forProviders;

    const startProvider = (role: Role): Promise<StartedProvider> => {
      const identity = PROVIDERS[role];
      const mta = mtaOf(role);
      const image = (role === "sender" ? senderImage : receiverImage).tag;
      progress(`starting ${role} (${identity.smtpHost}, ${MTA_NAMES[mta]})`);
      const module = mta === "exim" ? new EximContainer(image, identity) : mta === "opensmtpd" ? new OpensmtpdContainer(image, identity) : new MtaContainer(image, identity);
      return module.inProviderWorld(network, worldDns).withCertificates(certificates, providers[role]).start();
    };
    const startWire = async (): Promise<StartedWireContainer> => {
      const receiver = PROVIDERS.receiver;
      // The attacker's certificate names the receiver's hosts but comes from a CA the sender does not trust.
      const attacker = await certificates.server(hostedDomains(receiver).flatMap(certificateNames), "unknown-ca");
      progress(`starting the wire (${mxHosts(receiver).join(", ")})`);
      return new WireContainer(wireImage.tag)
        .inWorld(network, "wire", mxHosts(receiver))
        .withUpstream(backendHost(receiver), SMTP_PORT)
        .withProgram(await wireProgram())
        .withMitmCertificate(attacker)
        .start();
    };
    const [sender, receiver, wire] = await allStarted<[StartedProvider, StartedProvider, StartedWireContainer]>(runId, [
      startProvider("sender"),
      startProvider("receiver"),
      startWire(),
    ]);

    const [senderSoftware, receiverSoftware] = await allStarted<[ProviderSoftware, ProviderSoftware]>(runId, [
      sender.software(),
      receiver.software(),
    ]);
    const software: WorldSoftware = { sender: senderSoftware, receiver: receiverSoftware };
    const fixedDigests = fixedDigestsOf(certificates, providers);
    const now = Date.now();
    const timings: StartupTimings = {
      imageMs,
      pkiMs,
      containersMs: now - containersStarted,
      totalMs: now - started,
      imageBuilt: senderImage.built || receiverImage.built || wireImage.built || dnsImage.built,
      keysGenerated,
    };
    const world = new MailWorld(runId, network.name, certificates, dns, sender, receiver, wire, fixedDigests, timings, software);
    try {
      await world.publishDns(DEFAULT_DNS_SETTINGS);
    } catch (error) {
      await world.stop();
      throw error;
    }
    progress(`world ${runId} ready`);
    return world;
  }

  /** What MailWorld.attach needs to act on this world from another process. */
  get memory(): WorldMemory {
    const what = "keeping a world for later commands (starttls-lab up)";
    const provider = (role: Role) => {
      const started = this.postfix(role, what);
      return { password: started.password, presented: started.presentedCertificate, ownFiles: [...started.ownFileTargets] };
    };
    const release = (role: Role) => {
      const software = this.software[role];
      if (software.mta !== "postfix") throw new NotPostfixError(role, software.mta, what);
      return software.release;
    };
    return {
      runId: this.runId,
      networkName: this.networkName,
      postfix: { sender: release("sender"), receiver: release("receiver") },
      providers: { sender: provider("sender"), receiver: provider("receiver") },
    };
  }

  /**
   * The running world another process started and remembered, with each
   * container's log followed from now on. Stopping it removes it; a process
   * that only uses it lets it run. Throws WorldGoneError when a container
   * is not running any more.
   */
  static async attach(memory: WorldMemory, options: Pick<WorldOptions, "cacheDir"> = {}): Promise<MailWorld> {
    applyTestcontainersDefaults();
    const started = Date.now();
    await assertDockerAvailable();
    const pkiStarted = Date.now();
    const { certificates, providers } = await openCertificates(options.cacheDir ?? defaultCacheDir());
    const pkiMs = Date.now() - pkiStarted;
    const { runId, networkName } = memory;
    const attachProvider = async (role: Role): Promise<StartedMtaContainer> => {
      const identity = PROVIDERS[role];
      const { container, log, address } = await attachContainer(runId, role, networkName, mtaTitle(identity));
      const { password, presented, ownFiles } = memory.providers[role];
      return new StartedMtaContainer(container, log, mtaTitle(identity), address, {
        identity,
        password,
        certificates,
        own: providers[role].own,
        restoredPresented: presented,
        restoredOwnFiles: ownFiles,
      });
    };
    const attachOther = async <T>(role: string, title: { log: string; container: string }, make: (attached: Awaited<ReturnType<typeof attachContainer>>) => T) =>
      make(await attachContainer(runId, role, networkName, title));
    const [dns, sender, receiver, wire] = await Promise.all([
      attachOther("dns", DNS_TITLE, ({ container, log, address }) => new StartedDnsContainer(container, log, DNS_TITLE, address)),
      attachProvider("sender"),
      attachProvider("receiver"),
      attachOther("wire", WIRE_TITLE, ({ container, log, address }) => new StartedWireContainer(container, log, WIRE_TITLE, address)),
    ]);
    const [senderSoftware, receiverSoftware] = await Promise.all([sender.software(), receiver.software()]);
    const totalMs = Date.now() - started;
    const timings: StartupTimings = { imageMs: 0, pkiMs, containersMs: totalMs - pkiMs, totalMs, imageBuilt: false, keysGenerated: [...certificates.generated] };
    const software: WorldSoftware = { sender: senderSoftware, receiver: receiverSoftware };
    return new MailWorld(runId, networkName, certificates, dns, sender, receiver, wire, fixedDigestsOf(certificates, providers), timings, software);
  }

  /**
   * What one more mail server needs to live in this world as the role's
   * provider, beside the world's own (a test comparing two MTAs in one
   * world): the network, labelled with this run so stop() removes
   * that container too; the DNS; the harness CA and the role's credentials.
   */
  async joining(role: Role): Promise<WorldJoining> {
    return {
      network: { runId: this.runId, name: this.networkName, labels: runLabels(this.runId) },
      dns: this.dns.forProviders,
      certificates: this.certificates,
      credentials: await this.certificates.provider(PROVIDERS[role]),
    };
  }

  /**
   * Publish what a scenario's DNS settings ask for, with TLSA records made
   * from the certificate Bob's provider presents now (apply the scenario's
   * certificates first).
   */
  async publishDns(settings: DnsSettings): Promise<void> {
    const { otherDomains, ...fixed } = this.fixedDigests;
    const presentedKey = { ...otherDomains, [this.receiver.identity.domain]: this.receiver.presentedCertificate.pkeySha256.tlsa };
    await this.dns.publish(dnsPlan(settings, this.addresses, { ...fixed, presentedKey }));
  }

  /** Stop and remove the containers and the network. Every call waits for the same removal. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled(this.containers.map((container) => container.stop({ remove: true, timeout: 2_000 })));
      await removeRun(this.runId).catch(() => undefined);
      liveRuns.delete(this.runId);
    })();
    return this.stopping;
  }

  /**
   * Let the world run on without this process: stop following its
   * containers' logs (another process attaches and follows them now).
   * The containers are not touched; stop() is what removes them.
   */
  detach(): void {
    for (const container of this.containers) container.log.detach();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

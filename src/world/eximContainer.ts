/**
 * A mail provider's container running Exim 4.98 (Debian trixie, GnuTLS)
 * with the same Dovecot, identity files and ports as the Postfix one
 * (MtaContainer), in testcontainers' module shape. Started, it is the
 * harness's handle on that provider: its ports and password, the TLS level
 * its client side uses (in Postfix's words, applied as Exim's own options),
 * its queue (`exim -bp`) and a retry of one message (`exim -M`).
 *
 * The Exim configuration (docker/exim/exim.conf) reads macro files the
 * harness writes into /etc/starttls-lab: role.conf (who the provider is),
 * smtp-client.conf (the remote_smtp transport's TLS options, a sender
 * level) and smtp-server.conf (what port 25 offers, a receiver level).
 */
import { Wait, type StartedTestContainer } from "testcontainers";
import { isReceiverLevel, isSenderLevel, RECEIVER_LEVELS, SENDER_LEVELS, UnsupportedLevelError, type ReceiverLevel, type SenderLevel } from "../scenario/levels.js";
import { UNSUPPORTED_LEVELS } from "../scenario/mtaChoice.js";
import type { OtherMtaSoftware } from "../core/result.js";
import { EXIM_LOG_READER } from "../observe/eximReader.js";
import { parseEximQueue, type EximQueuedMessage } from "../observe/eximQueue.js";
import type { QueuedMessage } from "../observe/queue.js";
import { ProviderContainer, StartedProviderContainer } from "./providerContainer.js";
import { labFile, mailboxFiles } from "./providerFiles.js";
import { hostAliases, hostedDomains, otherRole, PROVIDERS, sniTable, type ProviderIdentity, type WorldDns } from "./providers.js";
import { LABEL_ROLE } from "./runLabels.js";
import { type ContainerTitle, type WorldNetwork } from "./worldContainer.js";

/** The remote_smtp transport options a level sets; every level sets all of them, so none keeps Exim's default by accident. */
export const EXIM_TLS_OPTIONS = [
  "hosts_avoid_tls",
  "hosts_require_tls",
  "tls_verify_hosts",
  "tls_try_verify_hosts",
  "tls_verify_cert_hostnames",
  "hosts_try_dane",
  "hosts_require_dane",
] as const;
export type EximTlsOption = (typeof EXIM_TLS_OPTIONS)[number];
export type EximTlsSettings = Readonly<Record<EximTlsOption, string>>;

/** A level Exim has no setting for, with the reason. */
interface Unsupported {
  unsupported: string;
}

const NO_TLS_OPTIONS: EximTlsSettings = {
  hosts_avoid_tls: "",
  hosts_require_tls: "",
  tls_verify_hosts: "",
  tls_try_verify_hosts: "",
  tls_verify_cert_hostnames: "",
  hosts_try_dane: "",
  hosts_require_dane: "",
};

/**
 * Exim tries STARTTLS with every host unless hosts_avoid_tls names it (there
 * is no hosts_try_tls), and 4.98 tries DANE with every host by default
 * (hosts_try_dane = *): so `may` and `encrypt` name hosts_try_dane empty,
 * or a published TLSA record would make them Postfix's `dane`.
 * tls_try_verify_hosts = * only checks the certificate for the log (CV=).
 */
const OPPORTUNISTIC: EximTlsSettings = { ...NO_TLS_OPTIONS, tls_try_verify_hosts: "*", tls_verify_cert_hostnames: "*" };

export const EXIM_LEVELS: Readonly<Record<SenderLevel, EximTlsSettings | Unsupported>> = {
  none: { ...NO_TLS_OPTIONS, hosts_avoid_tls: "*" },
  may: OPPORTUNISTIC,
  encrypt: { ...OPPORTUNISTIC, hosts_require_tls: "*" },
  // The chain to the harness CA and the MX host's name, as Postfix's verify (smtp_tls_verify_cert_match = hostname).
  verify: { ...NO_TLS_OPTIONS, hosts_require_tls: "*", tls_verify_hosts: "*", tls_verify_cert_hostnames: "*" },
  // DANE where the MX and its TLSA records are DNSSEC-signed, otherwise `may`.
  dane: { ...OPPORTUNISTIC, hosts_try_dane: "*" },
  // Without usable TLSA records Exim defers, as Postfix's dane-only.
  "dane-only": { ...NO_TLS_OPTIONS, hosts_require_dane: "*" },
  secure: { unsupported: UNSUPPORTED_LEVELS.exim.sender.secure! },
};

/** Exim's options for a level in Postfix's words; throws UnsupportedLevelError where Exim has none. */
export function eximSettingsFor(level: string): EximTlsSettings {
  if (!isSenderLevel(level)) throw new UnsupportedLevelError("Exim", level, `it is not a sender level (${SENDER_LEVELS.join(", ")})`);
  const mapped = EXIM_LEVELS[level];
  if ("unsupported" in mapped) throw new UnsupportedLevelError("Exim", level, mapped.unsupported);
  return mapped;
}

/**
 * Port 25's side: tls_advertise_hosts, Exim's own option, and
 * mail_requires_tls, the switch of exim.conf's MAIL ACL (deny !encrypted),
 * for Postfix's encrypt: Exim has no server option that requires TLS.
 */
export type EximServerSettings = Readonly<{
  tls_advertise_hosts: string;
  mail_requires_tls: "yes" | "no";
}>;

export const EXIM_RECEIVER_LEVELS: Readonly<Record<ReceiverLevel, EximServerSettings>> = {
  none: { tls_advertise_hosts: "", mail_requires_tls: "no" },
  may: { tls_advertise_hosts: "*", mail_requires_tls: "no" },
  encrypt: { tls_advertise_hosts: "*", mail_requires_tls: "yes" },
};

export const EXIM_SERVER_OPTIONS = ["tls_advertise_hosts", "mail_requires_tls"] as const;

/** A scenario's own Exim options (`sender.exim`, `receiver.exim`), only those the harness's macro files carry. */
export function nativeOptions(native: Readonly<Record<string, string>>, known: readonly string[], role: "sender" | "receiver"): Record<string, string> {
  const unknown = Object.keys(native).filter((option) => !known.includes(option));
  if (unknown.length > 0) throw new Error(`${role}.exim: ${unknown.join(", ")} not among the options the lab sets on the ${role} (${known.join(", ")})`);
  return { ...native };
}

/** Exim's server settings for a receiver level in Postfix's words. */
export function eximServerSettingsFor(level: string): EximServerSettings {
  if (!isReceiverLevel(level)) {
    throw new UnsupportedLevelError("Exim", level, `a receiver level is one of ${RECEIVER_LEVELS.join(", ")}`, "receiver");
  }
  return EXIM_RECEIVER_LEVELS[level];
}

/** The macro docker/exim/exim.conf reads for a setting: LAB_ and its name in capitals. */
function macroOf(setting: string): string {
  return `LAB_${setting.toUpperCase()}`;
}

/** smtp-client.conf or smtp-server.conf: one macro per setting of the level. */
export function levelMacros(settings: Readonly<Record<string, string>>): string {
  return Object.entries(settings)
    .map(([setting, value]) => `${macroOf(setting)} = ${value}\n`)
    .join("");
}

/** role.conf: the provider's names and which domains it delivers itself or over SMTP (an Exim domain list is colon-separated). */
export function eximRoleMacros(identity: ProviderIdentity): string {
  const domains = (owner: ProviderIdentity) => hostedDomains(owner).map((hosted) => hosted.domain).join(" : ");
  return [
    `PRIMARY_HOSTNAME = ${identity.smtpHost}`,
    `PRIMARY_DOMAIN = ${identity.domain}`,
    `LOCAL_DOMAINS = ${domains(identity)}`,
    `WORLD_DOMAINS = ${domains(PROVIDERS[otherRole(identity.role)])}`,
    "",
  ].join("\n");
}

/** How an Exim provider's container is named: apart from the Postfix one of the same role, which may run beside it. */
export function eximTitle(identity: ProviderIdentity): ContainerTitle {
  return {
    log: identity.role === "sender" ? "Exim sender (Alice's provider)" : "Exim receiver (Bob's provider)",
    container: `the Exim ${identity.role} container (${identity.smtpHost})`,
  };
}

const DAEMON_STARTED = /exim \S+ daemon started/;
/** The macro files of a sender level and a receiver level (docker/exim/exim.conf includes both). */
const CLIENT_MACROS = "smtp-client.conf";
const SERVER_MACROS = "smtp-server.conf";
/** How long Exim may take to re-read its configuration after SIGHUP. */
const RELOAD_TIMEOUT_MS = 20_000;

export class EximContainer extends ProviderContainer<StartedEximContainer> {
  constructor(image: string, identity: ProviderIdentity) {
    super(image, eximTitle(identity), identity);
    this.withWaitStrategy(Wait.forAll([Wait.forLogMessage(DAEMON_STARTED), Wait.forLogMessage(/Dovecot v\S+ .*starting up/)]))
      .withLabels({ [LABEL_ROLE]: `exim-${identity.role}` })
      // Exim writes its log to a file that the entrypoint follows: on tmpfs, tail is woken by inotify.
      .withTmpFs({ "/var/log/exim4": "rw" })
      .withCopyContentToContainer([
        labFile("role.conf", eximRoleMacros(identity)),
        // Postfix's SNI table, which exim.conf's tls_certificate and tls_privatekey look $tls_in_sni up in.
        labFile("sni", sniTable(identity)),
        ...mailboxFiles(identity, this.password),
      ]);
  }

  /**
   * On the world's network, resolving through the world's DNS only, under
   * the provider's names unless told otherwise: beside the world's Postfix
   * provider of the same role, which holds them, it takes none (two
   * containers under backend.iroco.test would split the wire's connections).
   */
  inProviderWorld(network: WorldNetwork, dns: WorldDns, options: { aliases?: string[] } = {}): this {
    return this.inWorld(network, `exim-${this.identity.role}`, options.aliases ?? hostAliases(this.identity)).withEnvironment({ LAB_RESOLVER: dns.resolver });
  }

  protected override started(container: StartedTestContainer, address: string): StartedEximContainer {
    return new StartedEximContainer(container, this.log, this.title, address, this.startedAccess());
  }
}

export class StartedEximContainer extends StartedProviderContainer {
  readonly mta = "exim";
  readonly reader = EXIM_LOG_READER;
  /** Each macro file's content in force: written and checked, and for the server's, re-read by the daemon (none until the harness wrote one). */
  private readonly macrosInForce = new Map<string, string>();
  private readonly readBack = new Map<string, { content: string; printed: unknown }>();
  private level: SenderLevel = "may";
  private receiverLevel: ReceiverLevel = "may";

  /** The sender level last applied (the image starts at `may`). */
  get appliedLevel(): SenderLevel {
    return this.level;
  }

  /** The receiver level last applied (the image starts at `may`). */
  get appliedReceiverLevel(): ReceiverLevel {
    return this.receiverLevel;
  }

  /**
   * Make the client side use this level from the next delivery on. Throws
   * UnsupportedLevelError before changing anything for a level Exim has no
   * equivalent of. The queue on disk is untouched, so a deferred message
   * waits under the new level, unless `emptyQueue` (a new scenario) asks for
   * an empty queue and no memory of earlier failures (lab-exim-apply).
   */
  async applyLevel(level: string, native: Readonly<Record<string, string>> = {}, options: { emptyQueue?: boolean } = {}): Promise<EximTlsSettings> {
    const settings = { ...eximSettingsFor(level), ...nativeOptions(native, EXIM_TLS_OPTIONS, "sender") };
    // Every delivery is a new exim process: the process that received the
    // message runs as Debian-exim and re-executes Exim to regain root
    // (delivery_re_exec in Exim's daemon.c), as `exim -M` does for a retry,
    // and each reads the configuration anew. No SIGHUP (about 1 s).
    await this.applyInOneExec(CLIENT_MACROS, settings, "read by the next delivery", options.emptyQueue ?? false);
    this.level = level as SenderLevel;
    return settings;
  }

  /** Make port 25 offer and require STARTTLS as this receiver level says, from the next connection on. */
  async applyReceiverLevel(level: string, native: Readonly<Record<string, string>> = {}, options: { emptyQueue?: boolean } = {}): Promise<EximServerSettings> {
    const settings = { ...eximServerSettingsFor(level), ...nativeOptions(native, EXIM_SERVER_OPTIONS, "receiver") };
    // The daemon forks the process that answers port 25 and keeps its configuration in memory: it must re-read it.
    await this.applyInOneExec(SERVER_MACROS, settings, "re-read by the daemon", options.emptyQueue ?? false);
    this.receiverLevel = level as ReceiverLevel;
    return settings;
  }

  /**
   * A level's macro file written and the whole configuration checked
   * (`exim -bV` parses it), the queue emptied first if asked, in one
   * `lab-exim-apply`; for the daemon's side, the daemon re-reads it on
   * SIGHUP and this resolves once it logs that it started again. Nothing
   * runs when the file is in force and the queue needs nothing.
   */
  private async applyInOneExec(file: string, settings: Readonly<Record<string, string>>, when: "read by the next delivery" | "re-read by the daemon", emptyQueue: boolean): Promise<void> {
    const content = levelMacros(settings);
    // This file is in force already: writing it again would change nothing (and a reload costs about 1 s).
    const writeMacros = this.macrosInForce.get(file) !== content;
    const empty = emptyQueue && !this.queueClean;
    if (!writeMacros && !empty) return;
    const reload = writeMacros && when === "re-read by the daemon";
    if (writeMacros) this.macrosInForce.delete(file);
    const from = this.log.cursor;
    await this.run(["lab-exim-apply", ...(empty ? ["--empty-queue"] : []), ...(writeMacros ? ["--macros", file, content] : []), ...(reload ? ["--reload"] : [])]);
    if (empty) this.queueClean = true;
    if (reload) {
      await this.log.waitFor((line) => DAEMON_STARTED.test(line), { from, timeoutMs: RELOAD_TIMEOUT_MS, what: "the Exim daemon restarting with the new settings" });
    }
    if (writeMacros) this.macrosInForce.set(file, content);
  }

  /** What Exim printed back for the macro file in force, read once per content of that file. */
  private async printedBack<T>(file: string, read: () => Promise<T>): Promise<T> {
    const content = this.macrosInForce.get(file);
    const known = this.readBack.get(file);
    if (content !== undefined && known?.content === content) return known.printed as T;
    const printed = await read();
    if (content !== undefined) this.readBack.set(file, { content, printed });
    return printed;
  }

  /**
   * Exim reads the presented certificate at each connection (exim.conf's
   * tls_certificate names $tls_in_sni, so the daemon preloads nothing): the
   * new files only need the key readable by the receiving processes.
   */
  protected override async certificateReplaced(): Promise<void> {
    await this.run(["lab-exim-keys"]);
  }

  /** The TLS options of the remote_smtp transport as Exim itself reads them now (`exim -bP transport remote_smtp`), for reports. */
  async nativeSettings(): Promise<EximTlsSettings> {
    return this.printedBack(CLIENT_MACROS, async () => parseTransportOptions((await this.run(["exim", "-bP", "transport", "remote_smtp"])).stdout));
  }

  /** Port 25's settings as Exim reads them now: `exim -bP tls_advertise_hosts` and the MAIL ACL's macro (`exim -bP macro`). */
  async nativeServerSettings(): Promise<EximServerSettings> {
    return this.printedBack(SERVER_MACROS, async () => {
      const advertised = (await this.run(["exim", "-bP", "tls_advertise_hosts"])).stdout;
      const macro = (await this.run(["exim", "-bP", "macro", macroOf("mail_requires_tls")])).stdout;
      return parseServerSettings(advertised, macro);
    });
  }

  /** `exim -bp`: every message in the queue, with its recipients still to deliver and whether it is frozen. */
  async queue(): Promise<EximQueuedMessage[]> {
    return parseEximQueue((await this.run(["exim", "-bp"])).stdout);
  }

  /**
   * Deliver this queued message now, whatever its retry time (`exim -M`);
   * resolves when the attempt is over and logged. Exim says nothing and
   * exits 0 for an id it does not hold, so the queue is asked first; its
   * exit code after an attempt says nothing the log does not (a deferral is
   * not a failure of the command).
   */
  async retry(messageId: string): Promise<void> {
    if (!(await this.queue()).some((message) => message.id === messageId)) {
      throw new Error(`${this.title.container}: no message ${messageId} in the queue to retry`);
    }
    await this.exec(["exim", "-M", messageId]);
  }

  /** Remove a message from the queue without delivering it (`exim -Mrm`), e.g. one a test left deferred. */
  async removeMessage(messageId: string): Promise<void> {
    await this.run(["exim", "-Mrm", messageId]);
  }

  /** The Exim and GnuTLS versions this container runs (`exim -d -bV`: only with debugging does it name its libraries' versions). */
  async software(): Promise<OtherMtaSoftware> {
    const result = await this.run(["exim", "-d", "-bV"]);
    const printed = result.output;
    const exim = /^Exim version (\S+)/m.exec(printed)?.[1];
    const gnutls = /Library version: GnuTLS: Compile: \S+\s+Runtime: (\S+)/.exec(printed)?.[1];
    if (!exim || !gnutls) throw new Error(`exim -bV in ${this.title.container} named no Exim or GnuTLS version:\n${printed}`);
    return { mta: "exim", version: exim, tls: `GnuTLS ${gnutls}` };
  }

  /** The queue in the common model: Exim keeps every message in one queue, and `exim -bp` gives no reason for a wait (the log does). */
  async queued(): Promise<QueuedMessage[]> {
    return (await this.queue()).map((message) => ({
      queueName: message.frozen ? "frozen" : "queue",
      queueId: message.id,
      sender: message.sender,
      recipients: message.recipients.map((address) => ({ address })),
    }));
  }
}

/** The TLS options among `exim -bP transport …` output ("name = value" lines); throws if Exim printed one of them not at all. */
export function parseTransportOptions(printed: string): EximTlsSettings {
  const values = new Map<string, string>();
  for (const line of printed.split("\n")) {
    const match = /^(\w+) = ?(.*)$/.exec(line);
    if (match) values.set(match[1]!, match[2]!.trim());
  }
  const missing = EXIM_TLS_OPTIONS.filter((option) => !values.has(option));
  if (missing.length > 0) throw new Error(`exim -bP printed none of ${missing.join(", ")}:\n${printed}`);
  return Object.fromEntries(EXIM_TLS_OPTIONS.map((option) => [option, values.get(option)!])) as Record<EximTlsOption, string>;
}

/** Port 25's settings from `exim -bP tls_advertise_hosts` ("tls_advertise_hosts = *") and `exim -bP macro LAB_MAIL_REQUIRES_TLS`. */
export function parseServerSettings(advertised: string, macro: string): EximServerSettings {
  const hosts = /^tls_advertise_hosts = ?(.*)$/m.exec(advertised)?.[1];
  const requires = /^LAB_MAIL_REQUIRES_TLS ?=\s*(yes|no)\s*$/m.exec(macro)?.[1];
  if (hosts === undefined || requires === undefined) throw new Error(`exim -bP did not print port 25's settings:\n${advertised}${macro}`);
  return { tls_advertise_hosts: hosts.trim(), mail_requires_tls: requires as "yes" | "no" };
}

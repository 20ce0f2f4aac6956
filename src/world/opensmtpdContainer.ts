/**
 * A mail provider run by OpenSMTPD 7.6 (docker/opensmtpd) instead of
 * Postfix, with the same Dovecot mailboxes, ports and identity files: the
 * building block for `sender.mta: opensmtpd`. Started, it is the harness's
 * handle on that provider: its ports and password, the TLS level it relays
 * with (given in Postfix's words, applied as OpenSMTPD's own relay options),
 * its queue (`smtpctl show queue`) and retrying a queued message.
 */
import type { OtherMtaSoftware } from "../core/result.js";
import { OPENSMTPD_LOG_READER } from "../observe/opensmtpdReader.js";
import type { QueuedMessage } from "../observe/queue.js";
import { Wait, type StartedTestContainer } from "testcontainers";
import { isSenderLevel, OPENSMTPD_RELAY_OPTIONS, SENDER_LEVELS, UnsupportedLevelError, type SenderLevel } from "../scenario/levels.js";
import { UNSUPPORTED_LEVELS } from "../scenario/mtaChoice.js";
import { disabledRouteIds, parseSmtpctlQueue, type OpensmtpdEnvelope } from "../observe/opensmtpdQueue.js";
import { mtaTitle } from "./mtaContainer.js";
import { ProviderContainer, StartedProviderContainer } from "./providerContainer.js";
import { labFile } from "./providerFiles.js";
import { dovecotUsers, hostAliases, hostedDomains, otherRole, PROVIDERS, type ProviderIdentity, type WorldDns } from "./providers.js";
import { LABEL_ROLE } from "./runLabels.js";
import { type ContainerTitle, type WorldNetwork } from "./worldContainer.js";

const UNSUPPORTED = UNSUPPORTED_LEVELS.opensmtpd.sender;

/** How OpenSMTPD does a level: the options of its `relay` action, or why it cannot. */
export type OpensmtpdRelay = { options: readonly string[]; meaning: string } | { unsupported: string };

/**
 * Every sender level against OpenSMTPD 7.6's relay action (smtpd.conf(5),
 * mta.c and mta_session.c of 7.6.0p1). The relay looks up the MX and checks
 * a certificate, when asked to, against the MX host name and the harness CA
 * (`ca lab`), as Postfix's verify does. Levels OpenSMTPD cannot express are
 * refused with the reason (said once, where scenarios are checked), never
 * approximated.
 */
export const OPENSMTPD_RELAY: Readonly<Record<SenderLevel, OpensmtpdRelay>> = {
  none: { unsupported: UNSUPPORTED.none! },
  may: { options: [], meaning: "STARTTLS when offered, certificate not checked; plaintext when not offered or when the handshake fails" },
  encrypt: { options: ["tls", "no-verify"], meaning: "STARTTLS required, any certificate" },
  verify: { options: ["tls"], meaning: "STARTTLS required, certificate chain to the harness CA and the MX host name checked" },
  secure: { unsupported: UNSUPPORTED.secure! },
  dane: { unsupported: UNSUPPORTED.dane! },
  "dane-only": { unsupported: UNSUPPORTED["dane-only"]! },
};

/** OpenSMTPD's relay options for a level; throws UnsupportedLevelError for one it cannot express. */
export function relayOptionsFor(level: string): readonly string[] {
  if (!isSenderLevel(level)) throw new UnsupportedLevelError("OpenSMTPD", level, `it is not a sender level (${SENDER_LEVELS.join(", ")})`);
  const relay = OPENSMTPD_RELAY[level];
  if ("unsupported" in relay) throw new UnsupportedLevelError("OpenSMTPD", level, relay.unsupported);
  return relay.options;
}

/** A scenario's own relay options, checked: only OPENSMTPD_RELAY_OPTIONS, each once, and no-verify only with tls (smtpd.conf(5)). */
export function nativeRelayOptions(options: readonly string[]): readonly string[] {
  const unknown = options.filter((option) => !(OPENSMTPD_RELAY_OPTIONS as readonly string[]).includes(option));
  if (unknown.length > 0) throw new Error(`sender.opensmtpd: ${unknown.join(", ")} not among the relay options the lab sets (${OPENSMTPD_RELAY_OPTIONS.join(", ")})`);
  if (new Set(options).size !== options.length) throw new Error(`sender.opensmtpd: an option given twice in ${options.join(" ")}`);
  if (options.includes("no-verify") && !options.includes("tls")) throw new Error("sender.opensmtpd: no-verify comes with tls (relay tls no-verify)");
  return options;
}

/** What applyLevel put in force, for reports. */
export interface OpensmtpdSettings {
  /** The level the options came from; absent when the scenario wrote its own relay options. */
  level?: SenderLevel;
  relayOptions: readonly string[];
  /** The smtpd.conf line in force, as lab-relay wrote it. */
  action: string;
}

/**
 * The provider's identity as smtpd.conf reads it (docker/opensmtpd/smtpd.conf
 * includes it): its name, its domains, the other provider's domains (the
 * only ones it relays to) and its mailboxes, each delivered over LMTP as the
 * one delivery user (see the Dockerfile: Dovecot's socket belongs to "postfix").
 */
export function opensmtpdRoleConf(identity: ProviderIdentity): string {
  const quoted = (values: string[]) => values.map((value) => `"${value}"`).join(", ");
  const domains = (role: ProviderIdentity) => hostedDomains(role).map((hosted) => hosted.domain);
  return [
    `lab_host = "${identity.smtpHost}"`,
    `table hosted { ${quoted(domains(identity))} }`,
    `table remote { ${quoted(domains(PROVIDERS[otherRole(identity.role)]))} }`,
    `table mailboxes { ${hostedDomains(identity)
      .map((hosted) => `"${hosted.mailbox}" = "postfix"`)
      .join(", ")} }`,
    "",
  ].join("\n");
}

/** Where lab-relay writes the relay action smtpd.conf includes. */
const RELAY_CONF = "/etc/starttls-lab/relay.conf";

export function opensmtpdTitle(identity: ProviderIdentity): ContainerTitle {
  const postfix = mtaTitle(identity);
  return { log: `${postfix.log} OpenSMTPD`, container: `${postfix.container.replace(/\)$/, "")}, OpenSMTPD)` };
}

export class OpensmtpdContainer extends ProviderContainer<StartedOpensmtpdContainer> {
  constructor(image: string, identity: ProviderIdentity) {
    super(image, opensmtpdTitle(identity), identity);
    if (identity.extraDomains.length > 0) {
      throw new Error(`${this.title.container}: this image serves one domain (no SNI certificates yet); ${identity.domain} comes with others`);
    }
    // lab-smtpd ready: smtpd answers on its control socket and listens on 25 and 465.
    this.withWaitStrategy(Wait.forAll([Wait.forLogMessage(/Dovecot v\S+ .*starting up/), Wait.forSuccessfulCommand("lab-smtpd ready")]))
      .withLabels({ [LABEL_ROLE]: identity.role })
      .withCopyContentToContainer([labFile("users", dovecotUsers(identity, this.password)), labFile("role.conf", opensmtpdRoleConf(identity))]);
  }

  /**
   * On the world's network, resolving through the world's DNS only. Its name
   * says OpenSMTPD, so it can run beside the world's own Postfix provider of
   * the same role.
   */
  inProviderWorld(network: WorldNetwork, dns: WorldDns): this {
    return this.inWorld(network, `${this.identity.role}-opensmtpd`, hostAliases(this.identity)).withEnvironment({ LAB_RESOLVER: dns.resolver });
  }

  protected override started(container: StartedTestContainer, address: string): StartedOpensmtpdContainer {
    return new StartedOpensmtpdContainer(container, this.log, this.title, address, this.startedAccess());
  }
}

/** The provider's password serves AUTH on 465 and IMAPS; its own certificate is presented on 25, 465 and 993. */
export class StartedOpensmtpdContainer extends StartedProviderContainer {
  readonly mta = "opensmtpd";
  readonly reader = OPENSMTPD_LOG_READER;
  /** The image starts relaying at may (lab-relay with no options). */
  private applied: Omit<OpensmtpdSettings, "action"> = { level: "may", relayOptions: [] };

  /**
   * Relay at this level from now on. OpenSMTPD reads smtpd.conf only when it
   * starts: lab-relay checks the new action with `smtpd -n` and restarts
   * smtpd, and the queue on disk carries over (a deferred message is
   * retried under the new level) unless `emptyQueue` drops it first (a new
   * scenario). The restart happens even for the level
   * in force: it also drops what the running smtpd remembers, the sessions
   * it keeps open after a delivery (about 10 s, for the next message to
   * the same host, which would otherwise ride a connection opened under
   * the receiver's old settings) and the routes a failure disabled.
   * Throws UnsupportedLevelError, before touching the container, for a
   * level OpenSMTPD cannot express.
   */
  async applyLevel(level: string, native?: readonly string[], options: { emptyQueue?: boolean } = {}): Promise<OpensmtpdSettings> {
    const relayOptions = native === undefined ? relayOptionsFor(level) : nativeRelayOptions(native);
    // One exec: lab-relay also empties the queue when asked, and prints the action line it wrote (what nativeSettings reads back).
    const result = await this.run(["lab-relay", ...(options.emptyQueue ? ["--empty-queue"] : []), ...relayOptions]);
    this.applied = { ...(native === undefined && { level: level as SenderLevel }), relayOptions };
    const action = result.stdout.trim().split("\n").at(-1) ?? "";
    return { ...this.applied, action };
  }

  /** The level and the relay action in force, read from the file smtpd last started with, for reports. */
  async nativeSettings(): Promise<OpensmtpdSettings> {
    const action = (await this.run(["cat", RELAY_CONF])).stdout.trim();
    return { ...this.applied, action };
  }

  /** `smtpctl show queue`: one entry per envelope (a message to one recipient). */
  async queue(): Promise<OpensmtpdEnvelope[]> {
    return parseSmtpctlQueue((await this.run(["smtpctl", "show", "queue"])).stdout);
  }

  /**
   * Try this message (8 hex digits) or envelope (16) now instead of at its
   * next retry time, as an admin would: resume the routes a failed session
   * disabled (`smtpctl resume route`), else the try fails at once without
   * connecting, then `smtpctl schedule`.
   */
  async retry(id: string): Promise<void> {
    if (!/^([0-9a-f]{8}|[0-9a-f]{16})$/.test(id)) throw new Error(`${this.title.container}: "${id}" is neither an OpenSMTPD message id nor an envelope id`);
    const routes = await this.run(["smtpctl", "show", "routes"]);
    for (const route of disabledRouteIds(routes.stdout)) await this.run(["smtpctl", "resume", "route", route]);
    const result = await this.run(["smtpctl", "schedule", id]);
    if (!/^[1-9]\d* envelopes? scheduled/.test(result.stdout)) {
      throw new Error(`${this.title.container}: smtpctl schedule ${id} scheduled nothing: ${result.output.trim()}`);
    }
  }

  /** The queue in the common model: one message per OpenSMTPD message id, its envelopes' recipients and last errors. */
  async queued(): Promise<QueuedMessage[]> {
    const messages = new Map<string, QueuedMessage>();
    for (const envelope of await this.queue()) {
      const message = messages.get(envelope.messageId) ?? { queueName: envelope.runState, queueId: envelope.messageId, sender: envelope.sender, recipients: [] };
      message.recipients.push({ address: envelope.recipient, ...(envelope.error !== "" && { delayReason: envelope.error }) });
      messages.set(envelope.messageId, message);
    }
    return [...messages.values()];
  }

  /** OpenSMTPD's and OpenSSL's versions, asked from the programs (`smtpd -h` prints its version before the usage, and exits 1). */
  async software(): Promise<OtherMtaSoftware> {
    const [smtpd, openssl] = await Promise.all([this.exec(["smtpd", "-h"]), this.run(["openssl", "version"])]);
    const version = /^version: OpenSMTPD (\S+)/m.exec(smtpd.output)?.[1];
    if (!version) throw new Error(`smtpd -h in ${this.title.container} named no OpenSMTPD version:\n${smtpd.output}`);
    return { mta: "opensmtpd", version, tls: openssl.stdout.trim() };
  }

  /** Drop every queued message (`smtpctl remove all`), so a new scenario starts from an empty queue. */
  async emptyQueue(): Promise<void> {
    await this.run(["smtpctl", "remove", "all"]);
  }
}

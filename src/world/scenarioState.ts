/**
 * Puts a started world into a scenario's state: the certificates each
 * provider presents, the DNS records, and each provider's TLS settings in
 * its MTA's own terms: Postfix's main.cf (the admin's own files, the
 * scenario's postconf, the harness's retry timers), Exim's options and
 * OpenSMTPD's relay action for the scenario's level and native settings.
 */
import type { NativeConfiguration } from "../core/result.js";
import { MTA_NAMES, mtaOf } from "../scenario/levels.js";
import type { Role, Scenario } from "../scenario/types.js";
import type { MailWorld } from "./world.js";

/**
 * Retry timers short enough to follow a retry within a scenario (Postfix
 * waits 300 s by default). Applied to the sender when a scenario follows
 * more than one attempt without events, under the scenario's own postconf.
 */
export const FAST_RETRY_SETTINGS: Readonly<Record<string, string>> = {
  minimal_backoff_time: "1s",
  maximal_backoff_time: "1s",
  queue_run_delay: "1s",
};

/**
 * With events, the harness and not the scheduler decides when the next
 * attempt comes: after the change. The deferred queue is scanned only
 * every 1000 s, so a message waits until the harness asks for it by name
 * (postqueue -i) or the queue manager starts again (a restart or reload
 * scans it at once). minimal_backoff_time stays at 1 s: it is also the age
 * a message needs before a `may` sender retries it in plaintext after a
 * failed handshake, and how long the queue manager keeps a destination it
 * could not reach "temporarily suspended".
 */
export const EVENT_RETRY_SETTINGS: Readonly<Record<string, string>> = {
  minimal_backoff_time: "1s",
  maximal_backoff_time: "1000s",
  queue_run_delay: "1000s",
};

/** The retry timers the harness sets on the sender for this scenario, if any. */
export function retrySettings(scenario: Scenario): Readonly<Record<string, string>> {
  if (scenario.events) return EVENT_RETRY_SETTINGS;
  return scenario.attempts > 1 ? FAST_RETRY_SETTINGS : {};
}

/**
 * The fingerprints a scenario's postconf may name as placeholders
 * (`{receiver.certificate.sha256}`…), of the certificates presented now.
 */
function presentedFingerprints(world: MailWorld): Record<string, string> {
  const sender = world.sender.presentedCertificate;
  const receiver = world.receiver.presentedCertificate;
  return {
    "sender.certificate.sha256": sender.certSha256.postfix,
    "sender.certificate.pkey_sha256": sender.pkeySha256.postfix,
    "receiver.certificate.sha256": receiver.certSha256.postfix,
    "receiver.certificate.pkey_sha256": receiver.pkeySha256.postfix,
  };
}

/**
 * The main.cf settings a provider runs in this scenario, placeholders
 * resolved: the admin's own main.cf first, the harness's retry timers, the
 * scenario's postconf on top, and then any change made while mail waits.
 */
export function providerSettings(world: MailWorld, scenario: Scenario, role: Role, changed: Record<string, string> = {}): Record<string, string> {
  const settings = scenario[role];
  const fingerprints = presentedFingerprints(world);
  const merged = {
    ...Object.fromEntries((settings.own?.mainCf?.settings ?? []).map((setting) => [setting.name, setting.value])),
    ...(role === "sender" ? retrySettings(scenario) : {}),
    ...settings.postconf,
    ...changed,
  };
  return Object.fromEntries(
    Object.entries(merged).map(([name, value]) => [
      name,
      value.replace(/(?<!\$)\{([a-z0-9_.]+)\}/g, (placeholder, key: string) => {
        const fingerprint = fingerprints[key];
        if (fingerprint === undefined) throw new Error(`${name}: unknown placeholder ${placeholder}; known: ${Object.keys(fingerprints).map((k) => `{${k}}`).join(", ")}`);
        return fingerprint;
      }),
    ]),
  );
}

/**
 * Put the world into the scenario's state: first the certificates each
 * provider presents, then the DNS records (TLSA made from those
 * certificates) and the main.cf settings, in which `{receiver.certificate.sha256}`
 * (and `.pkey_sha256`, and the sender's) stand for the presented
 * certificate's fingerprints, so a scenario can pin them.
 */
export async function applyScenario(world: MailWorld, scenario: Scenario): Promise<NativeConfiguration> {
  for (const role of ["sender", "receiver"] as const) {
    const wanted = mtaOf(scenario[role]);
    const running = world.provider(role).mta;
    if (wanted !== running) {
      throw new Error(
        `"${scenario.name}" needs ${MTA_NAMES[wanted]} as the ${role}, and this world's ${role} runs ${MTA_NAMES[running]}: \`starttls-lab run\` starts a world of each scenario's shape`,
      );
    }
  }
  await Promise.all([
    world.sender.presentCertificate(scenario.sender.certificate, scenario.sender.certificateKey),
    world.receiver.presentCertificate(scenario.receiver.certificate, scenario.receiver.certificateKey, { chainWithCa: scenario.dns.tlsa === "ca" }),
  ]);
  const [, sender, receiver] = await Promise.all([world.publishDns(scenario.dns), applyProvider(world, scenario, "sender"), applyProvider(world, scenario, "receiver")]);
  return { ...(sender && { sender }), ...(receiver && { receiver }) };
}

/** "name = value" lines, as the MTAs' own tools print their settings. */
function settingLines(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).map(([name, value]) => (value === "" ? `${name} =` : `${name} = ${value}`));
}

/** The level a provider of another MTA runs when the scenario names none: `may`, what Debian's packages of each do. */
const DEFAULT_LEVEL = "may";

/**
 * One provider's TLS settings and an empty queue, in its MTA's own terms;
 * returns, for another MTA than Postfix, its configuration as it prints it
 * back (Postfix's is the scenario's postconf).
 */
async function applyProvider(world: MailWorld, scenario: Scenario, role: Role): Promise<string[] | undefined> {
  const provider = world.provider(role);
  const settings = scenario[role];
  switch (provider.mta) {
    case "postfix": {
      const main = providerSettings(world, scenario, role);
      await provider.useOwnFiles(settings.own, main);
      await provider.applySettings(main);
      return undefined;
    }
    case "exim":
      if (role === "sender") {
        await provider.applyLevel(settings.level ?? DEFAULT_LEVEL, settings.exim, { emptyQueue: true });
        return settingLines(await provider.nativeSettings());
      }
      await provider.applyReceiverLevel(settings.level ?? DEFAULT_LEVEL, settings.exim, { emptyQueue: true });
      return settingLines(await provider.nativeServerSettings());
    case "opensmtpd":
      return [(await provider.applyLevel(settings.level ?? DEFAULT_LEVEL, settings.opensmtpd, { emptyQueue: true })).action];
  }
}

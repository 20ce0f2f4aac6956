/**
 * `npm run soak`: many messages through one world while it misbehaves at
 * random (Bob's provider stops and starts, Alice's restarts, certificates
 * are swapped, the wire strips or breaks STARTTLS, the resolver goes down),
 * then every message accounted for in every mailbox of the world: delivered
 * exactly once, or still queued with its reason. Alice's provider requires
 * TLS (encrypt) throughout, so a copy that crossed in clear text is a leak.
 *
 * Options: --messages N (200), --events N (24), --seed N (random; printed,
 * so a run can be repeated), --settle-seconds N (180: how long the queue may
 * take to drain once the world is back to normal), --postfix RELEASE,
 * --logs DIR (write each provider's whole Postfix log there, to read a
 * surprise afterwards: the world is gone when the soak ends).
 * Figures go to stdout (`name=value`), progress to stderr; exit 1 when a
 * message is lost or leaked, or duplicated in a way the logs do not explain
 * (a copy from a delivery cut short by a stop is counted apart, with its
 * evidence: SMTP delivers at least once).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { submitAsAlice } from "./drive/alice.js";
import { EventPlayer } from "./drive/events.js";
import { headerValues } from "./drive/headers.js";
import { headersOfInbox } from "./drive/mailbox.js";
import { tallySoak, type StoredCopy } from "./drive/soakTally.js";
import { markMessage, type MarkedMessage } from "./drive/message.js";
import { untilLeftTheQueue } from "./drive/queueExit.js";
import { explainExtraCopies } from "./observe/interruptedDelivery.js";
import { parseLogLine } from "./observe/postfixLog.js";
import { findSmtpReceived, transportFromReceived } from "./observe/receivedHeader.js";
import { chosenPostfixRelease, POSTFIX_RELEASES, type PostfixRelease } from "./core/releases.js";
import type { ScenarioEvent } from "./scenario/events.js";
import { loadScenarioText } from "./scenario/load.js";
import { seededRandom } from "./scenario/order.js";
import type { CertificateVariant, Scenario, WireMode } from "./scenario/types.js";
import { allMailboxes, findMailbox } from "./world/providers.js";
import { applyScenario } from "./world/scenarioState.js";
import { MailWorld, type StartedProvider } from "./world/world.js";

/** The world the soak runs in: TLS required by Alice's provider, retried every second by Postfix itself. */
const SOAK_WORLD = `
name: soak
sender: { postconf: { smtp_tls_security_level: encrypt } }
attempts: 2
expect: { outcome: delivered, transport: tls }
`;
/** Alice's clients submitting at once: while the resolver is down, each submission waits seconds for the server's client-name lookup. */
const SUBMITTING_CLIENTS = 4;
const RECIPIENTS = ["bob@iroco.test", "carol@lutins.test", "dan@ecole.test"];
/** Under encrypt every one of these still gets TLS: the certificate is not verified, only a session required. */
const CERTIFICATES: CertificateVariant[] = ["valid", "expired", "self-signed", "wrong-name"];
/** No mitm: under encrypt the attacker would read the body, which the soak does not count (scenarios/wire.yaml shows it). */
const WIRE_MODES: WireMode[] = ["pass", "strip-starttls", "fail-handshake"];

interface SoakOptions {
  messages: number;
  events: number;
  seed: number;
  settleMs: number;
  postfix: PostfixRelease;
  logs?: string;
}

function readOptions(): SoakOptions {
  const { values } = parseArgs({
    options: {
      messages: { type: "string", default: "200" },
      events: { type: "string", default: "24" },
      seed: { type: "string" },
      "settle-seconds": { type: "string", default: "180" },
      postfix: { type: "string" },
      logs: { type: "string" },
    },
  });
  const whole = (name: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number ≥ ${min}, not ${text}`);
    return value;
  };
  const postfix = values.postfix ?? chosenPostfixRelease();
  if (!(POSTFIX_RELEASES as readonly string[]).includes(postfix)) throw new Error(`--postfix must be one of ${POSTFIX_RELEASES.join(", ")}`);
  return {
    messages: whole("messages", values.messages, 1),
    events: whole("events", values.events, 0),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : whole("seed", values.seed, 0),
    settleMs: whole("settle-seconds", values["settle-seconds"], 1) * 1000,
    postfix: postfix as PostfixRelease,
    ...(values.logs !== undefined && { logs: values.logs }),
  };
}

/** The next disturbance, given the world now: undo an outage, or start another kind of trouble. */
function nextEvent(pick: <T>(items: readonly T[]) => T, world: MailWorld, player: EventPlayer): ScenarioEvent {
  const certificate = world.receiver.presentedCertificate.variant;
  const kinds: Array<() => ScenarioEvent> = [
    () => ({ after: 0, receiver: world.postfix("receiver", "the soak").postfixRunning ? "stop" : "start" }),
    () => ({ after: 0, resolver: world.dns.resolverRunning ? "down" : "up" }),
    () => ({ after: 0, sender: "restart" }),
    () => ({ after: 0, receiver: { certificate: pick(CERTIFICATES.filter((variant) => variant !== certificate)) } }),
    () => ({ after: 0, wire: pick(WIRE_MODES.filter((mode) => mode !== player.wireMode)) }),
  ];
  return pick(kinds)();
}

/** The kind of an event, for counting: "receiver_stop", "wire_strip-starttls"… */
function kindOf(event: ScenarioEvent): string {
  if (typeof event.receiver === "string") return `receiver_${event.receiver}`;
  if (event.receiver !== undefined) return "receiver_certificate";
  if (event.resolver !== undefined) return `resolver_${event.resolver}`;
  if (event.sender !== undefined) return "sender_restart";
  return `wire_${event.wire ?? "?"}`;
}

interface Sent {
  message: MarkedMessage;
  queueId?: string;
  refused?: string;
}

function figure(name: string, value: number | string): void {
  process.stdout.write(`${name}=${value}\n`);
}

const soakStarted = Date.now();

function progress(text: string): void {
  process.stderr.write(`soak: ${((Date.now() - soakStarted) / 1000).toFixed(1)} s: ${text}\n`);
}

/** How long the drain waits for the next "removed" line before asking the queue again. */
const RECHECK_MS = 2_000;

/**
 * Waits until every message queued now has left both providers' queues (or
 * the time is up), Alice's provider's first. Returns, for each message
 * Alice's provider relayed, its queue ID at Bob's provider, as far as the
 * log tells.
 */
async function drain(world: MailWorld, deadline: number): Promise<Map<string, string>> {
  for (const provider of [world.postfix("sender", "the soak"), world.postfix("receiver", "the soak")]) {
    // The cursor before the queue is read, so no "removed" line falls between the two.
    const from = provider.log.cursor;
    const queued = (await provider.queued()).map((entry) => entry.queueId);
    // Flushed again whenever mail is still there: a message the queue manager parked in incoming
    // ("skipped, still being delivered") waits 60 s and then for new mail, which no longer comes.
    await untilLeftTheQueue(provider, queued, { from, deadline, recheckMs: RECHECK_MS, stillQueued: () => provider.flush() });
  }
  const relays = new Map<string, string>();
  for (const event of world.sender.log.since(0).map(parseLogLine)) {
    if (event?.kind === "delivery" && event.status === "sent" && event.remoteQueueId) relays.set(event.queueId, event.remoteQueueId);
  }
  return relays;
}

async function writeLogs(world: MailWorld, directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  for (const role of ["sender", "receiver"] as const) {
    const file = join(directory, `${role}.log`);
    await writeFile(file, world.provider(role).log.since(0).join("\n") + "\n");
    progress(`${role}'s Postfix log written to ${file}`);
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const pick = (() => {
    const next = seededRandom(options.seed);
    return <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  })();
  figure("seed", options.seed);
  figure("messages_planned", options.messages);
  figure("events_planned", options.events);
  const started = Date.now();
  const world = await MailWorld.start({ postfix: options.postfix, onProgress: (step) => progress(step) });
  try {
    figure("postfix", `${world.software.sender.version} (sender), ${world.software.receiver.version} (receiver)`);
    const [scenario] = loadScenarioText(SOAK_WORLD, "soak") as [Scenario];
    await applyScenario(world, scenario);
    await world.wire.prepare("pass", "soak");
    for (const provider of [world.sender, world.receiver]) provider.mayHoldMail();
    const player = new EventPlayer(world, scenario);

    // The events fall between messages, spread over the run.
    const eventAt = new Map<number, number>();
    for (let fired = 0; fired < options.events; fired++) {
      const at = 1 + Math.floor(((fired + 0.5) * (options.messages - 1)) / Math.max(1, options.events));
      eventAt.set(at, (eventAt.get(at) ?? 0) + 1);
    }
    const fired: Record<string, number> = {};
    const sent: Sent[] = [];
    const submit = async (index: number): Promise<void> => {
      const message = markMessage({ ...scenario.message, to: RECIPIENTS[index % RECIPIENTS.length]!, subject: `soak ${index + 1}` }, `soak ${index + 1}`);
      const submission = await submitAsAlice(world, message);
      sent[index] = submission.accepted ? { message, queueId: submission.queueId } : { message, refused: submission.response };
    };
    const sendingStarted = Date.now();
    for (let index = 0; index < options.messages; ) {
      for (let count = eventAt.get(index) ?? 0; count > 0; count--) {
        const event = nextEvent(pick, world, player);
        const words = await player.apply(event);
        fired[kindOf(event)] = (fired[kindOf(event)] ?? 0) + 1;
        progress(`before message ${index + 1}/${options.messages}: ${words.join("; ")}`);
      }
      // The messages up to the next event go in side by side, as several of Alice's clients would send them.
      let end = index + 1;
      while (end < options.messages && !eventAt.has(end)) end++;
      const queue = Array.from({ length: end - index }, (_, offset) => index + offset);
      await Promise.all(
        Array.from({ length: SUBMITTING_CLIENTS }, async () => {
          for (let next = queue.shift(); next !== undefined; next = queue.shift()) await submit(next);
        }),
      );
      index = end;
    }

    const sendingDone = Date.now();
    progress("every message sent; the world back to normal, the queue flushed");
    await player.restore();
    if (player.wireMode !== "pass") await player.apply({ after: 0, wire: "pass" });
    if (world.receiver.presentedCertificate.variant !== "valid") await player.apply({ after: 0, receiver: { certificate: "valid" } });
    await world.postfix("sender", "the soak").flush();
    const relays = await drain(world, Date.now() + options.settleMs);
    progress("both queues drained (or the time to settle is up); counting every mailbox");
    const queuedAt = async (provider: StartedProvider) =>
      new Map((await provider.queued()).map((entry) => [entry.queueId, entry.recipients.find((recipient) => recipient.delayReason)?.delayReason ?? entry.queueName]));
    const [senderQueue, receiverQueue] = await Promise.all([queuedAt(world.sender), queuedAt(world.receiver)]);
    const stillQueued = (queueId: string): string | undefined => {
      const relayed = relays.get(queueId);
      if (senderQueue.has(queueId)) return `in Alice's provider's queue: ${senderQueue.get(queueId)}`;
      if (relayed !== undefined && receiverQueue.has(relayed)) return `in Bob's provider's queue as ${relayed}: ${receiverQueue.get(relayed)}`;
      return undefined;
    };

    // Every mailbox of the world, read once: where is each message, how many times, over what?
    const copies = new Map<string, StoredCopy[]>();
    for (const { role, hosted } of allMailboxes()) {
      const provider = world.provider(role);
      for (const headers of await headersOfInbox(provider, world.caCertPem, hosted, ["message-id", "received"])) {
        const id = headerValues(headers, "Message-ID")[0]?.trim();
        if (!id) continue;
        const received = findSmtpReceived(headerValues(headers, "Received"), provider.identity.smtpHost);
        const list = copies.get(id) ?? [];
        list.push({ mailbox: hosted.mailbox, transport: received ? transportFromReceived(received) : "unknown" });
        copies.set(id, list);
      }
    }
    const bounced = new Set(
      world.sender.log
        .since(0)
        .map(parseLogLine)
        .flatMap((event) => (event?.kind === "delivery" && event.status === "bounced" ? [event.queueId] : [])),
    );
    const tally = tallySoak(
      sent.map(({ message, queueId, refused }) => ({
        messageId: message.messageId,
        home: findMailbox(message.spec.to)?.hosted.mailbox ?? message.spec.to,
        ...(queueId !== undefined && { queueId }),
        ...(refused !== undefined && { refused }),
      })),
      copies,
      {
        bounced,
        stillQueued,
        extraCopies: (messageId, queueId, count) =>
          explainExtraCopies({ messageId, senderQueueId: queueId, copies: count, senderLog: world.sender.log.since(0), receiverLog: world.receiver.log.since(0) }),
      },
    );
    for (const note of tally.notes) progress(note);
    figure("events_fired", Object.values(fired).reduce((sum, count) => sum + count, 0));
    for (const [kind, count] of Object.entries(fired).sort()) figure(`events_${kind}`, count);
    figure("sent", sent.length);
    figure("refused_at_submission", tally.refused);
    figure("delivered", tally.delivered);
    figure("queued", tally.queued);
    figure("bounced_to_alice", tally.bounced);
    figure("duplicated", tally.duplicated);
    figure("duplicated_by_interrupted_delivery", tally.duplicatedByInterruptedDelivery);
    figure("duplicated_unexplained", tally.duplicated - tally.duplicatedByInterruptedDelivery);
    figure("lost", tally.lost);
    figure("leaked_in_clear", tally.leaked);
    figure("seconds", Math.round((Date.now() - started) / 1000));
    figure("seconds_sending", Math.round((sendingDone - sendingStarted) / 1000));
    if (tally.duplicated - tally.duplicatedByInterruptedDelivery + tally.lost + tally.leaked > 0) process.exitCode = 1;
  } finally {
    if (options.logs !== undefined) await writeLogs(world, options.logs);
    await world.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});

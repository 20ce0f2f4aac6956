/**
 * The world's moving parts between two delivery attempts of one message,
 * on real containers: Bob's provider down and back, Alice's provider
 * restarted with mail in its queue, the resolver down and back, a
 * configuration change and a certificate swap while mail waits. Each
 * follows the message to its end (delivered, exactly one copy), and the
 * status texts the real sending Postfix logs are written here as the
 * patterns its lines must match: they are what scenarios can expect.
 * One world for the file, in its defaults (sender may, receiver may,
 * signed zones with TLSA records).
 */
import { expect } from "vitest";
import { submitAsAlice } from "../../src/drive/alice.js";
import { askForRetry } from "../../src/drive/follow.js";
import { countInInbox } from "../../src/drive/mailbox.js";
import { markMessage, type MarkedMessage } from "../../src/drive/message.js";
import { untilLeftTheQueue } from "../../src/drive/queueExit.js";
import { parseLogLine, type DeliveryEvent, type DeliveryStatus } from "../../src/observe/postfixLog.js";
import type { QueuedMessage } from "../../src/observe/queue.js";
import { EVENT_RETRY_SETTINGS } from "../../src/world/scenarioState.js";
import { applyScenario, runScenario, scenarioFromYaml, worldTest as test } from "../../src/vitest.js";
import type { StartedProvider } from "../../src/world/world.js";
import { findMailbox } from "../../src/world/providers.js";
import type { MailWorld } from "../../src/world/world.js";

/**
 * What the sender logs while Bob's provider is stopped: the wire, which
 * holds Bob's MX names, accepted the connection and resets it when its own
 * connection to Bob's port 25 is refused. Which of the two texts depends on
 * when the reset reaches the sender's smtp: still completing its connect
 * (dsn 4.4.1, relay=none) or already waiting for the greeting (dsn 4.4.2):
 * the second on 3.7, 3.10 and 3.11, the first once in a 3.11 run.
 */
const RECEIVER_DOWN_TEXT = String.raw`(lost connection with mx\.iroco\.test\[[\d.]+\] while receiving the initial server greeting|connect to mx\.iroco\.test\[[\d.]+\]:25: Connection reset by peer)`;
const RECEIVER_DOWN = new RegExp(`^${RECEIVER_DOWN_TEXT}$`);
/**
 * The queue's reason after later attempts too: once the destination has
 * failed, the queue manager may defer the message without connecting
 * ("relay=none"), quoting the failure (seen with three messages queued).
 */
const RECEIVER_DOWN_QUEUED = new RegExp(`^(delivery temporarily suspended: )?${RECEIVER_DOWN_TEXT}$`);
/** What the sender logs while the world's resolver is stopped. */
const RESOLVER_DOWN = /^Host or domain name not found\. Name service error for name=iroco\.test type=MX: Host not found, try again$/;
/** What a verifying sender logs for Bob's expired certificate. */
const EXPIRED_CERTIFICATE = /^Server certificate not verified$/;

const BOB = "bob@iroco.test";

/**
 * The world's defaults, the sender's retry timers those of a scenario with
 * events: the test, not Postfix's scheduler, decides when the next attempt
 * comes (postqueue -i), so the message waits in the deferred queue while
 * the world changes. With 1 s timers the scheduler retried on its own in
 * the middle of a test: a slow run found the message delivered before the
 * test looked for it in the queue, or put back into incoming ("still being
 * delivered"). Only applied here: the tests follow the message themselves,
 * so the expectation is never judged.
 */
function defaults(name: string, sender: Record<string, string> = {}, receiver: Record<string, string> = {}) {
  return scenarioFromYaml(`
    name: ${name}
    sender: { postconf: ${JSON.stringify({ ...EVENT_RETRY_SETTINGS, ...sender })} }
    receiver: { postconf: ${JSON.stringify(receiver)} }
    expect: { outcome: deferred }
  `);
}

interface Sent {
  message: MarkedMessage;
  queueId: string;
  /** The sender's log cursor taken before the submission. */
  from: number;
  /** The receiver's, taken then too: nothing of this message can be in its log before. */
  receiverFrom: number;
}

/** Alice hands a marked message to her provider, the wire relaying as in the world's default. */
async function aliceSends(world: MailWorld, name: string): Promise<Sent> {
  const scenario = defaults(name);
  const message = markMessage(scenario.message, name);
  await world.wire.prepare("pass", message.marker);
  const from = world.sender.log.cursor;
  const receiverFrom = world.receiver.log.cursor;
  world.sender.mayHoldMail();
  const submission = await submitAsAlice(world, message);
  if (!submission.accepted) throw new Error(`Alice's provider refused the message: ${submission.response}`);
  return { message, queueId: submission.queueId, from, receiverFrom };
}

/** Bob's copy's status event for this queue ID in a Postfix log line, if the line is one (with this status, if given). */
function bobsStatus(line: string, queueId: string, status?: DeliveryStatus): DeliveryEvent | undefined {
  const event = parseLogLine(line);
  if (event?.kind !== "delivery" || event.queueId !== queueId || event.to !== BOB) return undefined;
  return status === undefined || event.status === status ? event : undefined;
}

/** A provider's next status line for Bob's copy of this queue ID with this status, from `from` on. */
async function statusIn(provider: StartedProvider, queueId: string, status: DeliveryStatus, from: number): Promise<DeliveryEvent> {
  const found = await provider.log.waitFor((line) => bobsStatus(line, queueId, status) !== undefined, {
    from,
    timeoutMs: 30_000,
    what: `a status=${status} line for ${queueId}`,
  });
  return bobsStatus(found.line, queueId)!;
}

/** The sender's next status line for this message with this status. */
function statusLine(world: MailWorld, sent: Sent, status: DeliveryStatus): Promise<DeliveryEvent> {
  return statusIn(world.sender, sent.queueId, status, sent.from);
}

async function queued(provider: StartedProvider, queueId: string): Promise<QueuedMessage | undefined> {
  return (await provider.queued()).find((message) => message.queueId === queueId);
}

/**
 * The message once it waits in the deferred queue, with its reason. The
 * agent logs "status=deferred" before it reports back, and only then does
 * the queue manager move the message from the active queue, and after a
 * restart or reload it takes the message back for an attempt at once.
 * Postfix logs neither move, so the queue itself is asked again, each read
 * one exec, until it shows the message deferred or 10 s pass.
 */
async function inDeferredQueue(provider: StartedProvider, queueId: string): Promise<QueuedMessage> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const message = await queued(provider, queueId);
    if (message?.queueName === "deferred") return message;
    if (Date.now() >= deadline) throw new Error(`${queueId} did not reach the deferred queue in 10 s: ${message ? `still in ${message.queueName}` : "not queued at all"}`);
  }
}

async function copiesInBobsInbox(world: MailWorld, sent: Sent): Promise<number> {
  const bob = findMailbox(BOB)!;
  return countInInbox(world.receiver, world.caCertPem, { name: "Message-ID", value: sent.message.messageId }, bob.hosted);
}

/**
 * Asks the sender to try the message now, as the harness does after an
 * event (asked again while the queue manager still holds the destination
 * "temporarily suspended" from the last failure), and waits until it is
 * relayed and Bob's provider has stored it (its own status line, under the
 * queue ID it answered the sender with). A deferral can still come first:
 * the queue manager's own attempt after a restart or reload, if it began
 * before Bob's provider was back; the sender is then asked again, three
 * times at most. Returns the sender's status line.
 */
async function retriedAndDelivered(world: MailWorld, sent: Sent): Promise<DeliveryEvent> {
  const isBobsStatus = (line: string) => bobsStatus(line, sent.queueId) !== undefined;
  let relayed: DeliveryEvent;
  for (let asked = 1; ; asked++) {
    const status = await askForRetry(world.sender, sent.queueId, isBobsStatus, world.sender.log.cursor, `the status line of the retry of ${sent.queueId}`);
    relayed = bobsStatus(status.line, sent.queueId)!;
    if (relayed.status !== "deferred" || asked === 3) break;
  }
  expect(relayed.status, relayed.line).toBe("sent");
  const receiverQueueId = /queued as (\w+)/.exec(relayed.detail)?.[1];
  if (!receiverQueueId) throw new Error(`the sender's status line names no queue ID of Bob's provider: ${relayed.line}`);
  await statusIn(world.receiver, receiverQueueId, "sent", sent.receiverFrom);
  return relayed;
}

/** Alice sends; the sender's first attempt must be deferred with a status text matching `reason` (printed as evidence). */
async function deferredAs(world: MailWorld, name: string, reason: RegExp): Promise<Sent> {
  const sent = await aliceSends(world, name);
  const deferred = await statusLine(world, sent, "deferred");
  console.log(`world-events status (${name}): ${deferred.line}`);
  expect(deferred.detail).toMatch(reason);
  return sent;
}

/** Retried now: relayed, stored once in Bob's inbox, gone from the sender's queue. Returns the sender's status line. */
async function deliveredOnce(world: MailWorld, sent: Sent): Promise<DeliveryEvent> {
  const delivered = await retriedAndDelivered(world, sent);
  expect(await copiesInBobsInbox(world, sent)).toBe(1);
  // Gone once the queue manager logs "removed", which follows the status line.
  expect(await untilLeftTheQueue(world.sender, [sent.queueId], { from: sent.from, deadline: Date.now() + 30_000, recheckMs: 5_000 })).toEqual([]);
  return delivered;
}

async function timed<T>(what: string, operation: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await operation();
  console.log(`world-events timing: ${what} ${(performance.now() - started).toFixed(0)} ms`);
  return result;
}

test("Bob's provider down: deferred, the wire resets what it cannot relay; back up: delivered once", async ({ world }) => {
  await applyScenario(world, defaults("receiver down and up"));
  await timed("receiver stopPostfix", () => world.postfix("receiver", "this test").stopPostfix());
  expect(world.postfix("receiver", "this test").postfixRunning).toBe(false);
  // An outage, not a death: the container and Dovecot stay (Bob's inbox still answers).
  expect(await world.deathNotice()).toBeUndefined();

  const sent = await deferredAs(world, "receiver down and up", RECEIVER_DOWN);
  expect((await inDeferredQueue(world.sender, sent.queueId)).recipients[0]?.delayReason).toMatch(RECEIVER_DOWN_QUEUED);
  expect(await copiesInBobsInbox(world, sent)).toBe(0);
  const { hops } = await world.wire.hops();
  expect(hops.length).toBeGreaterThan(0);
  for (const hop of hops) {
    expect(hop.transcript.upstreamUnreachable).toMatch(/^connect ECONNREFUSED [\d.]+:25$/);
    expect(hop.transcript.events.filter((event) => event.kind === "smtp")).toEqual([]);
  }

  await timed("receiver startPostfix", () => world.postfix("receiver", "this test").startPostfix());
  expect(world.postfix("receiver", "this test").postfixRunning).toBe(true);
  const delivered = await deliveredOnce(world, sent);
  expect(delivered.relay).toMatch(/^mx\.iroco\.test\[/);
});

test("Alice's provider restarted with a deferred message: still queued after the restart, delivered once", async ({ world }) => {
  await applyScenario(world, defaults("sender restart"));
  await world.postfix("receiver", "this test").stopPostfix();
  const sent = await deferredAs(world, "sender restart", RECEIVER_DOWN);

  const restartFrom = world.sender.log.cursor;
  await timed("sender restartPostfix", () => world.postfix("sender", "this test").restartPostfix());
  expect(world.postfix("sender", "this test").postfixRunning).toBe(true);
  expect(await world.deathNotice()).toBeUndefined();
  // A real stop and start: the master of the restart logs its start (a reload would say "reload").
  expect(world.sender.log.since(restartFrom).some((line) => parseLogLine(line)?.kind === "started")).toBe(true);
  expect(await inDeferredQueue(world.sender, sent.queueId)).toMatchObject({ queueId: sent.queueId, recipients: [{ address: BOB }] });

  await world.postfix("receiver", "this test").startPostfix();
  await deliveredOnce(world, sent);
});

test("the resolver down: deferred (name service error), up again: delivered, and DNSSEC still validates", async ({ world }) => {
  await applyScenario(world, defaults("resolver down and up"));
  await timed("dns resolverDown", () => world.dns.resolverDown());
  expect(world.dns.resolverRunning).toBe(false);
  expect(await world.deathNotice()).toBeUndefined();

  const sent = await deferredAs(world, "resolver down and up", RESOLVER_DOWN);

  await timed("dns resolverUp", () => world.dns.resolverUp());
  expect(world.dns.resolverRunning).toBe(true);
  await deliveredOnce(world, sent);

  // The restarted resolver, its cache empty, still validates: a DANE sender verifies Bob's TLSA record.
  const dane = await runScenario(
    world,
    scenarioFromYaml(`
      name: DANE after the resolver's restart
      sender: { postconf: { smtp_tls_security_level: dane } }
      expect: { outcome: delivered, transport: tls, tls: { trust: verified } }
    `),
  );
  expect(dane.error).toBeUndefined();
  expect(dane.verdict.passed).toBe(true);
});

test("a configuration change while mail waits: the queue is kept, and the next attempt goes out in clear", async ({ world }) => {
  await applyScenario(world, defaults("config change while mail waits"));
  await world.postfix("receiver", "this test").stopPostfix();
  const sent = await deferredAs(world, "config change while mail waits", RECEIVER_DOWN);

  // Bob's admin disables STARTTLS while his Postfix is down: written now, read when it starts.
  await world.postfix("receiver", "this test").applySettings({ smtpd_tls_security_level: "none" }, { keepQueue: true });
  expect(world.postfix("receiver", "this test").postfixRunning).toBe(false);
  // Alice's admin changes a setting while the message waits in her provider's queue (one the
  // queue manager reads, so Postfix is reloaded): the message stays there.
  await world.postfix("sender", "this test").applySettings({ ...EVENT_RETRY_SETTINGS, maximal_queue_lifetime: "2d" }, { keepQueue: true });
  expect(await inDeferredQueue(world.sender, sent.queueId)).toMatchObject({ queueId: sent.queueId });

  await world.postfix("receiver", "this test").startPostfix();
  await deliveredOnce(world, sent);
  // In clear: the marker crossed the wire readable, and the sender logged no TLS session.
  const { hops } = await world.wire.hops();
  expect(hops.some((hop) => hop.transcript.plaintextBody)).toBe(true);
  expect(world.sender.log.since(sent.from).filter((line) => line.includes("TLS connection established to mx.iroco.test"))).toEqual([]);
});

test("a certificate expires while mail waits: a verifying sender defers; renewed, delivered once", async ({ world }) => {
  await applyScenario(world, defaults("certificate expires and is renewed", { smtp_tls_security_level: "verify" }));
  const { key } = world.receiver.presentedCertificate;
  await world.receiver.presentCertificate("expired", key);
  const sent = await deferredAs(world, "certificate expires and is renewed", EXPIRED_CERTIFICATE);

  await world.receiver.presentCertificate("valid", key);
  // Swapping the certificate touches no queue.
  expect(await inDeferredQueue(world.sender, sent.queueId)).toMatchObject({ queueId: sent.queueId });
  await deliveredOnce(world, sent);
  expect(world.sender.log.since(sent.from).some((line) => line.includes("Verified TLS connection established to mx.iroco.test"))).toBe(true);
});

test("a new scenario after an outage starts from a running Postfix with an empty queue", async ({ world }) => {
  await applyScenario(world, defaults("left stopped"));
  await world.postfix("receiver", "this test").stopPostfix();
  const sent = await deferredAs(world, "left stopped", RECEIVER_DOWN);

  const next = await runScenario(world, scenarioFromYaml(`
    name: the next scenario
    expect: { outcome: delivered, transport: tls }
  `));
  expect(next.error).toBeUndefined();
  expect(next.verdict.passed).toBe(true);
  expect(world.postfix("receiver", "this test").postfixRunning).toBe(true);
  expect(await queued(world.sender, sent.queueId)).toBeUndefined();
});

// Last in the file: it ends the world's containers.
test("Postfix or unbound ending without the harness asking is still a death: the container ends", async ({ world }) => {
  // A crash: the master killed outright, not stopped through lab-postfix.
  await world.receiver.exec(["sh", "-c", "kill -KILL $(sed 1q /var/spool/postfix/pid/master.pid)"]);
  await world.dns.exec(["sh", "-c", "kill -KILL $(cat /run/lab-dns/unbound.pid)"]);
  await expect.poll(() => world.deathNotice(), { timeout: 15_000 }).toMatch(/the receiver container \(.*\) stopped \(exit code [1-9]/);
  await expect.poll(() => world.deathNotice(), { timeout: 15_000 }).toMatch(/the dns container stopped \(exit code [1-9]/);
  expect(world.receiver.log.tail(12).join("\n")).toContain("starttls-lab: Postfix ended (status 137) without the harness asking; the container ends");
});

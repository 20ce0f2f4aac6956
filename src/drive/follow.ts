/**
 * Follows one submitted message through the world until it settles, waiting
 * only on events: the providers' status lines, the queue, and the mailbox of
 * whoever should now hold it (Bob's, or Alice's for a bounce). Returns the
 * Observation; throws when the message cannot be accounted for.
 */
import { logEvidence, statement, type Evidence } from "../observe/evidence.js";
import type { DeliveryAttempt, Observation, RequireTlsObservation, TlsObservation } from "../observe/types.js";
import { requireTlsObservation } from "../observe/requireTls.js";
import { readEvents } from "../observe/logReader.js";
import type { DeliveryEvent, NonDeliveryNoticeEvent, PostfixEvent } from "../observe/postfixLog.js";
import { findSmtpReceived, transportFromReceived, witnessDisagreements, type ReceivedHeader } from "../observe/receivedHeader.js";
import { relayTrail, type RelayTrail } from "../observe/relayTrail.js";
import { TLS_REQUIRED_HEADER } from "../scenario/messageHeaders.js";
import type { Role } from "../scenario/types.js";
import { findMailbox, otherRole } from "../world/providers.js";
import { WaitTimeoutError } from "../world/logBook.js";
import type { MailWorld, StartedProvider as Provider } from "../world/world.js";
import type { SubmissionResult } from "./alice.js";
import { fieldsNamed, headerValues, returnedMessage } from "./headers.js";
import { findInInbox } from "./mailbox.js";
import { untilLeftTheQueue } from "./queueExit.js";
import type { MarkedMessage } from "./message.js";

export type LogCursors = Record<Role, number>;

const STATUS_TIMEOUT_MS = 30_000;
const MAX_HOPS = 3;
/** Postfix's scheduler retries within about 2 s at the harness's 1 s timers; after this it is nudged. */
const RETRY_NUDGE_AFTER_MS = 5_000;


/**
 * What happens between two attempts of the first hop: the scenario's
 * events. Called after each deferred attempt that leaves another to follow;
 * resolves once the world changed, with the changes in words.
 */
export interface BetweenAttempts {
  /** The changes made before attempt 1 (events after 0), in words. */
  beforeFirst: string[];
  afterDeferral(attempt: number): Promise<string[]>;
}

/** The queue manager remembers an unreachable destination for minimal_backoff_time and defers its mail without trying. */
const SUSPENDED = /^delivery temporarily suspended: /;
/** The harness's minimal_backoff_time with events (world/scenarioState.ts): how long such a memory lasts. */
const SUSPENSION_MS = 1_000;
const MAX_SUSPENSIONS = 10;

/**
 * Wait for the status line of `queueId` for `recipient` in one provider's
 * log (a message may also have other recipients, e.g. an always_bcc copy),
 * then read that message's trail. With more than one attempt, a deferral is
 * not the end: the next status line of the retry is waited for, up to
 * `attempts` status lines in all; with events (`between`), the world is
 * changed first and the retry asked for by name.
 */
async function settle(
  provider: Provider,
  queueId: string,
  recipient: string,
  from: number,
  attempts: number,
  between?: BetweenAttempts,
): Promise<{ final: DeliveryEvent; trail: RelayTrail; attempts: DeliveryAttempt[] }> {
  const forRecipient = (event: PostfixEvent | undefined): event is DeliveryEvent =>
    event?.kind === "delivery" && event.queueId === queueId && event.to.toLowerCase() === recipient;
  /** The line's status event for this message and recipient, if it says one. */
  const statusIn = (line: string) => provider.reader.events(line).find(forRecipient);
  const isStatus = (line: string) => statusIn(line) !== undefined;
  const seen: DeliveryAttempt[] = [];
  let changes = between?.beforeFirst ?? [];
  let meanwhile: string[] = [];
  let after = from;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const what = attempt === 1 ? `a status line for queue ID ${queueId}, recipient ${recipient}` : `the status line of retry ${attempt - 1} for queue ID ${queueId}`;
    const status =
      attempt === 1
        ? await provider.log.waitFor(isStatus, { from: after, timeoutMs: STATUS_TIMEOUT_MS, what })
        : between
          ? await askForRetry(provider, queueId, isStatus, after, what)
          : await waitForRetry(provider, queueId, isStatus, after, what);
    const event = statusIn(status.line);
    if (!event) break;
    seen.push({ ...attemptOf(attempt, changes, event), ...(meanwhile.length > 0 && { meanwhile }) });
    if (event.status !== "deferred") break;
    after = status.index + 1;
    if (!between || attempt === attempts) continue;
    changes = await between.afterDeferral(attempt);
    // Retries Postfix made on its own while the world was being changed (a
    // restarted queue manager scans its queue at once) came before the
    // change was complete: shown with the next attempt, not counted as it.
    const changedAt = provider.log.cursor;
    meanwhile = readEvents(provider.reader, provider.log.since(after).slice(0, changedAt - after))
      .filter(forRecipient)
      .map((line) => `${line.status}: ${line.detail}`);
    after = changedAt;
  }
  const events = readEvents(provider.reader, provider.log.since(from));
  const trail = relayTrail(events, queueId, { recipient });
  const final = trail.final ?? events.filter(forRecipient).at(-1);
  if (!final) throw new Error(`no status line for queue ID ${queueId} in the ${provider.identity.role}'s log`);
  if (final.status !== "deferred") {
    await leftTheQueue(provider, queueId, from);
  }
  const last = seen.at(-1);
  if (last && last.status === "sent") last.transport = trail.tls ? "tls" : "plaintext";
  return { final, trail, attempts: seen };
}

/** How long the "removed" line gets before the queue itself is asked. */
const REMOVED_LINE_MS = 5_000;

/** A settled message leaves the queue right after its status line; waiting for that keeps the next scenario from finding it there. */
async function leftTheQueue(provider: Provider, queueId: string, from: number): Promise<void> {
  const stillQueued = await untilLeftTheQueue(provider, [queueId], { from, deadline: Date.now() + STATUS_TIMEOUT_MS, recheckMs: REMOVED_LINE_MS });
  if (stillQueued.length > 0) throw new WaitTimeoutError(`queue ID ${queueId} to leave the queue in the ${provider.log.name} log`, STATUS_TIMEOUT_MS, provider.log.tail(8));
}

function attemptOf(number: number, after: string[], event: DeliveryEvent): DeliveryAttempt {
  const status = event.status === "sent" || event.status === "bounced" ? event.status : "deferred";
  return { number, after, status, detail: event.detail, line: event.line };
}

/**
 * A retry comes from Postfix's own scheduler (the harness set its timers to
 * 1 s). Should the queue manager still hold the longer backoff of a
 * configuration it just left behind, the message is asked for by name
 * (postqueue -i) once the scheduler had its chance; it is old enough by
 * then for the plaintext fallback a may sender allows only for messages
 * that waited minimal_backoff_time.
 */
async function waitForRetry(
  provider: Provider,
  queueId: string,
  isStatus: (line: string) => boolean,
  from: number,
  what: string,
): Promise<{ line: string; index: number }> {
  try {
    return await provider.log.waitFor(isStatus, { from, timeoutMs: RETRY_NUDGE_AFTER_MS, what });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
  }
  await provider.retry(queueId);
  return provider.log.waitFor(isStatus, { from, timeoutMs: STATUS_TIMEOUT_MS - RETRY_NUDGE_AFTER_MS, what });
}

/**
 * After an event the harness asks for the retry itself (postqueue -i): the
 * scheduler's timers are long (EVENT_RETRY_SETTINGS), unless a restart of
 * the queue manager already retried it. A destination the queue manager
 * still remembers as unreachable makes it defer the message without trying
 * ("delivery temporarily suspended"): not an attempt; asked again once that
 * memory (minimal_backoff_time, 1 s) is gone.
 */
export async function askForRetry(
  provider: Provider,
  queueId: string,
  isStatus: (line: string) => boolean,
  from: number,
  what: string,
): Promise<{ line: string; index: number }> {
  let after = from;
  for (let suspensions = 0; ; suspensions++) {
    const logged = provider.log.since(after);
    const already = logged.findIndex(isStatus);
    let status: { line: string; index: number };
    if (already >= 0) {
      status = { line: logged[already]!, index: after + already };
    } else {
      await provider.retry(queueId);
      status = await provider.log.waitFor(isStatus, { from: after, timeoutMs: STATUS_TIMEOUT_MS, what });
    }
    const event = provider.reader.events(status.line).find((candidate) => candidate.kind === "delivery");
    if (!event || !SUSPENDED.test(event.detail) || suspensions === MAX_SUSPENSIONS) return status;
    after = status.index + 1;
    await new Promise((resolve) => setTimeout(resolve, SUSPENSION_MS));
  }
}

interface Hop {
  role: Role;
  queueId: string;
  final: DeliveryEvent;
  trail: RelayTrail;
  attempts: DeliveryAttempt[];
}

/** Follow a queue ID from provider to provider until it is stored, held or bounced for `recipient`. */
async function followHops(world: MailWorld, role: Role, queueId: string, recipient: string, cursors: LogCursors, attempts = 1, between?: BetweenAttempts): Promise<Hop[]> {
  const hops: Hop[] = [];
  let current: { role: Role; queueId: string } | undefined = { role, queueId };
  while (current) {
    if (hops.length === MAX_HOPS) throw new Error(`message still travelling after ${MAX_HOPS} hops: ${hops.map((hop) => hop.role).join(" → ")}`);
    // Events happen between the first hop's attempts: the relay the scenario is about.
    const settled = await settle(world.provider(current.role), current.queueId, recipient.toLowerCase(), cursors[current.role], attempts, hops.length === 0 ? between : undefined);
    hops.push({ role: current.role, queueId: current.queueId, ...settled });
    const { final } = settled;
    const relayedOn = final.status === "sent" && final.service !== "lmtp" && final.remoteQueueId;
    current = relayedOn ? { role: otherRole(current.role), queueId: final.remoteQueueId! } : undefined;
  }
  return hops;
}

function tlsOf(trail: RelayTrail): TlsObservation | undefined {
  if (!trail.tls) return undefined;
  return {
    version: trail.tls.version,
    cipher: trail.tls.cipher,
    trust: trail.tls.trust,
    ...(trail.peerCertificate ? { peerName: trail.peerCertificate.subjectCN } : {}),
    ...(trail.tls.keyExchange !== undefined ? { keyExchange: trail.tls.keyExchange } : {}),
  };
}

/**
 * The TLS of the last hop, the one into the provider that stored the message,
 * from its two witnesses: the relaying provider's log and the Received header
 * the storing provider wrote. Throws when they disagree. When nobody relayed
 * it (Alice's client handed it straight to that provider), only the header
 * speaks, and it names no trust.
 */
export function deliveredTls(relayHop: { role: Role; trail: RelayTrail } | undefined, received: ReceivedHeader): TlsObservation | undefined {
  if (!relayHop) return received.tls ? { ...received.tls, trust: "unknown" } : undefined;
  const tls = tlsOf(relayHop.trail);
  const disagreements = witnessDisagreements(tls, received);
  if (disagreements.length > 0) {
    throw new Error(`the two witnesses of the hop into ${received.by} disagree, the ${relayHop.role}'s log and the Received header: ${disagreements.join("; ")}`);
  }
  return tls;
}

async function observeDelivered(world: MailWorld, message: MarkedMessage, hops: Hop[], evidence: Evidence[]): Promise<Observation> {
  const last = hops.at(-1)!;
  const holder = world.provider(last.role);
  const mailbox = findMailbox(message.spec.to);
  if (!mailbox || mailbox.role !== last.role) throw new Error(`${message.spec.to} has no mailbox on the ${last.role}, which stored the message`);
  const found = await findInInbox(holder, world.caCertPem, { name: "Message-ID", value: message.messageId }, mailbox.hosted);
  if (found.length !== 1) {
    throw new Error(`expected exactly one copy of ${message.messageId} in ${mailbox.hosted.mailbox}'s inbox, found ${found.length}`);
  }
  const received = findSmtpReceived(headerValues(found[0]!.source, "Received"), holder.identity.smtpHost);
  if (!received) throw new Error(`no Received header by ${holder.identity.smtpHost} on the delivered message`);
  const transport = transportFromReceived(received);
  const using = received.tls ? ` (using ${received.tls.version} with cipher ${received.tls.cipher})` : "";
  evidence.push(statement("mailbox", `${mailbox.hosted.mailbox}'s inbox: Received: from ${received.from}${using} by ${received.by} with ${received.with}`));

  const headers = readBackHeaders(found[0]!.source, message, `${mailbox.hosted.mailbox}'s inbox:`, evidence);

  const relayHop = hops.length > 1 ? hops[hops.length - 2]! : undefined;
  const tls = deliveredTls(relayHop, received);
  return {
    outcome: "delivered",
    transport,
    ...(relayHop ? { relayedBy: relayHop.role } : {}),
    ...(transport === "tls" && tls ? { tls } : {}),
    headers,
    evidence,
  };
}

/**
 * The message's read-back header fields in `source`, keyed by the name as
 * the harness asked for it; each field, in the spelling the copy carries,
 * or its absence, stated as evidence by `witness`.
 */
function readBackHeaders(source: string, message: MarkedMessage, witness: string, evidence: Evidence[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of message.readBack) {
    const fields = fieldsNamed(source, [name]);
    if (fields.length > 0) headers[name] = fields.map((field) => field.value).join(", ");
    const lines = fields.length > 0 ? fields.map((field) => `${field.name}: ${field.value}`) : [`no ${name} header`];
    evidence.push(...lines.map((line) => statement("mailbox", `${witness} ${line}`)));
  }
  return headers;
}

async function observeDeferred(world: MailWorld, hop: Hop, evidence: Evidence[]): Promise<Observation> {
  const queued = (await world.provider(hop.role).queued()).find((entry) => entry.queueId === hop.queueId);
  if (!queued) throw new Error(`the ${hop.role} logged ${hop.queueId} as deferred, but it is not in its queue`);
  const reason = queued.recipients.find((recipient) => recipient.delayReason)?.delayReason ?? hop.final.detail;
  evidence.push(statement("queue", `${hop.role} queue: ${hop.queueId} in ${queued.queueName}: ${reason}`));
  return { outcome: "deferred", reason, evidence };
}

async function observeBounced(world: MailWorld, message: MarkedMessage, hop: Hop, cursors: LogCursors, evidence: Evidence[]): Promise<Observation> {
  const provider = world.provider(hop.role);
  const from = cursors[hop.role];
  // Read as a slice, not line by line: OpenSMTPD ties a report to its message only across two lines of its bounce trace.
  const noticeSince = () =>
    readEvents(provider.reader, provider.log.since(from)).find((event): event is NonDeliveryNoticeEvent => event.kind === "nonDeliveryNotice" && event.queueId === hop.queueId);
  let noticeEvent = noticeSince();
  if (!noticeEvent) {
    // Each new line re-reads the slice; the lines before it were read just now.
    await provider.log.waitFor(() => (noticeEvent = noticeSince()) !== undefined, {
      from: provider.log.cursor,
      timeoutMs: STATUS_TIMEOUT_MS,
      what: `the non-delivery notification for ${hop.queueId}`,
    });
  }
  if (!noticeEvent) throw new Error(`the non-delivery notification for ${hop.queueId} came and went`);
  evidence.push(logEvidence(hop.role, noticeEvent));
  const ndrHops = await followHops(world, hop.role, noticeEvent.ndrQueueId, message.spec.from, cursors);
  const ndrLast = ndrHops.at(-1)!;
  if (ndrLast.final.status !== "sent") throw new Error(`the bounce for ${message.messageId} was not delivered: ${ndrLast.final.line}`);
  // The first hop that logged it: an Exim relaying the report over SMTP logs no id=, the Postfix it hands it to does.
  const ndrMessageId = ndrHops.map((ndrHop) => ndrHop.trail.messageId).find((id) => id !== undefined);
  const senderMailbox = findMailbox(message.spec.from);
  if (senderMailbox?.role !== ndrLast.role) throw new Error(`the bounce for ${message.messageId} did not reach ${message.spec.from}`);
  // The report by its Message-ID where the MTA logs one; OpenSMTPD logs none, but names its own id in the Received header it writes.
  const report = ndrMessageId ? { name: "Message-ID", value: `<${ndrMessageId}>` } : { name: "Received", value: ndrHops[0]!.queueId };
  const inbox = await findInInbox(world.provider(senderMailbox.role), world.caCertPem, report, senderMailbox.hosted);
  const reports = inbox.filter((found) => found.source.includes(message.messageId));
  if (reports.length !== 1) {
    throw new Error(`expected one non-delivery report quoting ${message.messageId} in ${message.spec.from}'s inbox, found ${reports.length}`);
  }
  evidence.push(statement("mailbox", `${message.spec.from}'s inbox: non-delivery report ${ndrMessageId ? `<${ndrMessageId}>` : `(${report.name}: ${report.value})`} quoting ${message.messageId}`));
  const reportSource = reports[0]!.source;
  // Postfix 3.10 marks its own report "TLS-Required: no" when the returned message carried the header: shown, not judged.
  evidence.push(...fieldsNamed(reportSource, [TLS_REQUIRED_HEADER]).map((field) => statement("mailbox", `${message.spec.from}'s inbox, the report itself: ${field.name}: ${field.value}`)));
  const returned = await returnedMessage(reportSource);
  const headers = returned === undefined ? undefined : readBackHeaders(returned, message, `${message.spec.from}'s inbox, the message the report returns:`, evidence);
  return { outcome: "bounced", reason: hop.final.detail, ...(headers && { headers }), evidence };
}

/** When the message settled (status lines seen), for the time split of a scenario. */
export interface FollowTimeline {
  settledAt?: number;
}

/** Lines where a server complained (TLS problems, map errors) since the scenario began: the other side of a failure. */
function serverTrouble(world: MailWorld, cursors: LogCursors): Evidence[] {
  return (["sender", "receiver"] as Role[]).flatMap((role) => {
    const provider = world.provider(role);
    return provider.log
      .since(cursors[role])
      .filter((line) => provider.reader.complaint(line))
      .map((line) => logEvidence(role, line));
  });
}

export async function followMessage(
  world: MailWorld,
  message: MarkedMessage,
  submission: SubmissionResult,
  cursors: LogCursors,
  timeline: FollowTimeline = {},
  options: {
    /** Status lines to follow per hop: more than 1 follows the retries after a deferral. */
    attempts?: number;
    /** The scenario's events, played between the first hop's attempts. */
    between?: BetweenAttempts;
  } = {},
): Promise<Observation> {
  const attempts = options.attempts ?? 1;
  if (!submission.accepted) {
    timeline.settledAt = performance.now();
    return {
      outcome: "rejected",
      reason: submission.response,
      evidence: [statement("submission", `${message.spec.via.provider} port ${message.spec.via.port}, refused at ${submission.command}: ${submission.response}`)],
    };
  }
  const hops = await followHops(world, message.spec.via.provider, submission.queueId, message.spec.to, cursors, attempts, options.between);
  timeline.settledAt = performance.now();
  const evidence: Evidence[] = [
    // nodemailer sends REQUIRETLS only to a server that announced it, so an accepted message is the client's witness.
    ...(message.spec.requireTls
      ? [statement("submission", `Alice's client: ${message.spec.via.provider} port ${message.spec.via.port} announced REQUIRETLS and accepted MAIL FROM with REQUIRETLS (${submission.response})`)]
      : []),
    // Each hop's status line last, after the lines that explain it.
    ...hops.flatMap((hop) => [...hop.trail.deciding.filter((event) => event !== hop.final), hop.final].map((event) => logEvidence(hop.role, event))),
    ...serverTrouble(world, cursors),
  ];
  const observation = await observeLastHop(world, message, hops, cursors, evidence);
  const requireTls = requireTlsOfHops(hops);
  if (requireTls) observation.requireTls = requireTls;
  if (attempts > 1 || options.between) observation.attempts = hops[0]!.attempts;
  return observation;
}

function observeLastHop(world: MailWorld, message: MarkedMessage, hops: Hop[], cursors: LogCursors, evidence: Evidence[]): Promise<Observation> {
  const last = hops.at(-1)!;
  switch (last.final.status) {
    case "sent":
      return observeDelivered(world, message, hops, evidence);
    case "deferred":
      return observeDeferred(world, last, evidence);
    case "bounced":
    case "expired":
      return observeBounced(world, message, last, cursors, evidence);
  }
}

/** REQUIRETLS on the port-25 hop: the smtp client's status line, and the next provider's when it stored the message. */
function requireTlsOfHops(hops: Hop[]): RequireTlsObservation | undefined {
  const relayIndex = hops.findLastIndex((hop) => hop.final.service === "smtp");
  if (relayIndex < 0) return undefined;
  return requireTlsObservation(hops[relayIndex]!.final, hops[relayIndex + 1]?.final);
}

/**
 * `events:` — what changes in the world between two delivery attempts of the
 * scenario's message (issue #19): the shape of one event (its zod lives in
 * schema.ts with the rest of the document), its words, and the checks that
 * need the whole list (order, attempts left to see the
 * change, starting only what was stopped).
 */
import type { CertificateKey, CertificateVariant, DnsSettings, MtaStsSettings, WireMode } from "./types.js";

/** What can happen to a provider's Postfix as a whole: stopped (the queue stays on disk), started, or both. */
export type PostfixAction = "stop" | "start" | "restart";
export type ResolverAction = "down" | "up";

/** A provider's configuration changed while mail waits: the certificate it presents, main.cf settings. */
export interface ProviderChange {
  certificate?: CertificateVariant;
  certificateKey?: CertificateKey;
  /** main.cf settings on top of the scenario's own, applied without touching the queue. */
  postconf?: Record<string, string>;
}

/** DNS records republished for Bob's provider's domains; what is not named keeps its value. */
export type DnsChange = Partial<Omit<DnsSettings, "mtaSts">> & { mtaSts?: Partial<MtaStsSettings> };

export interface ScenarioEvent {
  /** Applied after this delivery attempt (0: after the scenario's state is applied, before Alice submits). */
  after: number;
  /** The sender can only restart: a stopped sender makes no attempt for the harness to follow. */
  sender?: "restart" | ProviderChange;
  receiver?: PostfixAction | ProviderChange;
  dns?: DnsChange;
  wire?: WireMode;
  resolver?: ResolverAction;
}

/** The keys of an event that change something, in the order they are applied. */
export const EVENT_CHANGES = ["resolver", "dns", "sender", "receiver", "wire"] as const satisfies ReadonlyArray<keyof ScenarioEvent>;

/** The event's changes in words, one per change, for reports: "Bob's provider starts Postfix". */
export function describeEvent(event: ScenarioEvent): string[] {
  const words: string[] = [];
  if (event.resolver) words.push(event.resolver === "down" ? "the resolver goes down" : "the resolver comes back up");
  if (event.dns) words.push(`DNS republished: ${describeDnsChange(event.dns)}`);
  for (const role of ["sender", "receiver"] as const) {
    const change = event[role];
    if (change === undefined) continue;
    const who = role === "sender" ? "Alice's provider" : "Bob's provider";
    if (typeof change === "string") {
      words.push(`${who} ${change === "stop" ? "stops Postfix (its queue stays on disk)" : change === "start" ? "starts Postfix" : "restarts Postfix (postfix stop, postfix start; queue on disk)"}`);
      continue;
    }
    if (change.certificate || change.certificateKey) {
      words.push(`${who} now presents the ${change.certificate ?? "same"}${change.certificateKey ? ` ${change.certificateKey}` : ""} certificate`);
    }
    if (change.postconf && Object.keys(change.postconf).length > 0) {
      words.push(`${who} changes main.cf while mail waits: ${Object.entries(change.postconf).map(([name, value]) => `${name} = ${value}`).join(", ")}`);
    }
  }
  if (event.wire) words.push(`the wire now does ${event.wire}`);
  return words;
}

function describeDnsChange(change: DnsChange): string {
  const parts: string[] = [];
  if (change.zone) parts.push(`zone ${change.zone}`);
  if (change.tlsa) parts.push(`TLSA ${change.tlsa}`);
  if (change.mtaSts?.mode) parts.push(`MTA-STS ${change.mtaSts.mode}`);
  if (change.mtaSts?.mx) parts.push(`MTA-STS mx ${change.mtaSts.mx.join(" ")}`);
  if (change.tlsrpt !== undefined) parts.push(`TLSRPT ${change.tlsrpt ? "published" : "withdrawn"}`);
  return parts.join(", ");
}

/** The DNS settings after a change. */
export function applyDnsChange(current: DnsSettings, change: DnsChange): DnsSettings {
  const { mtaSts, ...rest } = change;
  return { ...current, ...rest, mtaSts: { ...current.mtaSts, ...mtaSts } };
}

/** What the events leave running, for the checks below and for putting the world back afterwards. */
export interface EventState {
  receiverStopped: boolean;
  resolverDown: boolean;
}

export interface EventProblem {
  /** Index in the list, and the key at fault. */
  index: number;
  key: string;
  message: string;
}

/**
 * The checks an event cannot make alone: `after` never goes back and leaves
 * an attempt to see the change, and only what is stopped is started (a
 * change that changes nothing would make a scenario pass for nothing).
 */
export function eventListProblems(events: readonly ScenarioEvent[], attempts: number): EventProblem[] {
  const problems: EventProblem[] = [];
  const state: EventState = { receiverStopped: false, resolverDown: false };
  let previousAfter = 0;
  for (const [index, event] of events.entries()) {
    if (event.after < previousAfter) {
      problems.push({ index, key: "after", message: `events are listed in time order: this one comes after attempt ${event.after}, the one before it after attempt ${previousAfter}` });
    }
    if (event.after >= attempts) {
      problems.push({
        index,
        key: "after",
        message: `after attempt ${event.after}, no attempt is left to show the change (attempts: ${attempts}); set attempts to at least ${event.after + 1}`,
      });
    }
    previousAfter = Math.max(previousAfter, event.after);
    if (event.receiver === "start" && !state.receiverStopped) problems.push({ index, key: "receiver", message: "the receiver's Postfix is not stopped here: stop it in an earlier event" });
    if (event.receiver === "stop" && state.receiverStopped) problems.push({ index, key: "receiver", message: "the receiver's Postfix is already stopped here" });
    if (event.receiver === "restart" && state.receiverStopped) problems.push({ index, key: "receiver", message: "the receiver's Postfix is stopped here: start it instead" });
    if (event.resolver === "up" && !state.resolverDown) problems.push({ index, key: "resolver", message: "the resolver is not down here: take it down in an earlier event" });
    if (event.resolver === "down" && state.resolverDown) problems.push({ index, key: "resolver", message: "the resolver is already down here" });
    if (event.receiver === "stop") state.receiverStopped = true;
    if (event.receiver === "start") state.receiverStopped = false;
    if (event.resolver) state.resolverDown = event.resolver === "down";
  }
  return problems;
}

/** The attempts a scenario follows when it does not say: one more than the last event needs. */
export function attemptsForEvents(events: readonly ScenarioEvent[]): number {
  return Math.max(1, ...events.map((event) => event.after + 1));
}

export const resolverActions = ["down", "up"] as const satisfies readonly ResolverAction[];
export const postfixActions = ["stop", "start", "restart"] as const satisfies readonly PostfixAction[];

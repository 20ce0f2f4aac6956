/**
 * The JSON report, exactly the shape DESIGN.md promises other tools
 * ("JSON report"); `error`, `differences` and the rest after them are
 * additive extras per scenario. It is also read back: `merge` rebuilds the
 * run of several shards from their JSON reports, so each scenario carries
 * its definition and everything the other reports render.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Difference } from "../judge/types.js";
import type { DnsEvent } from "../observe/dnsLog.js";
import type { Evidence, EvidenceSource, StatementSource } from "../observe/evidence.js";
import type { PostfixEvent } from "../observe/postfixLog.js";
import type { DeliveryAttempt, Observation, ObservedTrust, RequireTlsObservation, TlsrptEvent } from "../observe/types.js";
import type { AttemptStatus, Expectation, Outcome, RequireTlsExpectation, Role, Scenario, TlsrptExpectation, Transport, Trust, WireExpectation, WireMode } from "../scenario/types.js";
import type { WireTranscript } from "../wire/transcript.js";
import { formatMatcher } from "./describe.js";
import { scenarioPassed, type NativeConfiguration, type RunResult, type ScenarioResult, type WorldSoftware } from "../core/result.js";

/** A scenario's expectation, text matchers written as the user wrote them (substring, or "/source/flags"). */
export interface JsonTlsExpected {
  version?: string;
  trust?: Trust;
  peerName?: string;
  cipher?: string;
  keyExchange?: string;
}

/** What a scenario expected of the TLS standards; header values written as the user wrote them. */
export interface JsonStandardsExpected {
  headers?: Record<string, string>;
  tlsrpt?: TlsrptExpectation;
  requireTls?: RequireTlsExpectation;
  /** Each delivery attempt's status, and the text its reason must contain or match (as written). */
  attempts?: Array<{ status: AttemptStatus; reason?: string }>;
}

export type JsonExpected =
  | ({ outcome: "delivered"; transport: Transport; tls?: JsonTlsExpected; wire?: WireExpectation } & JsonStandardsExpected)
  | ({ outcome: "deferred" | "bounced" | "rejected"; reason?: string; wire?: WireExpectation } & JsonStandardsExpected);

/** The wire's view; plaintextBody is DESIGN.md's contract, the rest are extras. */
export interface JsonWire {
  plaintextBody: boolean;
  mode: WireMode;
  attackerReadBody: boolean;
  injection?: { command: string; discarded: boolean };
  /** The key exchange group the wire read off the last handshake, e.g. "x25519". */
  keyExchange?: string;
  /** Every connection on the port-25 hop, with the eavesdropper's transcript. */
  hops: WireTranscript[];
}

/** What was observed; keys the observation lacks are omitted, never null. */
export interface JsonObserved {
  outcome: Outcome;
  transport?: Transport;
  tls?: { version: string; cipher: string; trust: ObservedTrust; peerName?: string; keyExchange?: string };
  reason?: string;
  wire?: JsonWire;
  /** Extra: the provider that relayed a delivered message to the one that stored it. */
  relayedBy?: Role;
  /** The TLS-relevant headers as Bob's provider stored the message. */
  headers?: Record<string, string>;
  /** What the sender's TLSRPT library reported. */
  tlsrpt?: TlsrptEvent[];
  requireTls?: RequireTlsObservation;
  /** Every delivery attempt of the sender, with the changes (events) made before it. */
  attempts?: DeliveryAttempt[];
  /** Events whose turn never came: the message settled first. */
  eventsNotApplied?: string[];
}

/** Each member of a union without its raw `line`, which the evidence record already carries. */
type WithoutLine<T> = T extends unknown ? Omit<T, "line"> : never;

/** One line of evidence and its witness; `event` is what the harness read from it, when it parsed it. */
export interface JsonEvidence {
  source: EvidenceSource;
  line: string;
  event?: WithoutLine<PostfixEvent> | DnsEvent | TlsrptEvent;
}

export interface JsonScenario {
  file: string;
  name: string;
  passed: boolean;
  expected: JsonExpected;
  /** null when the harness observed nothing (then `error` says why). */
  observed: JsonObserved | null;
  /** Each provider's MTA, its version and TLS library (and a Postfix's release), read from its container; absent when no world ran the scenario. */
  world?: WorldSoftware;
  durationMs: number;
  /** Extra: the harness failure, when there was one. */
  error?: string;
  /** Extra: where observation and expectation differ (empty when they agree). */
  differences: Difference[];
  /** Extra: risks to notice even when the scenario passed. */
  flags?: string[];
  /** Extra: the lines behind the observation, each with its witness (absent when nothing was observed). */
  evidence?: JsonEvidence[];
  /** Extra: the scenario as the loader read it, so that `merge` can render every report from this file alone. */
  definition: Scenario;
  /** Extra: another MTA's configuration as it printed it back, per role (ScenarioResult.native). */
  native?: NativeConfiguration;
}

export interface JsonReport {
  scenarios: JsonScenario[];
  summary: { passed: number; failed: number; durationMs: number };
}

function ms(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0;
}

function toJsonStandardsExpected(e: Expectation): JsonStandardsExpected {
  const out: JsonStandardsExpected = {};
  if (e.headers !== undefined) out.headers = Object.fromEntries(Object.entries(e.headers).map(([name, value]) => [name, formatMatcher(value)]));
  if (e.tlsrpt !== undefined) out.tlsrpt = { ...e.tlsrpt };
  if (e.requireTls !== undefined) out.requireTls = { ...e.requireTls };
  if (e.attempts !== undefined) out.attempts = e.attempts.map((attempt) => ({ status: attempt.status, ...(attempt.reason && { reason: formatMatcher(attempt.reason) }) }));
  return out;
}

export function toJsonExpected(e: Expectation): JsonExpected {
  return { ...toJsonOutcomeExpected(e), ...toJsonStandardsExpected(e) };
}

function toJsonOutcomeExpected(e: Expectation): JsonExpected {
  if (e.outcome === "delivered") {
    const out: JsonExpected = { outcome: "delivered", transport: e.transport };
    if (e.tls) {
      const tls: JsonTlsExpected = {};
      if (e.tls.version !== undefined) tls.version = e.tls.version;
      if (e.tls.trust !== undefined) tls.trust = e.tls.trust;
      if (e.tls.peerName !== undefined) tls.peerName = e.tls.peerName;
      if (e.tls.cipher !== undefined) tls.cipher = formatMatcher(e.tls.cipher);
      if (e.tls.keyExchange !== undefined) tls.keyExchange = e.tls.keyExchange;
      out.tls = tls;
    }
    if (e.wire !== undefined) out.wire = { ...e.wire };
    return out;
  }
  const out: JsonExpected = { outcome: e.outcome };
  if (e.reason !== undefined) out.reason = formatMatcher(e.reason);
  if (e.wire !== undefined) out.wire = { ...e.wire };
  return out;
}

export function toJsonObserved(o: Observation): JsonObserved {
  const out: JsonObserved = { outcome: o.outcome };
  if (o.transport !== undefined) out.transport = o.transport;
  if (o.tls !== undefined) {
    out.tls = { version: o.tls.version, cipher: o.tls.cipher, trust: o.tls.trust };
    if (o.tls.peerName !== undefined) out.tls.peerName = o.tls.peerName;
    if (o.tls.keyExchange !== undefined) out.tls.keyExchange = o.tls.keyExchange;
  }
  if (o.reason !== undefined) out.reason = o.reason;
  if (o.relayedBy !== undefined) out.relayedBy = o.relayedBy;
  if (o.wire !== undefined) {
    const { plaintextBody, mode, attackerReadBody, injection, hops } = o.wire;
    out.wire = { plaintextBody, mode, attackerReadBody, hops };
    if (injection !== undefined) out.wire.injection = { command: injection.command, discarded: injection.discarded };
    if (o.wire.keyExchange !== undefined) out.wire.keyExchange = o.wire.keyExchange;
  }
  if (o.headers !== undefined) out.headers = { ...o.headers };
  if (o.tlsrpt !== undefined) out.tlsrpt = o.tlsrpt.map((event) => ({ ...event }));
  if (o.requireTls !== undefined) out.requireTls = { ...o.requireTls };
  if (o.attempts !== undefined) out.attempts = o.attempts.map((attempt) => ({ ...attempt, after: [...attempt.after] }));
  if (o.eventsNotApplied !== undefined) out.eventsNotApplied = [...o.eventsNotApplied];
  return out;
}

function toJsonEvidence(item: Evidence): JsonEvidence {
  const { source, line } = item;
  switch (item.source) {
    case "sender-log":
    case "receiver-log": {
      if (!item.event) return { source, line };
      const { line: _sameLine, ...event } = item.event;
      return { source, line, event };
    }
    case "dns-log":
    case "tlsrpt":
      return { source, line, event: item.event };
    default:
      return { source, line };
  }
}

/** DESIGN.md's keys first, the extras after. */
function toJsonScenario(r: ScenarioResult): JsonScenario {
  return {
    file: r.scenario.source.file,
    name: r.scenario.name,
    passed: scenarioPassed(r),
    expected: toJsonExpected(r.scenario.expect),
    observed: r.observation ? toJsonObserved(r.observation) : null,
    ...(r.world && { world: { sender: { ...r.world.sender }, receiver: { ...r.world.receiver } } }),
    durationMs: ms(r.durationMs),
    ...(r.error !== undefined ? { error: r.error } : {}),
    differences: r.verdict.differences.map((d) => ({ field: d.field, expected: d.expected, observed: d.observed })),
    ...(r.flags && r.flags.length > 0 ? { flags: [...r.flags] } : {}),
    ...(r.observation ? { evidence: r.observation.evidence.map(toJsonEvidence) } : {}),
    definition: r.scenario,
    ...(r.native && { native: r.native }),
  };
}

// ------------------------------------------------------------------ reading it back (merge)

function evidenceFromJson(item: JsonEvidence): Evidence {
  switch (item.source) {
    case "sender-log":
    case "receiver-log":
      return item.event ? { source: item.source, line: item.line, event: { ...(item.event as WithoutLine<PostfixEvent>), line: item.line } as PostfixEvent } : { source: item.source, line: item.line };
    case "dns-log":
      return { source: item.source, line: item.line, event: item.event as DnsEvent };
    case "tlsrpt":
      return { source: item.source, line: item.line, event: item.event as TlsrptEvent };
    default:
      return { source: item.source as StatementSource, line: item.line };
  }
}

function observationFromJson(observed: JsonObserved, evidence: readonly JsonEvidence[]): Observation {
  const { wire, ...rest } = observed;
  return {
    ...rest,
    ...(wire !== undefined ? { wire: { ...wire } } : {}),
    evidence: evidence.map(evidenceFromJson),
  };
}

/** One scenario's result as the JSON report kept it; `toJsonScenario` of it gives back the same JSON. */
export function scenarioResultFromJson(json: JsonScenario): ScenarioResult {
  return {
    scenario: json.definition,
    ...(json.world && { world: json.world }),
    ...(json.observed ? { observation: observationFromJson(json.observed, json.evidence ?? []) } : {}),
    verdict: { passed: json.error === undefined && json.passed, differences: json.differences },
    ...(json.error !== undefined ? { error: json.error } : {}),
    durationMs: json.durationMs,
    ...(json.flags ? { flags: json.flags } : {}),
    ...(json.native && { native: json.native }),
  };
}

/** Checks that a parsed file is a JSON report of this version (one that carries each scenario's definition). */
export function asJsonReport(value: unknown, file: string): JsonReport {
  const report = value as Partial<JsonReport> | null;
  if (report === null || typeof report !== "object" || !Array.isArray(report.scenarios) || typeof report.summary !== "object") {
    throw new Error(`${file}: not a starttls-lab JSON report (no "scenarios" and "summary")`);
  }
  const old = report.scenarios.find((scenario) => typeof (scenario as Partial<JsonScenario>).definition !== "object");
  if (old) throw new Error(`${file}: scenario "${String((old as Partial<JsonScenario>).name)}" has no "definition": written by an older starttls-lab; run it again with this version`);
  return report as JsonReport;
}

export function toJsonReport(run: RunResult): JsonReport {
  const scenarios = run.results.map(toJsonScenario);
  const passed = scenarios.filter((s) => s.passed).length;
  return {
    scenarios,
    summary: { passed, failed: scenarios.length - passed, durationMs: ms(run.durationMs) },
  };
}

/** Writes the JSON report (2-space indented, trailing newline), creating parent folders. */
export async function writeJsonReport(run: RunResult, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(toJsonReport(run), null, 2) + "\n", "utf8");
}

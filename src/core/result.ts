/**
 * What running a scenario produced, and the one rule that says whether it
 * passed. The runner makes these; the judge's summary, the reports, the
 * command line and the bench read them.
 */
import type { Verdict } from "../judge/types.js";
import type { Observation } from "../observe/types.js";
import type { Role, Scenario } from "../scenario/types.js";
import type { Mta } from "../scenario/levels.js";
import type { PostfixRelease } from "./releases.js";

/** What one provider of the world really ran, read from its container once the world started. */
export type ProviderSoftware = PostfixSoftware | OtherMtaSoftware;

interface MtaSoftware {
  /** The MTA's version as the program prints it, e.g. "3.10.13" (`postconf -h mail_version`), "4.98.2", "7.6.0". */
  version: string;
  /** The TLS library as it names itself, e.g. "OpenSSL 3.5.9 29 Sep 2026 (Library: OpenSSL 3.5.9 29 Sep 2026)", "GnuTLS 3.8.9". */
  tls: string;
}

export interface PostfixSoftware extends MtaSoftware {
  mta: "postfix";
  /** The release the world asked for (the image's). */
  release: PostfixRelease;
}

export interface OtherMtaSoftware extends MtaSoftware {
  mta: Exclude<Mta, "postfix">;
}

export type WorldSoftware = Readonly<Record<Role, ProviderSoftware>>;

export interface ScenarioResult {
  scenario: Scenario;
  /** The providers' software in the world that ran it (absent when no world ran it). */
  world?: WorldSoftware;
  /** Absent when the harness could not observe anything (then `error` says why). */
  observation?: Observation;
  verdict: Verdict;
  /** A harness failure (timeout, container died…): the scenario fails with this text. */
  error?: string;
  durationMs: number;
  /** Set when a container of the world had stopped: the run cannot go on in that world. */
  worldDied?: boolean;
  /** Risks to notice even when the scenario passed (e.g. clear text despite an MTA-STS policy). */
  flags?: string[];
  /** Where the scenario's time went (absent when it failed before submitting). */
  phases?: ScenarioPhases;
  /**
   * The TLS configuration each provider running another MTA than Postfix
   * was put in, as that MTA printed it back (`exim -bP …`, OpenSMTPD's relay
   * action); a Postfix provider's is its postconf, in the scenario.
   */
  native?: NativeConfiguration;
}

/** Per role, the lines of an MTA's own configuration in force, e.g. ["hosts_require_tls = *", …]. */
export type NativeConfiguration = Partial<Record<Role, string[]>>;

/**
 * apply: both providers put into the scenario's state; submit: Alice's
 * client until the server's answer; relay: until the message settled
 * (status lines); observe: reading the queue and mailboxes, judging.
 */
export interface ScenarioPhases {
  applyMs: number;
  submitMs: number;
  relayMs: number;
  observeMs: number;
}

export interface RunResult {
  results: ScenarioResult[];
  durationMs: number;
}

/**
 * A scenario passes only when its verdict holds and the harness raised no
 * error: a verdict reached on evidence the harness could not finish
 * gathering proves nothing.
 */
export function scenarioPassed(result: ScenarioResult): boolean {
  return result.verdict.passed && result.error === undefined;
}

export function countResults(run: RunResult): { passed: number; failed: number } {
  const passed = run.results.filter(scenarioPassed).length;
  return { passed, failed: run.results.length - passed };
}

/** A run passes when every scenario in it passed. */
export function runPassed(run: RunResult): boolean {
  return run.results.every(scenarioPassed);
}

/**
 * starttls-lab as a library: start a world of real Postfix containers, run
 * scenarios (objects or files) through it, and get Observations and Verdicts.
 * For vitest, see "starttls-lab/vitest" (a shared-world fixture).
 */
export { MailWorld, defaultCacheDir, type WorldOptions, type WorldMemory, type StartupTimings } from "./world/world.js";
export type { StartedMtaContainer } from "./world/mtaContainer.js";
export type { PresentedCertificate, StartedProviderContainer } from "./world/providerContainer.js";
export type { StartedDnsContainer } from "./world/dnsContainer.js";
export type { StartedWireContainer, WireHops } from "./world/wireContainer.js";
export { removeLeftovers } from "./world/runLabels.js";
export { applyScenario, FRESH_WORLDS, runScenario, runScenarios, type RunListener, type RunOptions, type WorldSource } from "./runner.js";
export { loadScenarioFiles, loadScenarioText, ScenarioError } from "./scenario/load.js";
export { scenarioFromYaml } from "./scenario/inline.js";
export { judge } from "./judge/judge.js";
export { explainResult } from "./report/explain.js";
export { toJsonReport, toJunitXml, writeReports } from "./report/index.js";
export type { Scenario, Expectation, Outcome, Transport, Trust, ProviderSettings, MessageSpec } from "./scenario/types.js";
export type { Observation, TlsObservation } from "./observe/types.js";
export type { Evidence, EvidenceSource, LogEvidence, DnsEvidence, StatementEvidence } from "./observe/evidence.js";
export type { DnsEvent } from "./observe/dnsLog.js";
export type { PostfixEvent } from "./observe/postfixLog.js";
export type { Verdict, Difference } from "./judge/types.js";
export type { RunResult, ScenarioResult, ScenarioPhases } from "./core/result.js";
export { runPassed, scenarioPassed } from "./core/result.js";

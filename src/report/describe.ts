/**
 * Short human texts for expectations and observations, shared by the console,
 * JUnit, JSON and HTML reporters and the explain lesson.
 */
import type { Observation } from "../observe/types.js";
import type { Expectation, ProviderSettings, TextMatcher, TlsExpectation } from "../scenario/types.js";
import type { ProviderSoftware, ScenarioResult, WorldSoftware } from "../core/result.js";
import { formatMatcher } from "../judge/matchText.js";
import { MTA_NAMES, mtaOf } from "../scenario/levels.js";
import { expectedStandards } from "./standards.js";
import { expectedAttempts } from "./attempts.js";

/** "Postfix 3.10.13, OpenSSL 3.5.9 29 Sep 2026", "Exim 4.98.2, GnuTLS 3.8.9", as the container's programs said it (the library part of `openssl version` left out). */
export function describeProviderSoftware(software: ProviderSoftware): string {
  return `${MTA_NAMES[software.mta]} ${software.version}, ${software.tls.replace(/\s*\(Library:.*\)$/, "")}`;
}

/**
 * What a provider was configured with, in its MTA's own words: a Postfix
 * provider's postconf, or another MTA's name and level and the settings it
 * printed back (ScenarioResult.native).
 */
export function configurationLines(settings: ProviderSettings, native: readonly string[] | undefined): string[] {
  const mta = mtaOf(settings);
  if (mta === "postfix") return Object.entries(settings.postconf).map(([name, value]) => `${name} = ${value}`);
  const own = settings.exim ?? settings.opensmtpd;
  const chosen = own !== undefined ? "its own options" : `level ${settings.level ?? "may"}`;
  return [`${MTA_NAMES[mta]}, ${chosen}`, ...(native ?? [])];
}

/** Both providers' software, sender first. */
export function describeWorldSoftware(world: WorldSoftware): string {
  return `sender ${describeProviderSoftware(world.sender)}; receiver ${describeProviderSoftware(world.receiver)}`;
}

export { formatMatcher };

/** A matcher for prose: substrings in quotes, regexes as `/…/`. */
function quoteMatcher(m: TextMatcher): string {
  return m.kind === "substring" ? `“${oneLine(m.text)}”` : formatMatcher(m);
}

/** Collapses newlines, tabs and runs of spaces into single spaces, and trims. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Cuts a text to at most `max` characters (code points), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  if (max <= 0) return "";
  return chars.slice(0, max - 1).join("").trimEnd() + "…";
}

function tlsDetails(tls: TlsExpectation): string[] {
  const parts: string[] = [];
  if (tls.version !== undefined) parts.push(tls.version);
  if (tls.trust !== undefined) parts.push(tls.trust);
  if (tls.peerName !== undefined) parts.push(`certificate ${tls.peerName}`);
  if (tls.cipher !== undefined) parts.push(`cipher ${quoteMatcher(tls.cipher)}`);
  if (tls.keyExchange !== undefined) parts.push(`key exchange ${tls.keyExchange}`);
  return parts;
}

/**
 * e.g. "delivered over TLS (TLSv1.3, trusted)", "deferred: “TLS is required”", "rejected: /5\.7\.1/",
 * "delivered in plaintext; header TLS-Required: No".
 */
export function describeExpectation(e: Expectation): string {
  const standards = [...expectedStandards(e), ...expectedAttempts(e)];
  return [describeOutcomeExpected(e), ...standards].join("; ");
}

function describeOutcomeExpected(e: Expectation): string {
  if (e.outcome === "delivered") {
    if (e.transport === "plaintext") return "delivered in plaintext";
    const details = e.tls ? tlsDetails(e.tls) : [];
    return details.length > 0 ? `delivered over TLS (${details.join(", ")})` : "delivered over TLS";
  }
  return e.reason ? `${e.outcome}: ${quoteMatcher(e.reason)}` : e.outcome;
}

/**
 * e.g. "delivered over TLS (TLSv1.3, trusted)", "delivered in plaintext",
 * "deferred: TLS is required, but was not offered by host …". Never cut:
 * tables truncate it themselves.
 */
export function describeObservation(o: Observation): string {
  if (o.outcome === "delivered") {
    if (o.transport === "plaintext") return "delivered in plaintext";
    if (o.transport === "tls" || o.tls) {
      if (!o.tls) return "delivered over TLS";
      const trust = o.tls.trust === "unknown" ? "trust unknown" : o.tls.trust;
      const parts = [
        o.tls.version,
        trust,
        ...(o.tls.peerName ? [`certificate ${o.tls.peerName}`] : []),
        ...(o.tls.keyExchange ? [`key exchange ${o.tls.keyExchange}`] : []),
      ];
      return `delivered over TLS (${parts.join(", ")})`;
    }
    return "delivered";
  }
  const reason = o.reason === undefined ? "" : oneLine(o.reason);
  return reason === "" ? o.outcome : `${o.outcome}: ${reason}`;
}

/** What a result observed, or why nothing was observed. */
export function describeResultObserved(r: ScenarioResult): string {
  if (r.observation) return describeObservation(r.observation);
  return r.error !== undefined ? `no observation (harness error: ${oneLine(r.error)})` : "no observation";
}

/** "340 ms", "1.2 s", "41.3 s", "2 min 05 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "? s";
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const minutes = Math.floor(total / 60);
  return `${minutes} min ${String(total % 60).padStart(2, "0")} s`;
}

/** "479 B", "2.6 kB", "1.2 MB" (decimal units); `spelled` writes small sizes as "479 bytes", for prose. */
export function formatBytes(bytes: number, options: { spelled?: boolean } = {}): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "? B";
  if (bytes < 1000) {
    const whole = Math.round(bytes);
    return options.spelled ? `${whole} byte${whole === 1 ? "" : "s"}` : `${whole} B`;
  }
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** The evidence of a result as its witnesses wrote it, one line each; empty when nothing was observed. */
export function evidenceLines(r: ScenarioResult): string[] {
  return (r.observation?.evidence ?? []).map((item) => item.line);
}

/**
 * What a scenario may ask of a provider that runs another MTA than
 * Postfix, checked when the file is read: a level that MTA has no
 * equivalent for, Postfix's own settings (postconf, main.cf, maps, a
 * release), another MTA's native options, and the features the harness
 * reads from Postfix alone (its events, TLSRPT, REQUIRETLS) or that the MTA
 * lacks (MTA-STS). Each is refused with the reason, never approximated.
 */
import type { ScenarioProblem } from "./errors.js";
import { MTA_NAMES, mtaOf, type Mta, type SecurityLevel } from "./levels.js";
import type { Role, Scenario } from "./types.js";
import { formatFieldPath, type FieldPath, type Locator } from "./yamlPosition.js";

type OtherMta = Exclude<Mta, "postfix">;

/**
 * The levels each MTA cannot express, per role, and why (their manuals and
 * sources: Exim's spec for the smtp transport, smtpd.conf(5) and mta.c of
 * OpenSMTPD 7.6). Every level not listed maps to the MTA's own options
 * (src/world/eximContainer.ts, src/world/opensmtpdContainer.ts).
 */
export const UNSUPPORTED_LEVELS: Readonly<Record<OtherMta, Readonly<Record<Role, Partial<Record<SecurityLevel, string>>>>>> = {
  exim: {
    sender: {
      secure:
        "Exim checks a certificate against the MX host's name only (tls_verify_cert_hostnames); Postfix's secure matches the next-hop domain itself and does not trust the MX lookup, which no Exim option does",
    },
    receiver: {},
  },
  opensmtpd: {
    sender: {
      none: "OpenSMTPD's MX relay always tries STARTTLS when offered; plaintext only is smtp+notls:// on a fixed relay host (relay host …), which skips the MX lookup",
      secure: "OpenSMTPD checks the certificate against the MX host name only; it has no match against the next-hop domain (smtp_tls_secure_cert_match)",
      dane: "OpenSMTPD 7.6 has no DANE support (no TLSA lookups)",
      "dane-only": "OpenSMTPD 7.6 has no DANE support (no TLSA lookups)",
    },
    // The schema keeps OpenSMTPD out of the receiver's role (RECEIVER_MTAS).
    receiver: {},
  },
};

/** Why a level has no equivalent in an MTA, or undefined when it has one. */
export function unsupportedLevel(mta: Mta, role: Role, level: SecurityLevel): string | undefined {
  return mta === "postfix" ? undefined : UNSUPPORTED_LEVELS[mta][role][level];
}

/** MTA-STS (RFC 8461): Postfix asks the world's resolver for policies (smtp_tls_policy_maps); the others have no client for it. */
const NO_MTA_STS: Readonly<Record<OtherMta, string>> = {
  exim: "Exim 4.98 has no MTA-STS (RFC 8461) client: it would never fetch the policy",
  opensmtpd: "OpenSMTPD 7.6 has no MTA-STS (RFC 8461) client: it would never fetch the policy",
};

/** Postfix's own provider settings, as the document names them. */
const POSTFIX_ONLY_FIELDS = ["postfix", "postconf", "mainCf", "masterCf", "files"] as const;

export function mtaChoiceProblems(scenarios: readonly Scenario[], file: string, locate: Locator): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const problem = (path: FieldPath, message: string) => {
    const { position } = locate(path, "key");
    problems.push({ file, line: position.line, column: position.column, field: formatFieldPath(path), message });
  };
  for (const scenario of scenarios) {
    for (const role of ["sender", "receiver"] as const) {
      const settings = scenario[role];
      const mta = mtaOf(settings);
      const runs = `the ${role} runs ${MTA_NAMES[mta]}`;
      if (settings.exim !== undefined && mta !== "exim") problem([role, "exim"], `Exim's own options, but ${runs}: set ${role}.mta: exim`);
      if (settings.opensmtpd !== undefined && mta !== "opensmtpd") problem([role, "opensmtpd"], `OpenSMTPD's own options, but ${runs}: set ${role}.mta: opensmtpd`);
      if (settings.opensmtpd?.includes("no-verify") && !settings.opensmtpd.includes("tls")) {
        problem([role, "opensmtpd"], "no-verify comes with tls (relay tls no-verify): without tls nothing is verified anyway");
      }
      if (mta === "postfix") continue;
      const level = settings.level;
      const why = level === undefined ? undefined : unsupportedLevel(mta, role, level);
      if (level !== undefined && why !== undefined) problem([role, "level"], `${MTA_NAMES[mta]} has no equivalent of ${level}: ${why}`);
      const postfixOnly = POSTFIX_ONLY_FIELDS.filter((field) =>
        field === "postconf" ? Object.keys(settings.postconf).length > 0 : field === "postfix" ? settings.postfix !== undefined : settings.ownPaths?.[field] !== undefined,
      );
      for (const field of postfixOnly) problem([role, field], `is Postfix's, and ${runs}: use ${role}.level${mta === "exim" ? ` or ${role}.exim` : mta === "opensmtpd" ? ` or ${role}.opensmtpd` : ""}`);
      scenario.events?.forEach((event, index) => {
        const change = event[role];
        if (change === undefined) return;
        const postfixAction = typeof change === "string" || change.postconf !== undefined;
        if (postfixAction) problem(["events", index, role], `stops, starts or reconfigures Postfix, and ${runs}`);
      });
    }
    const sender = mtaOf(scenario.sender);
    if (sender === "postfix") continue;
    const senderRuns = `the sender runs ${MTA_NAMES[sender]}`;
    if (scenario.dns.mtaSts.mode !== "none") problem(["dns", "mtaSts", "mode"], `${NO_MTA_STS[sender]}; ${senderRuns}`);
    if (scenario.expect.tlsrpt !== undefined || scenario.dns.tlsrpt) problem(scenario.expect.tlsrpt !== undefined ? ["expect", "tlsrpt"] : ["dns", "tlsrpt"], `the harness reads TLSRPT reports from Postfix 3.10 or later only, and ${senderRuns}`);
    if (scenario.message.requireTls) problem(["message", "requireTls"], `REQUIRETLS needs Postfix 3.11 as the sender, and ${senderRuns}`);
  }
  return problems;
}

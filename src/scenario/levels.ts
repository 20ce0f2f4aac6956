/**
 * TLS security levels in one vocabulary, Postfix's words, whatever MTA a
 * provider runs: `sender.level` and `receiver.level`. For Postfix a level is
 * its native setting (smtp_tls_security_level, smtpd_tls_security_level),
 * written into the provider's postconf so that every report shows what was
 * applied; another MTA maps each level to its own options, or refuses the
 * ones it cannot express.
 */
import type { Role } from "./types.js";

/** What Alice's provider does with TLS on the port-25 hop (postconf(5) smtp_tls_security_level, without fingerprint). */
export const SENDER_LEVELS = ["none", "may", "encrypt", "verify", "secure", "dane", "dane-only"] as const;
/** What Bob's provider offers or demands (smtpd_tls_security_level). */
export const RECEIVER_LEVELS = ["none", "may", "encrypt"] as const;

/** The mail servers a provider can run (`sender.mta`); Bob's provider runs one of RECEIVER_MTAS. */
export const MTAS = ["postfix", "exim", "opensmtpd"] as const;
export type Mta = (typeof MTAS)[number];
/** OpenSMTPD serves one domain per listener here, while Bob's provider hosts three (chosen by SNI): a sender only. */
export const RECEIVER_MTAS = ["postfix", "exim"] as const satisfies readonly Mta[];

/** The options of OpenSMTPD's relay action that concern TLS, the ones `sender.opensmtpd` may list (smtpd.conf(5)). */
export const OPENSMTPD_RELAY_OPTIONS = ["tls", "no-verify"] as const;

/** How an MTA is named in reports and errors. */
export const MTA_NAMES: Readonly<Record<Mta, string>> = { postfix: "Postfix", exim: "Exim", opensmtpd: "OpenSMTPD" };

export type SenderLevel = (typeof SENDER_LEVELS)[number];
export type ReceiverLevel = (typeof RECEIVER_LEVELS)[number];
export type SecurityLevel = SenderLevel | ReceiverLevel;

export function isSenderLevel(level: string): level is SenderLevel {
  return (SENDER_LEVELS as readonly string[]).includes(level);
}

export function isReceiverLevel(level: string): level is ReceiverLevel {
  return (RECEIVER_LEVELS as readonly string[]).includes(level);
}

/** The MTA a provider runs: Postfix unless the scenario chose another. */
export function mtaOf(provider: { mta?: Mta }): Mta {
  return provider.mta ?? "postfix";
}

/** The Postfix parameter a role's level is. */
export const POSTFIX_LEVEL_PARAMETER: Record<Role, string> = {
  sender: "smtp_tls_security_level",
  receiver: "smtpd_tls_security_level",
};

/** A provider's postconf with its level written in as the native setting (the loader refuses a level and the same parameter in postconf). */
export function postconfWithLevel(role: Role, level: SecurityLevel | undefined, postconf: Record<string, string>): Record<string, string> {
  return level === undefined ? postconf : { [POSTFIX_LEVEL_PARAMETER[role]]: level, ...postconf };
}

/** A level an MTA has no equivalent of: refused before anything changes, never approximated. */
export class UnsupportedLevelError extends Error {
  override name = "UnsupportedLevelError";
  constructor(
    readonly mta: string,
    readonly level: string,
    readonly reason: string,
    role: Role = "sender",
  ) {
    super(`${mta} has no equivalent of the ${role} level "${level}": ${reason}`);
  }
}

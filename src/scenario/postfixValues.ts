/**
 * The values of main.cf parameters whose grammar the harness knows, checked
 * the way Postfix reads them, so that a mistake is refused by `validate`
 * instead of being found by a Postfix daemon in the middle of a run.
 * The grammar is Postfix's own: tls_level.c (levels, case-insensitive),
 * smtpd.c/postscreen/tlsproxy (which levels a server takes) and
 * tls_misc.c tls_proto_mask_lims() (protocol lists).
 */

/** Levels the Postfix SMTP (and LMTP) client takes: postconf(5) smtp_tls_security_level. */
export const CLIENT_SECURITY_LEVELS = ["none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"] as const;

/**
 * Levels a Postfix server takes. smtpd, postscreen and tlsproxy treat verify,
 * secure and fingerprint as "unsupported TLS level …, using encrypt" and stop
 * on dane or dane-only ("Invalid TLS level"): neither is what the writer meant.
 */
export const SERVER_SECURITY_LEVELS = ["none", "may", "encrypt"] as const;

type LevelRole = "client" | "server";

const LEVELS_OF: Record<LevelRole, readonly string[]> = { client: CLIENT_SECURITY_LEVELS, server: SERVER_SECURITY_LEVELS };

/** Every parameter that holds one security level, and whose levels it takes. */
export const SECURITY_LEVEL_PARAMETERS: Readonly<Record<string, LevelRole>> = {
  smtp_tls_security_level: "client",
  lmtp_tls_security_level: "client",
  tlsproxy_client_security_level: "client",
  smtpd_tls_security_level: "server",
  postscreen_tls_security_level: "server",
  tlsproxy_tls_security_level: "server",
};

/** Names accepted after "!" or alone (the legacy include/exclude syntax). */
const PROTOCOL_NAMES = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
/** Names accepted after ">=" and "<=" (Postfix 3.6 and later); a hexadecimal version such as 0304 also works there. */
const BOUND_NAMES = ["None", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;

/** smtp_tls_protocols, smtpd_tls_mandatory_protocols, lmtp_…, tlsproxy_…: all read by tls_proto_mask_lims(). */
export function isProtocolListParameter(name: string): boolean {
  return /_tls_(mandatory_)?protocols$/.test(name);
}

const sameName = (candidates: readonly string[], written: string) =>
  candidates.some((candidate) => candidate.toLowerCase() === written.toLowerCase());

function securityLevelProblem(role: LevelRole, value: string): string | undefined {
  // Empty means "use the legacy *_use_tls/*_enforce_tls switches", which is Postfix's own default.
  if (value === "" || sameName(LEVELS_OF[role], value)) return undefined;
  const whose = role === "client" ? "the Postfix SMTP client" : "a Postfix server";
  const clientOnly = role === "server" && sameName(CLIENT_SECURITY_LEVELS, value) ? ` (${value} is a client level)` : "";
  return `"${value}" is not a TLS security level of ${whose}${clientOnly}; one of ${LEVELS_OF[role].join(", ")}`;
}

function protocolListProblem(value: string): string | undefined {
  // Separators as in tls_proto_mask_lims(): comma, whitespace and colon.
  for (const token of value.split(/[,\s:]+/).filter((part) => part !== "")) {
    const bound = /^(>=|<=)(.*)$/.exec(token);
    if (bound) {
      const [, operator, version = ""] = bound;
      // Postfix reads a bare ">=" as ">=0" (no bound) and the next word as an include: ">= TLSv1.2" would allow
      // only TLSv1.2. postconf(5) forbids the space; refusing it says so before Postfix silently misreads it.
      if (version === "") return `"${operator}" needs its version without a space, e.g. ${operator}TLSv1.2`;
      if (sameName(BOUND_NAMES, version) || /^(0x)?[0-9a-f]+$/i.test(version)) continue;
      return `"${token}": ${version} is not a protocol version Postfix knows after ${operator} (${BOUND_NAMES.join(", ")}, or hexadecimal such as 0304)`;
    }
    const name = token.startsWith("!") ? token.slice(1) : token;
    if (!sameName(PROTOCOL_NAMES, name)) {
      return `"${token}": ${name} is not a protocol name Postfix knows (${PROTOCOL_NAMES.join(", ")}; bounds as >=TLSv1.2, <=TLSv1.3)`;
    }
  }
  return undefined;
}

/** Why Postfix would not accept `value` for `name`, or undefined when it would (or when the harness cannot tell). */
export function postconfValueProblem(name: string, value: string): string | undefined {
  // $name expansions are resolved by Postfix at run time, against defaults this checker does not evaluate.
  if (value.includes("$")) return undefined;
  const role = SECURITY_LEVEL_PARAMETERS[name];
  if (role) return securityLevelProblem(role, value.trim());
  if (isProtocolListParameter(name)) {
    const problem = protocolListProblem(value);
    return problem && `not a Postfix TLS protocol list: ${problem}`;
  }
  return undefined;
}

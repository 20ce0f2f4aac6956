/**
 * The TLS situations diagnose recognises: each one's wordings (Postfix's,
 * Exim's, big providers'), the shipped scenarios that reproduce it and the
 * fix beside it, what can be inferred from it (said as "probably"), what to
 * ask the customer, and the scenario to write from what was read.
 *
 * Ordered from the most specific to the most general: the first situation
 * whose wording appears wins (a DANE failure also says "Server certificate
 * not verified"; a plaintext retry also carries its failed handshake).
 */
import type { CertificateVariant, MtaStsSettings, TlsaRecords, Trust, WireMode, ZoneSigning } from "../scenario/types.js";
import type { PostfixRelease } from "../core/releases.js";
import type { SenderLevel } from "../scenario/levels.js";
import type { ClientLevel, Facts, MtaName, ServerLevel } from "./facts.js";

/** A scenario document to write: the subset of the scenario file's fields a diagnosis fills in. */
export interface DraftDocument {
  name: string;
  story: string;
  /** Postfix by default, set by its postconf; another MTA by its level (scenario/levels.ts). */
  sender?: { mta?: OtherSenderMta; level?: SenderLevel; postfix?: PostfixRelease; postconf?: Record<string, string> };
  receiver?: { postfix?: PostfixRelease; postconf?: Record<string, string>; certificate?: CertificateVariant };
  wire?: WireMode;
  dns?: { zone?: ZoneSigning; tlsa?: TlsaRecords; mtaSts?: MtaStsSettings };
  message?: { to?: string; requireTls?: boolean };
  expect:
    | { outcome: "delivered"; transport: "tls" | "plaintext"; tls?: { version?: string; trust?: Trust; peerName?: string } }
    | { outcome: "deferred" | "bounced" | "rejected"; reason: string };
}

/** A document's own fields, beside those it shares with its pair. */
type DraftFields = Omit<DraftDocument, "story"> & { story?: string };

/** The customer's case, and the same world with the fix applied. */
export interface Drafts {
  failing: DraftDocument;
  fix: DraftDocument;
}

/** A refinement of a situation read from a detail of the text (which certificate problem, which handshake problem). */
export interface Detail {
  id: string;
  wording: RegExp;
  says: string;
  reproducedBy: readonly string[];
}

/** The senders besides Postfix a draft can be written for, by the name facts.reportedBy gives them. */
export const OTHER_SENDERS = { Exim: "exim", OpenSMTPD: "opensmtpd" } as const satisfies Partial<Record<MtaName, string>>;
export type OtherSenderName = keyof typeof OTHER_SENDERS;
export type OtherSenderMta = (typeof OTHER_SENDERS)[OtherSenderName];

/** A question about the sender's own settings, in each MTA's words: Postfix's unless the text is another's. */
export type SenderWords = { Postfix: string } & Partial<Record<OtherSenderName, string>>;
export type Ask = string | SenderWords;

export const askedOf = (facts: Facts, ask: Ask): string => {
  if (typeof ask === "string") return ask;
  const other = otherSender(facts);
  return (other && ask[other]) ?? ask.Postfix;
};

/** Exim prints a transport's options as it runs them. */
const EXIM_TRANSPORT = "`exim -bP transport remote_smtp`";

export interface Situation {
  id: string;
  title: string;
  /** Any of these identifies the situation. */
  wordings: readonly RegExp[];
  /** When set, the text must also mention this (DANE, MTA-STS) for the situation to apply. */
  context?: RegExp;
  /** When this appears the situation does not apply (a delivery failure rules out "delivered in plaintext"). */
  excludedBy?: RegExp;
  /** Shipped scenarios showing the failure, by exact name. */
  reproducedBy: readonly string[];
  /** Shipped scenarios showing the fix beside it. */
  fixedBy: readonly string[];
  /** Narrower cases: the first whose wording appears replaces reproducedBy, and is said as read. */
  details?: readonly Detail[];
  probably(facts: Facts): string[];
  ask: readonly Ask[];
  draft(facts: Facts, detail: Detail | undefined): Drafts;
  /**
   * What the failing case expects when another MTA sends, in its own words as
   * the shipped scenarios measured them: the draft is then written for that
   * MTA (diagnose.ts). Without it the draft stays Postfix's, and says so.
   */
  failingAs?: Partial<Record<OtherSenderName, DraftDocument["expect"]>>;
}

/** The receiver's MX host in the world: the customer's host is played by it. */
export const WORLD_MX = "mx.iroco.test";

const CERTIFICATE_NOT_VERIFIED: readonly RegExp[] = [
  /Server certificate not verified/i,
  /certificate verif\w* failed/i,
  /certificate verify failed/i,
  /\(certificate verification failed\)/i,
];

const trustAt = (level: ClientLevel): Trust | undefined =>
  level === "encrypt" || level === "may" ? "trusted" : level === "verify" || level === "secure" || level.startsWith("dane") ? "verified" : undefined;

const senderLevel = (facts: Facts, otherwise: ClientLevel): ClientLevel => facts.senderLevel ?? otherwise;
const receiverLevel = (facts: Facts, otherwise: ServerLevel): ServerLevel => facts.receiverLevel ?? otherwise;

/** Where another MTA keeps what Postfix calls the sender's level, when a situation has no guess in that MTA's words. */
const NATIVE_LEVEL_WORDS: Readonly<Record<OtherSenderName, string>> = {
  Exim: "in Exim: hosts_require_tls, or a DANE/MTA-STS policy",
  OpenSMTPD: "in OpenSMTPD: the relay action's tls option, or tls no-verify",
};

/** The guess about the sender's level, in the words of the MTA that wrote the text: Postfix's, or another's own when the situation has them. */
const levelSaid = (facts: Facts, guess: string, nativeGuess: Partial<Record<OtherSenderName, string>> = {}): string[] => {
  if (facts.senderLevel) return [];
  const other = otherSender(facts);
  if (other === undefined) return [`the sending server ${guess}`];
  return [`the sending server ${nativeGuess[other] ?? `${guess} (${NATIVE_LEVEL_WORDS[other]})`}`];
};

export const otherSender = (facts: Facts): OtherSenderName | undefined =>
  facts.reportedBy !== undefined && facts.reportedBy in OTHER_SENDERS ? (facts.reportedBy as OtherSenderName) : undefined;

/** A matrix's cells by name, as the loader names them: "<name> [axis=value, …]" in the axes' order. */
function cells(name: string, axes: Readonly<Record<string, readonly string[]>>): string[] {
  const rows = Object.entries(axes).reduce<string[][]>(
    (partial, [axis, values]) => partial.flatMap((row) => values.map((value) => [...row, `${axis}=${value}`])),
    [[]],
  );
  return rows.map((row) => `${name} [${row.join(", ")}]`);
}

/** scenarios/exim.yaml and opensmtpd.yaml: each MTA as Alice's provider against Postfix, and Exim as Bob's. */
const EXIM_SENDING = "Exim's levels against Postfix";
const EXIM_RECEIVING = "Exim as Bob's provider, against Postfix's levels";
const OPENSMTPD_SENDING = "OpenSMTPD's levels against Postfix";
const EXIM_CERTIFICATES = "Certificates under Exim's verification";
/** scenarios/interop.yaml: every sender MTA against every receiver MTA, the receiver without STARTTLS. */
const INTEROP_NO_STARTTLS = "Interop: a receiver without STARTTLS";
const EVERY_PAIR = { sender: ["postfix", "exim", "opensmtpd"], receiver: ["postfix", "exim"] } as const;
const EXIM_CERTIFICATE_VARIANTS: readonly CertificateVariant[] = ["expired", "wrong-name", "self-signed", "unknown-ca"];
const EXIM_DANE_MATCH = "Exim and DANE [tlsa=auto]";

const SECURITY_LEVELS_STRICT_TO_NONE = ["encrypt", "verify", "secure"].map((level) => `Security levels [sender=${level}, receiver=none]`);
const STRIPPING_STRICT = ["encrypt", "verify", "secure"].map((level) => `STARTTLS stripping [sender=${level}]`);

/** scenarios/tls-required.yaml: the same message with "TLS-Required: No", a 3.7 and a 3.10 sender. */
const TLS_REQUIRED_NO = "TLS-Required: No, Alice's provider at encrypt, Bob's provider offers no STARTTLS";
const tlsRequiredNoCells = (sender: "3.7" | "3.10") => ["3.7", "3.10"].map((receiver) => `${TLS_REQUIRED_NO} [sender=${sender}, receiver=${receiver}]`);

const DANE_MATCH = "DANE: the TLSA record matches, the key is verified by DNSSEC [sender=3.10, receiver=3.10]";
const verifiedDelivery = { outcome: "delivered", transport: "tls", tls: { trust: "verified", peerName: WORLD_MX } } as const;

const postfixCertificateCells = (variant: CertificateVariant) => cells("Certificates that go wrong", { level: ["verify", "secure"], certificate: [variant] });
const certificateCells = (variant: CertificateVariant) => [
  ...postfixCertificateCells(variant),
  ...(EXIM_CERTIFICATE_VARIANTS.includes(variant) ? cells(EXIM_CERTIFICATES, { certificate: [variant] }) : []),
];
const WRONG_PIN = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
const pinCells = (["valid", "expired", "self-signed", "unknown-ca"] as const).map(
  (variant) => `Certificate pinned by fingerprint [pin=${WRONG_PIN}, certificate=${variant}]`,
);

/**
 * A Postfix sender that refused the wire's certificate, from an unknown CA.
 * Under MTA-STS too: the sender's log does not name the policy, and the
 * evidence of some runs has no DNS line about it either (the 2026-12-02
 * corpus): then the certificate is all the text shows.
 */
const MAN_IN_THE_MIDDLE_REFUSED = ["Man in the middle [sender=verify]", "Man in the middle [sender=secure]", "MTA-STS enforce: a man in the middle is caught"];

const CERTIFICATE_DETAILS: readonly Detail[] = [
  { id: "fingerprint", wording: /smtp_tls_fingerprint|fingerprint (?:mismatch|does not match|not matched)|(?:security_level\s*=\s*|level=)fingerprint/i, says: "the certificate was checked against a pinned fingerprint", reproducedBy: pinCells },
  {
    id: "expired",
    wording: /certificate has expired|certificate expired|expired certificate/i,
    says: "the certificate has expired",
    reproducedBy: [...certificateCells("expired"), "Alice's client refuses her own provider's expired certificate"],
  },
  { id: "not-yet-valid", wording: /not yet valid/i, says: "the certificate is not valid yet", reproducedBy: certificateCells("not-yet-valid") },
  { id: "self-signed", wording: /self[- ]signed/i, says: "the certificate is self-signed", reproducedBy: certificateCells("self-signed") },
  {
    id: "missing-intermediate",
    wording: /unable to verify the first certificate|incomplete (?:certificate )?chain/i,
    says: "the server did not send its intermediate CA certificate",
    reproducedBy: certificateCells("missing-intermediate"),
  },
  {
    id: "unknown-ca",
    wording: /unable to get local issuer certificate|untrusted issuer/i,
    says: "the certificate's issuer is not a CA the sender trusts",
    reproducedBy: [...certificateCells("unknown-ca"), ...MAN_IN_THE_MIDDLE_REFUSED],
  },
  {
    id: "wrong-name",
    wording: /(?:host ?name|subject|certificate|server) name mismatch|(?:name|hostname)[^\n.]{0,40}does not match|no matching (?:name|subjectAltName)/i,
    says: "the certificate does not name the server",
    reproducedBy: [...certificateCells("wrong-name"), "Without SNI, a secure sender refuses the default certificate"],
  },
  // Postfix's own judgement of the chain, when its log is all there is.
  {
    id: "untrusted-chain",
    wording: /\bUntrusted TLS connection established/,
    says: "Postfix judged the certificate Untrusted: no chain to a CA the sender trusts (expired, not yet valid, self-signed, unknown CA, a missing intermediate, someone in between), or not the fingerprint pinned",
    reproducedBy: [
      ...(["expired", "not-yet-valid", "self-signed", "unknown-ca", "missing-intermediate"] as const).flatMap(postfixCertificateCells),
      ...pinCells,
      ...MAN_IN_THE_MIDDLE_REFUSED,
    ],
  },
  {
    id: "trusted-chain",
    wording: /(?<!Un)Trusted TLS connection established/,
    says: "Postfix judged the chain Trusted: the CA is fine, so the name the sender checks is not in the certificate",
    reproducedBy: [...postfixCertificateCells("wrong-name"), "Without SNI, a secure sender refuses the default certificate"],
  },
];

const certificateVariantOf = (detail: Detail | undefined): CertificateVariant | undefined =>
  (["expired", "not-yet-valid", "self-signed", "missing-intermediate", "unknown-ca", "wrong-name"] as const).find((variant) => variant === detail?.id);

const HANDSHAKE_DETAILS: readonly Detail[] = [
  {
    id: "protocol",
    wording: /unsupported protocol|no protocols available|wrong version number|protocol version|version too low|no shared (?:cipher|protocol)/i,
    says: "the two servers found no TLS version (or cipher) in common",
    reproducedBy: [
      "Protocol policy: a sender that insists on TLS 1.3 meets a TLS 1.2 server (encrypt)",
      "Protocol policy: a sender that wants TLS 1.3 meets a TLS 1.2 server (may)",
    ],
  },
  {
    id: "sni",
    wording: /\bSNI\b|servername|malformed BASE64/i,
    says: "the handshake broke on the server name (SNI) the sender asked for",
    reproducedBy: ["SNI map as an indexed table built the wrong way (postmap without -F) breaks TLS"],
  },
];

const REQUIRETLS_DELIVERED = "REQUIRETLS: verified by DANE, announced by Bob's provider, delivered";

/** Why a REQUIRETLS message could not go, in Postfix 3.11's and nodemailer's words (all checked on the real servers). */
const REQUIRETLS_DETAILS: readonly Detail[] = [
  {
    id: "not-announced",
    wording: /no server was found that supports REQUIRETLS|REQUIRETLS support was not offered|!requiretls:none/i,
    says: "the receiving server did not announce REQUIRETLS after STARTTLS",
    reproducedBy: ["REQUIRETLS: Bob's provider does not announce it, the message comes back"],
  },
  {
    id: "no-certificate-match",
    wording: /disables certificate matching|!requiretls:nocertmatch/i,
    says: "nothing let the sender verify the server's certificate (no DANE, no MTA-STS, an opportunistic TLS level)",
    reproducedBy: ["REQUIRETLS: no DANE, no MTA-STS, no verified path: the message comes back"],
  },
  {
    id: "no-starttls",
    wording: /Sender requested REQUIRETLS, but TLS service was not offered|!requiretls:nostarttls/i,
    says: "the receiving server offered no STARTTLS (or something on the path removed it)",
    reproducedBy: ["REQUIRETLS: STARTTLS stripped on the wire, the message comes back"],
  },
  {
    id: "submission-server",
    wording: /does not support REQUIRETLS extension|EREQUIRETLS/,
    says: "the sender's own submission server did not announce REQUIRETLS, so the mail client did not send",
    reproducedBy: ["REQUIRETLS: Alice's own provider does not announce it, her client refuses"],
  },
];

/** REQUIRETLS exists from Postfix 3.11 on: every draft of it pins both providers there. */
const REQUIRETLS_WORLD = {
  sender: { postfix: "3.11", postconf: { smtp_tls_security_level: "dane" } },
  receiver: { postfix: "3.11" },
  dns: { tlsa: "auto" },
  message: { requireTls: true },
} as const satisfies Partial<DraftDocument>;

/** Per detail: the customer's case in the REQUIRETLS world, and the story of its fix (a verified path to a server that announces it). */
const REQUIRETLS_CASES: Readonly<Record<string, { failing: DraftFields; fix: string }>> = {
  "not-announced": {
    failing: {
      name: "Customer case: the receiving server does not announce REQUIRETLS",
      receiver: { postfix: "3.11", postconf: { requiretls_enable: "no" } },
      expect: { outcome: "bounced", reason: "no server was found that supports REQUIRETLS" },
    },
    fix: "The fix on the receiving side: announce REQUIRETLS (requiretls_enable = yes, Postfix 3.11's default).",
  },
  "no-certificate-match": {
    failing: {
      name: "Customer case: REQUIRETLS without a verified path",
      sender: { postfix: "3.11", postconf: { smtp_tls_security_level: "may" } },
      dns: { tlsa: "none" },
      expect: { outcome: "bounced", reason: "disables certificate matching" },
    },
    fix: "The fix on both sides: the receiver publishes a TLSA record in its signed zone (or an MTA-STS policy), the sender uses DANE (smtp_tls_security_level = dane).",
  },
  "no-starttls": {
    failing: { name: "Customer case: REQUIRETLS, STARTTLS removed on the path", wire: "strip-starttls", expect: { outcome: "bounced", reason: "TLS service was not offered" } },
    fix: "The fix on the path: nothing between the servers removes STARTTLS (a firewall's SMTP inspection, an attacker).",
  },
  "submission-server": {
    failing: {
      name: "Customer case: the submission server does not announce REQUIRETLS",
      sender: { postfix: "3.11", postconf: { smtp_tls_security_level: "dane", requiretls_enable: "no" } },
      expect: { outcome: "rejected", reason: "EREQUIRETLS" },
    },
    fix: "The fix on the sending side: requiretls_enable = yes (Postfix 3.11's default) on the submission server.",
  },
};

function requireTlsDrafts(detail: Detail | undefined): Drafts {
  // Without a detail the commonest cause today: a receiver that does not announce it.
  const { failing, fix } = REQUIRETLS_CASES[detail?.id ?? "not-announced"] ?? REQUIRETLS_CASES["not-announced"]!;
  return caseAndFix(REQUIRETLS_WORLD, failing, {
    name: "Customer case, fixed: a verified path to a server that announces REQUIRETLS",
    story: fix,
    // DANE 3 1 1 between two 3.11 servers exchanges a raw public key: no certificate name to expect.
    expect: { outcome: "delivered", transport: "tls", tls: { trust: "verified" } },
  });
}

export const SITUATIONS: readonly Situation[] = [
  {
    id: "requiretls-unmet",
    title: "The sender asked for REQUIRETLS (RFC 8689), and no path met it",
    wordings: [/Sender requested REQUIRETLS/i, ...REQUIRETLS_DETAILS.map((detail) => detail.wording)],
    reproducedBy: REQUIRETLS_DETAILS.flatMap((detail) => detail.reproducedBy),
    fixedBy: [REQUIRETLS_DELIVERED],
    details: REQUIRETLS_DETAILS,
    probably: () => [
      "the message was returned, not delayed: Postfix 3.11 tries every MX, then bounces (5.7.10 or 5.7.30); its report carries only the headers (requiretls_redact_dsn = yes)",
    ],
    ask: [
      "the tls= field of the sender's status line (Postfix 3.11, smtp_log_tls_feature_status = yes): which feature failed (!requiretls:none, :nocertmatch, :nostarttls)",
      "whether the recipient's domain publishes DANE (`dig +dnssec TLSA _25._tcp.<MX host>`) or MTA-STS, and whether its MX announces REQUIRETLS after STARTTLS: `posttls-finger -c -l dane <domain>` shows the EHLO reply",
    ],
    draft: (_facts, detail) => requireTlsDrafts(detail),
  },
  {
    id: "dane-no-tlsa",
    title: "DANE is required for the destination, but its zone publishes no TLSA record",
    // Exim's smtp transport returns the TLSA lookup's FAIL for a DNSSEC-proven absence (smtp.c), and bounces.
    wordings: [/no TLSA records found/i, /DANE error: tlsa lookup FAIL/i],
    reproducedBy: ["DANE: dane-only refuses a domain without TLSA records", ...cells(EXIM_SENDING, { sender: ["dane-only"], receiver: ["none", "may", "encrypt"] })],
    fixedBy: [DANE_MATCH, EXIM_DANE_MATCH],
    probably: (facts) => [
      ...levelSaid(facts, "probably requires DANE for this destination (smtp_tls_security_level = dane-only, or a per-destination policy)", {
        Exim: "probably requires DANE for this destination (hosts_require_dane in its smtp transport)",
      }),
      ...(facts.reportedBy === "Exim" ? ["the message was returned, not delayed: to Exim's hosts_require_dane a DNSSEC-proven absence of TLSA records is a permanent failure (Postfix defers the same case)"] : []),
    ],
    ask: [
      "the TLSA record they mean to publish: `dig +dnssec TLSA _25._tcp.<MX host>` (does it exist, is the answer authenticated: flag ad)",
      {
        Postfix: "the sender's TLS policy for this destination (smtp_tls_security_level, smtp_tls_policy_maps)",
        Exim: `the smtp transport's DANE options for this destination (hosts_require_dane, hosts_try_dane): ${EXIM_TRANSPORT}`,
      },
    ],
    draft: (facts) =>
      caseAndFix(
        { sender: { postconf: { smtp_tls_security_level: senderLevel(facts, "dane-only") } } },
        {
          name: "Customer case: DANE required, no TLSA record published",
          dns: { tlsa: "none" },
          expect: { outcome: "deferred", reason: "no TLSA records found" },
        },
        {
          name: "Customer case, fixed: the zone publishes the server key's TLSA record",
          story: "The fix on the receiving side: publish a TLSA record (3 1 1) of the key the MX host presents, in the signed zone.",
          dns: { tlsa: "auto" },
          expect: verifiedDelivery,
        },
      ),
    failingAs: { Exim: { outcome: "bounced", reason: "DANE error: tlsa lookup FAIL" } },
  },
  {
    id: "dns-servfail",
    title: "The sender's resolver could not answer for the recipient's domain (SERVFAIL)",
    wordings: [/Name service error for name=\S+ type=\w+: Host not found, try again/i, /\bSERVFAIL\b/],
    reproducedBy: ["DANE: a bogus zone, so the resolver answers nothing at all"],
    fixedBy: [DANE_MATCH],
    probably: () => [
      "a DNSSEC validation failure (signatures expired, a broken key rollover): a validating resolver answers SERVFAIL for a bogus zone, and mail waits",
      "if the domain does not sign its zone, this is a DNS outage, not a TLS problem",
    ],
    ask: [
      "`dig +dnssec MX <domain>` and `dig +cd MX <domain>` from the sender's resolver: SERVFAIL without +cd and an answer with it means the signatures do not validate",
      "whether the domain signs its zone (DNSSEC) and when its signatures were last renewed",
    ],
    draft: (facts) =>
      caseAndFix(
        { sender: { postconf: { smtp_tls_security_level: senderLevel(facts, "dane") } } },
        {
          name: "Customer case: the recipient's zone does not validate (DNSSEC bogus)",
          dns: { zone: "bogus" },
          expect: { outcome: "deferred", reason: "/Name service error for name=iroco\\.test type=MX/" },
        },
        {
          name: "Customer case, fixed: the zone's signatures are renewed",
          story: "The fix on the receiving side: re-sign the zone, so the resolver validates its answers again.",
          dns: { zone: "signed" },
          expect: verifiedDelivery,
        },
      ),
  },
  {
    id: "tls-not-offered",
    title: "The sender requires TLS, and the receiving server did not offer STARTTLS",
    // OpenSMTPD's queue says only "Network error on destination MXs"; the cause is on its session's error line.
    wordings: [
      /TLS is required, but was not offered by host/i,
      /a TLS session is required,? but the server did not offer TLS support/i,
      /TLS required but not supported by remote host/i,
    ],
    reproducedBy: [
      "Founding story: Alice's provider requires TLS, Bob's provider offers none",
      "Founding story with Exim: Alice's provider requires TLS, Bob's offers none",
      "Founding story with OpenSMTPD: Alice's provider requires TLS, Bob's offers none",
      ...cells(EXIM_SENDING, { sender: ["encrypt", "verify"], receiver: ["none"] }),
      ...cells(OPENSMTPD_SENDING, { sender: ["encrypt", "verify"], receiver: ["none"] }),
      `${EXIM_RECEIVING} [sender=encrypt, receiver=none]`,
      ...cells(INTEROP_NO_STARTTLS, { ...EVERY_PAIR, level: ["encrypt"] }),
      "Exim and STARTTLS stripping [sender=encrypt]",
      ...SECURITY_LEVELS_STRICT_TO_NONE,
      ...STRIPPING_STRICT,
      "DANE: an attacker strips STARTTLS, and the message waits instead of leaking",
      "MTA-STS enforce: stripping STARTTLS only delays the mail",
      // A sender that ignores the message's TLS-Required: No (Postfix 3.7, or tls_required_enable = no) waits the same.
      ...tlsRequiredNoCells("3.7"),
      "TLS-Required: No, the control: the same message without the header stays in the queue",
      "TLS-Required: No switched off by the admin (tls_required_enable = no): the message waits again",
      "TLSRPT: an attacker strips STARTTLS from an MTA-STS domain",
      // A transition whose first attempt is this deferral: the later attempt shows what changed.
      "Alice's provider lowers its level while mail waits: out in clear",
    ],
    fixedBy: [
      "Founding story, fixed: Bob's provider offers STARTTLS",
      "Founding story with Exim, fixed: Bob's provider offers STARTTLS",
      "Founding story with OpenSMTPD, fixed: Bob's provider offers STARTTLS",
      // The same deferral, and what ends it while the message waits.
      "The founding story, live: Iroco turns STARTTLS on while the service's mail waits",
      "An attacker strips STARTTLS, then leaves: the waiting message goes over TLS",
    ],
    probably: (facts) => [
      ...levelSaid(facts, "probably requires TLS for this destination (smtp_tls_security_level = encrypt or stricter, or a DANE/MTA-STS policy)", {
        Exim: "probably requires TLS for this destination (hosts_require_tls in its smtp transport, or hosts_require_dane)",
        OpenSMTPD: "requires TLS for this destination: its relay action says tls (or tls no-verify), since OpenSMTPD reports this only then",
      }),
      ...(facts.receiverLevel ? [] : ["the receiving server has STARTTLS switched off (smtpd_tls_security_level = none), or something on the path removes it from the EHLO reply (a firewall's SMTP inspection, an attacker)"]),
    ],
    ask: [
      "the receiving server's EHLO reply as seen from the sender's network: `posttls-finger <domain>` or `openssl s_client -starttls smtp -connect <MX host>:25`: is STARTTLS listed?",
      "the receiving server's smtpd_tls_security_level and certificate settings",
      "if STARTTLS is offered from elsewhere but not to the sender: a firewall or proxy in between (SMTP inspection strips it)",
    ],
    draft: (facts) =>
      caseAndFix(
        { sender: { postconf: { smtp_tls_security_level: senderLevel(facts, "encrypt") } } },
        {
          name: "Customer case: TLS required, STARTTLS not offered",
          receiver: { postconf: { smtpd_tls_security_level: receiverLevel(facts, "none") } },
          expect: { outcome: "deferred", reason: `TLS is required, but was not offered by host ${WORLD_MX}` },
        },
        {
          name: "Customer case, fixed: the receiving server offers STARTTLS",
          story: "The fix on the receiving side: offer STARTTLS (smtpd_tls_security_level = may) with a certificate from a CA the sender trusts.",
          receiver: { postconf: { smtpd_tls_security_level: "may" } },
          expect: tlsDelivery(senderLevel(facts, "encrypt")),
        },
      ),
    failingAs: {
      Exim: { outcome: "deferred", reason: "a TLS session is required, but the server did not offer TLS support" },
      OpenSMTPD: { outcome: "deferred", reason: "Network error on destination MXs" },
    },
  },
  {
    id: "starttls-required-by-receiver",
    title: "The receiving server requires STARTTLS, and the sender sent without TLS",
    wordings: [/Must issue a STARTTLS command first/i, /\b530[ -](?:5\.7\.\d+ )?[^\n]{0,60}\bSTARTTLS\b/i],
    reproducedBy: [
      "Bounce to Alice when Bob's provider insists on TLS and hers never offers it",
      "Security levels [sender=none, receiver=encrypt]",
      "TLS-Required: No travels back with the bounce",
      `${EXIM_SENDING} [sender=none, receiver=encrypt]`,
      `${EXIM_RECEIVING} [sender=none, receiver=encrypt]`,
    ],
    fixedBy: ["Security levels [sender=may, receiver=encrypt]", `${EXIM_SENDING} [sender=may, receiver=encrypt]`, `${EXIM_RECEIVING} [sender=may, receiver=encrypt]`],
    probably: (facts) => [
      ...levelSaid(facts, "probably does not use TLS for this destination (smtp_tls_security_level = none, or a failed handshake it retried in clear text)", {
        Exim: "probably does not use TLS for this destination (hosts_avoid_tls in its smtp transport, or a failed handshake it retried in clear text)",
      }),
      ...(facts.receiverLevel ? [] : ["the receiving server enforces TLS (smtpd_tls_security_level = encrypt)"]),
    ],
    ask: [
      {
        Postfix: "the sender's smtp_tls_security_level (and smtp_tls_policy_maps) for this destination",
        Exim: `the smtp transport's TLS options for this destination (hosts_avoid_tls, hosts_require_tls): ${EXIM_TRANSPORT}`,
      },
      "the sender's log before the 530: a failed TLS handshake there means it fell back to clear text (then diagnose that log)",
    ],
    draft: (facts) =>
      caseAndFix(
        {
          receiver: { postconf: { smtpd_tls_security_level: receiverLevel(facts, "encrypt") } },
        },
        {
          name: "Customer case: the receiver requires STARTTLS, the sender does not use it",
          sender: { postconf: { smtp_tls_security_level: senderLevel(facts, "none") } },
          expect: { outcome: "bounced", reason: "530 5.7.0 Must issue a STARTTLS command first" },
        },
        {
          name: "Customer case, fixed: the sender uses STARTTLS when offered",
          story: "The fix on the sending side: smtp_tls_security_level = may (Debian's default), so it starts TLS when the receiver offers it.",
          sender: { postconf: { smtp_tls_security_level: "may" } },
          expect: tlsDelivery("may"),
        },
      ),
    // Exim pipelines MAIL, RCPT and DATA: the 530 reaches it "after pipelined end of data".
    failingAs: { Exim: { outcome: "bounced", reason: "530 5.7.0 Must issue a STARTTLS command first" } },
  },
  {
    id: "dane-tlsa-mismatch",
    title: "DANE: the server's certificate matches none of the published TLSA records",
    wordings: CERTIFICATE_NOT_VERIFIED,
    context: /\bTLSA\b|\bDANE\b|level=dane|security_level\s*=\s*dane/i,
    reproducedBy: [
      "DANE: a TLSA record left behind after a certificate rollover",
      "DANE: a man in the middle cannot present the published key",
      "TLSRPT: the DANE rollover Bob's provider did not notice",
      "Exim and DANE [tlsa=wrong]",
    ],
    fixedBy: [DANE_MATCH, "DANE: a 2 0 1 record names the CA, not the server's key", EXIM_DANE_MATCH],
    probably: () => [
      "probably a certificate rollover without a TLSA update: the key in service is not the one the TLSA record names",
      "or someone in between presents another key (then the TLSA record is right and the path is not)",
    ],
    ask: [
      "the published records: `dig +dnssec TLSA _25._tcp.<MX host>`",
      "the key the server presents: `posttls-finger -t30 -T180 -c -L verbose,summary <domain>` (shows the TLSA match), or `openssl s_client -starttls smtp -connect <MX host>:25 | openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum`",
      "when the server's certificate or key was last renewed",
    ],
    draft: (facts) =>
      caseAndFix(
        { sender: { postconf: { smtp_tls_security_level: senderLevel(facts, "dane") } } },
        {
          name: "Customer case: a TLSA record that no longer matches the server's key",
          dns: { tlsa: "wrong" },
          expect: { outcome: "deferred", reason: "Server certificate not verified" },
        },
        {
          name: "Customer case, fixed: the TLSA record names the key in service",
          story: "The fix on the receiving side: publish the new key's TLSA record (before the rollover, next to the old one).",
          dns: { tlsa: "auto" },
          expect: verifiedDelivery,
        },
      ),
    failingAs: { Exim: { outcome: "deferred", reason: "The certificate differs" } },
  },
  {
    id: "mta-sts-mismatch",
    title: "MTA-STS: the server's certificate is not valid for a host the policy lists",
    wordings: CERTIFICATE_NOT_VERIFIED,
    // A policy that was found: every sender asks for _mta-sts records, so naming them proves nothing.
    context: /MTA-STS policy|mta-sts\.txt|\bSTS policy\b|policy_type=sts/i,
    reproducedBy: [
      "MTA-STS enforce: an MX host the policy does not list",
      "MTA-STS enforce: a man in the middle is caught",
      "TLSRPT: MTA-STS names an MX host that is no longer in service",
    ],
    fixedBy: ["MTA-STS enforce: delivered over TLS, certificate verified"],
    probably: () => [
      "probably the policy's mx: lines do not list the MX host in service (an MX moved, the policy not updated), or its certificate is not valid for that name",
    ],
    ask: [
      "the policy: `curl https://mta-sts.<domain>/.well-known/mta-sts.txt` (mode, mx lines, max_age) and the `_mta-sts.<domain>` TXT record",
      "the MX records and the names in the MX host's certificate: `openssl s_client -starttls smtp -connect <MX host>:25 -servername <MX host>`",
    ],
    draft: (facts) =>
      caseAndFix(
        { sender: { postconf: { smtp_tls_security_level: senderLevel(facts, "may") } } },
        {
          name: "Customer case: the MTA-STS policy does not list the MX host",
          dns: { mtaSts: { mode: "enforce", mx: ["mx.elsewhere.test"] } },
          expect: { outcome: "deferred", reason: "Server certificate not verified" },
        },
        {
          name: "Customer case, fixed: the policy lists the MX host in service",
          story: "The fix on the receiving side: list the MX host in the policy's mx: lines (and change the TXT record's id so senders fetch it again).",
          dns: { mtaSts: { mode: "enforce" } },
          expect: verifiedDelivery,
        },
      ),
  },
  {
    id: "certificate-not-verified",
    title: "The server's certificate was not accepted",
    wordings: [...CERTIFICATE_NOT_VERIFIED, ...CERTIFICATE_DETAILS.map((detail) => detail.wording)],
    reproducedBy: [
      ...(["wrong-name", "expired", "not-yet-valid", "self-signed", "unknown-ca", "missing-intermediate"] as const).flatMap(certificateCells),
      ...pinCells,
      ...MAN_IN_THE_MIDDLE_REFUSED,
      "Without SNI, a secure sender refuses the default certificate",
      "Exim and a man in the middle [sender=verify]",
    ],
    fixedBy: ["Certificates that go wrong [level=verify, certificate=valid]", `${EXIM_CERTIFICATES} [certificate=valid]`],
    details: CERTIFICATE_DETAILS,
    probably: (facts) =>
      levelSaid(facts, "probably checks certificates for this destination (smtp_tls_security_level = verify or secure, or a policy that says so)", {
        Exim: "probably checks certificates for this destination (tls_verify_hosts with tls_verify_cert_hostnames, or hosts_require_dane)",
        OpenSMTPD: "probably checks certificates for this destination (its relay action says tls without no-verify)",
      }),
    ask: [
      {
        Postfix: "the reason the sender logged next to it (`certificate verification failed for …: …`, `untrusted issuer`, `certificate has expired`): raise smtp_tls_loglevel to 1 if it is not there",
        Exim: "the rest of Exim's line after `(certificate verification failed)`: GnuTLS often says only `certificate invalid`, then the chain the server presents tells",
      },
      "the certificate chain the server presents: `openssl s_client -starttls smtp -connect <MX host>:25 -showcerts` (dates, names, issuer, intermediate sent?)",
      {
        Postfix: "which name the sender checks (smtp_tls_verify_cert_match / smtp_tls_secure_cert_match) and whether it sends SNI (smtp_tls_servername)",
        Exim: `which hosts Exim verifies, against which CAs and names (tls_verify_hosts, tls_verify_certificates, tls_verify_cert_hostnames) and the SNI it sends (tls_sni): ${EXIM_TRANSPORT}`,
        OpenSMTPD: "the relay action's TLS options in smtpd.conf: `relay tls` checks the chain and the MX host's name, `tls no-verify` neither",
      },
    ],
    draft: (facts, detail): Drafts => {
      const level = senderLevel(facts, detail?.id === "fingerprint" ? "fingerprint" : "verify");
      const pin: Record<string, string> = level === "fingerprint" ? { smtp_tls_fingerprint_cert_match: WRONG_PIN } : {};
      const variant = certificateVariantOf(detail) ?? (detail?.id === "fingerprint" ? "valid" : "unknown-ca");
      return {
        failing: {
          name: "Customer case: the server's certificate is not verified",
          story: detail ? "" : "The input does not say what is wrong with the certificate: unknown-ca is a guess, change it once the customer tells.",
          sender: { postconf: { smtp_tls_security_level: level, ...pin } },
          receiver: { certificate: variant },
          expect: { outcome: "deferred", reason: "Server certificate not verified" },
        },
        fix: {
          name: "Customer case, fixed: the server presents a valid certificate",
          story:
            level === "fingerprint"
              ? "The fix on the sending side: pin the certificate the server really presents."
              : "The fix on the receiving side: a certificate for the MX host's name, in its dates, from a CA the sender trusts, with its intermediate CA.",
          sender: { postconf: { smtp_tls_security_level: level, ...(level === "fingerprint" ? { smtp_tls_fingerprint_cert_match: "{receiver.certificate.sha256}" } : {}) } },
          receiver: { certificate: "valid" },
          expect: level === "fingerprint" ? { outcome: "delivered", transport: "tls", tls: { trust: "verified" } } : verifiedDelivery,
        },
      };
    },
    // GnuTLS names no cause: "(certificate verification failed): certificate invalid", or nothing after it.
    failingAs: { Exim: { outcome: "deferred", reason: "(certificate verification failed)" } },
  },
  {
    id: "handshake-failure",
    title: "The TLS handshake between the two servers failed",
    wordings: [/Cannot start TLS: handshake failure/i, /TLS session: \(SSL_connect\)/i, /\(gnutls_handshake\)/i, /TLS error on connection (?:to|from)/i, /SSL_connect error to/i],
    reproducedBy: [
      "Broken handshake, first attempt [sender=may]",
      "Broken handshake, first attempt [sender=encrypt]",
      "Broken handshake, retried [sender=may]",
      "Broken handshake, retried [sender=encrypt]",
      ...HANDSHAKE_DETAILS.flatMap((detail) => detail.reproducedBy),
    ],
    fixedBy: ["Protocol policy: Bob's provider speaks only TLS 1.2", "SNI map as an indexed table built right (postmap -F) works"],
    details: HANDSHAKE_DETAILS,
    probably: (facts) => [
      ...levelSaid(facts, "wanted TLS for this destination: a may sender retries in clear text only after minimal_backoff_time, an encrypt sender never"),
      "the cause is not in this text: no common TLS version or cipher, a server that breaks on the SNI it is asked for, or a middlebox that cuts the handshake",
    ],
    ask: [
      "the receiving server's log at the same second (its smtpd TLS error says why: protocol, cipher, SNI lookup)",
      {
        Postfix: "`posttls-finger -c -l may <domain>` from the sender, and the TLS versions each side allows (smtp_tls_protocols, smtp_tls_mandatory_protocols, smtpd_tls_protocols)",
        Exim: `\`openssl s_client -starttls smtp -connect <MX host>:25\` from the sender, and the TLS versions and ciphers each side allows (Exim's GnuTLS priority string, tls_require_ciphers: ${EXIM_TRANSPORT}; the receiver's own)`,
      },
    ],
    draft: (facts, detail): Drafts => {
      const level = senderLevel(facts, "encrypt");
      if (detail?.id === "protocol") {
        return caseAndFix(
          { receiver: { postconf: { smtpd_tls_protocols: ">=TLSv1.2, <=TLSv1.2" } } },
          {
            name: "Customer case: no TLS version in common",
            sender: { postconf: { smtp_tls_security_level: level, smtp_tls_mandatory_protocols: ">=TLSv1.3", smtp_tls_protocols: ">=TLSv1.3" } },
            expect: { outcome: "deferred", reason: "Cannot start TLS: handshake failure" },
          },
          {
            name: "Customer case, fixed: the sender accepts TLS 1.2 again",
            story: "The fix on the sending side: allow TLS 1.2 (Postfix's default, >=TLSv1) until the receiver speaks TLS 1.3.",
            sender: { postconf: { smtp_tls_security_level: level, smtp_tls_mandatory_protocols: ">=TLSv1.2", smtp_tls_protocols: ">=TLSv1.2" } },
            expect: { outcome: "delivered", transport: "tls", tls: { version: "TLSv1.2" } },
          },
        );
      }
      if (detail?.id === "sni") {
        return caseAndFix(
          { sender: { postconf: { smtp_tls_security_level: level, smtp_tls_servername: "hostname" } }, message: { to: "carol@lutins.test" } },
          {
            name: "Customer case: the server's SNI table breaks the handshake",
            receiver: { postconf: { tls_server_sni_maps: "hash:/etc/starttls-lab/sni-without-F" } },
            expect: { outcome: "deferred", reason: "Cannot start TLS: handshake failure" },
          },
          {
            name: "Customer case, fixed: the SNI table is built with postmap -F",
            story: "The fix on the receiving side: rebuild the indexed SNI table with `postmap -F`, which stores the certificates, not their file names.",
            receiver: { postconf: { tls_server_sni_maps: "hash:/etc/starttls-lab/sni-indexed" } },
            expect: { outcome: "delivered", transport: "tls", tls: { peerName: "mx.lutins.test" } },
          },
        );
      }
      return caseAndFix(
        { sender: { postconf: { smtp_tls_security_level: level } } },
        {
          name: "Customer case: the TLS handshake fails",
          story: "The input does not say why the handshake failed: the wire plays a middlebox that cuts it; change the scenario once the customer tells.",
          wire: "fail-handshake",
          expect: { outcome: "deferred", reason: "Cannot start TLS: handshake failure" },
        },
        {
          name: "Customer case, fixed: nothing in between cuts the handshake",
          story: "The same servers with a clean path: the handshake completes.",
          wire: "pass",
          expect: tlsDelivery(level),
        },
      );
    },
  },
  {
    id: "delivered-in-plaintext",
    title: "The message was delivered, but without TLS on the hop between the servers",
    // A Received header with SMTP or ESMTP, not ESMTPS: that server took the message in clear text.
    wordings: [/\bReceived: from [^\n]*?\bwith E?SMTPA?\b(?![A-Z])/i],
    // A deferral the same log later follows with a delivery is a message that waited, not one that failed.
    excludedBy: /status=bounced|status=deferred(?![\s\S]*status=sent)|^Action: (?:failed|delayed)|^Diagnostic-Code:|^Status: [45]\./im,
    reproducedBy: [
      "Security levels [sender=none, receiver=none]",
      "Security levels [sender=none, receiver=may]",
      "Security levels [sender=may, receiver=none]",
      "Eavesdropper: a plaintext delivery crosses the wire readable",
      "STARTTLS stripping [sender=none]",
      "STARTTLS stripping [sender=may]",
      "MTA-STS testing: stripping STARTTLS still delivers in clear text",
      ...cells(EXIM_SENDING, { sender: ["none"], receiver: ["none", "may"] }),
      ...cells(EXIM_SENDING, { sender: ["may", "dane"], receiver: ["none"] }),
      ...cells(EXIM_RECEIVING, { sender: ["none"], receiver: ["none", "may"] }),
      `${EXIM_RECEIVING} [sender=may, receiver=none]`,
      "Exim and STARTTLS stripping [sender=may]",
      `${OPENSMTPD_SENDING} [sender=may, receiver=none]`,
      ...cells(INTEROP_NO_STARTTLS, { ...EVERY_PAIR, level: ["may"] }),
    ],
    fixedBy: [
      "Security levels [sender=may, receiver=may]",
      "MTA-STS enforce: delivered over TLS, certificate verified",
      ...cells("Interop at may", { sender: ["exim", "opensmtpd"], receiver: ["postfix"] }),
      "Interop at may [sender=postfix, receiver=exim]",
    ],
    details: [
      {
        id: "waited-then-in-clear",
        wording: /status=deferred[\s\S]*status=sent/,
        says: "the message first waited in the queue (deferred) and a later attempt sent it in clear text: something changed while it waited, Bob's provider's STARTTLS or Alice's provider's level",
        reproducedBy: [
          "A config change silently turns STARTTLS off while mail waits: out in clear under may (flagged)",
          "Alice's provider lowers its level while mail waits: out in clear",
        ],
      },
      {
        id: "tls-required-no",
        wording: /\bTLS-Required:[ \t]*no\b/i,
        says: "the message itself carries TLS-Required: No (RFC 8689): a Postfix 3.10+ sender then waives its own TLS level, DANE and MTA-STS for it and acts at may",
        reproducedBy: [...tlsRequiredNoCells("3.10"), "TLS-Required: No skips MTA-STS: under STARTTLS stripping the message crosses in clear text"],
      },
    ],
    probably: () => [
      "the receiving server did not offer STARTTLS to the sender, or the sender did not use it (smtp_tls_security_level = none), or something in between removed it",
      "which Received header is the hop between the two providers is for the customer to confirm: each server adds one",
    ],
    ask: [
      "all the Received headers of the message, to find the hop between the two providers",
      {
        Postfix: "the sending server's log line for the delivery (a `TLS connection established` line before `status=sent`, or none)",
        Exim: "Exim's `=>` line for the delivery: X= (the TLS version and cipher) is on it for a TLS delivery, absent in clear text",
        OpenSMTPD: "OpenSMTPD's session lines for the delivery: an `mta tls ciphers=` line before its `mta delivery`, or none",
      },
      "`posttls-finger <domain>` from the sender's network: does the EHLO reply list STARTTLS?",
    ],
    draft: (facts) =>
      caseAndFix(
        {},
        {
          name: "Customer case: delivered in clear text",
          sender: { postconf: { smtp_tls_security_level: senderLevel(facts, "may") } },
          receiver: { postconf: { smtpd_tls_security_level: receiverLevel(facts, "none") } },
          expect: { outcome: "delivered", transport: "plaintext" },
        },
        {
          name: "Customer case, fixed: the receiving server offers STARTTLS",
          story: "The fix on the receiving side: offer STARTTLS (smtpd_tls_security_level = may); an opportunistic sender then uses it.",
          sender: { postconf: { smtp_tls_security_level: "may" } },
          receiver: { postconf: { smtpd_tls_security_level: "may" } },
          expect: tlsDelivery("may"),
        },
      ),
    failingAs: { Exim: { outcome: "delivered", transport: "plaintext" }, OpenSMTPD: { outcome: "delivered", transport: "plaintext" } },
  },
];

/** The case and its fix: one world, the settings they share, and what each sets on its own (the fix: what changes). */
function caseAndFix(shared: Omit<Partial<DraftDocument>, "name" | "story" | "expect">, failing: DraftFields, fix: DraftFields): Drafts {
  return { failing: { story: "", ...shared, ...failing }, fix: { story: "", ...shared, ...fix } };
}

function tlsDelivery(level: ClientLevel): DraftDocument["expect"] {
  const trust = trustAt(level);
  return { outcome: "delivered", transport: "tls", ...(trust ? { tls: { trust, ...(trust === "verified" ? { peerName: WORLD_MX } : {}) } } : {}) };
}

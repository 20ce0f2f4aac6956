/**
 * The scenario contract: what one run of the test world is asked to do and
 * what it is expected to show. Produced by the loader (from YAML, validated
 * by the zod schema in schema.ts), consumed by the world, drive and judge.
 */

import type { PostfixRelease } from "../core/releases.js";
import type { ScenarioEvent } from "./events.js";
import type { Mta, SecurityLevel } from "./levels.js";
import type { TlsrptPolicyType, TlsrptResult } from "../observe/types.js";

/** The two providers of the test world. */
export type Role = "sender" | "receiver";

/**
 * The certificate a provider's Postfix presents on port 25 and 465 (its
 * IMAP server always keeps a valid one, so people can still read mail).
 */
export type CertificateVariant =
  | "valid"
  | "expired"
  | "not-yet-valid"
  | "wrong-name"
  | "self-signed"
  | "unknown-ca"
  | "missing-intermediate"
  | "with-intermediate";

export type CertificateKey = "rsa" | "ecdsa";

/** What the wire between the providers does with the port-25 hop. */
import type { WireMode } from "../wire/transcript.js";
export type { WireMode };

/** How the receiver's zones are published: DNSSEC-signed, plain, or signed with broken (expired) signatures. */
export type ZoneSigning = "signed" | "unsigned" | "bogus";

/**
 * The TLSA records published for the receiver's MX hosts (_25._tcp.mx.<domain>):
 * auto = 3 1 1 of the key each host presents; wrong = 3 1 1 of a key it does
 * not present (a rollover without a TLSA update); ca = 2 0 1 of the harness
 * CA; none = no TLSA record.
 */
export type TlsaRecords = "auto" | "wrong" | "ca" | "none";

export type MtaStsMode = "enforce" | "testing" | "none";

export interface MtaStsSettings {
  /** none: no policy published (no _mta-sts record). */
  mode: MtaStsMode;
  /** The policy's mx patterns; default: each domain's own MX host. */
  mx?: string[];
}

/** What the world's DNS publishes for Bob's provider's domains. */
export interface DnsSettings {
  zone: ZoneSigning;
  tlsa: TlsaRecords;
  mtaSts: MtaStsSettings;
  /** TLSRPT (RFC 8460): publish _smtp._tls.<domain> TXT "v=TLSRPTv1; rua=mailto:tlsrpt@<domain>" (absent: false). */
  tlsrpt?: boolean;
}

/** Paths to the admin's own configuration files, as written in the scenario (relative to it). */
export interface OwnConfigPaths {
  mainCf?: string;
  masterCf?: string;
  /** Container path under /etc/postfix/ → the admin's file. */
  files?: Record<string, string>;
}

/** The admin's own configuration, read and checked by the loader. */
export interface OwnConfig {
  /** The main.cf fragment's settings, applied before the scenario's postconf (which wins). */
  mainCf?: { file: string; settings: Array<{ name: string; value: string; line: number }> };
  /** master.cf entries appended to the harness's. */
  masterCf?: { file: string; text: string };
  /** Files (maps) copied into the container; indexed maps that main.cf names are built with postmap. */
  files: Array<{ target: string; file: string; content: string }>;
  /** Which of the harness's own settings the admin's main.cf replaces, for the reader. */
  overrides: string[];
}

/** The MTA one provider runs, its TLS settings and the certificate it presents. */
export interface ProviderSettings {
  /** The mail server (scenario/levels.ts); Postfix when the scenario does not choose. */
  mta?: Mta;
  /** The TLS security level as the scenario wrote it (scenario/levels.ts); on Postfix it is already in postconf. */
  level?: SecurityLevel;
  /** Exim's own options on top of the level's (`sender.exim`, `receiver.exim`): remote_smtp's TLS options, or port 25's. */
  exim?: Record<string, string>;
  /** OpenSMTPD's own relay options instead of the level's (`sender.opensmtpd`), e.g. ["tls", "no-verify"]. */
  opensmtpd?: string[];
  /** The release this provider is pinned to; unpinned, it runs the run's release (--postfix). */
  postfix?: PostfixRelease;
  /** main.cf parameter → value, applied with `postconf -e` on top of the role's baseline. */
  postconf: Record<string, string>;
  certificate: CertificateVariant;
  certificateKey: CertificateKey;
  /** The admin's own main.cf / master.cf / maps, when the scenario brings them. */
  own?: OwnConfig;
  /** As written in the scenario, before the loader read them. */
  ownPaths?: OwnConfigPaths;
}

/** Where Alice's client hands the message in. */
export interface Submission {
  /** Which provider's server the client connects to. */
  provider: Role;
  /** 465 = submissions (implicit TLS), 25 = plain SMTP with optional STARTTLS. */
  port: 465 | 25;
  /** Authenticate as Alice (only possible over TLS). */
  auth: boolean;
}

export interface MessageSpec {
  from: string;
  to: string;
  subject: string;
  via: Submission;
  /** Header fields added to the message as written (e.g. `TLS-Required: No`); never the harness's own. */
  headers?: Record<string, string>;
  /**
   * RFC 8689: Alice's client adds REQUIRETLS to MAIL FROM, asking every hop
   * for verified TLS to a server that announces REQUIRETLS, or the message
   * comes back. Only Postfix 3.11 supports it: the loader refuses it for a
   * sender that does not run 3.11.
   */
  requireTls?: boolean;
}

export type Outcome = "delivered" | "deferred" | "bounced" | "rejected";
export type Transport = "tls" | "plaintext";
export type Trust = "verified" | "trusted" | "untrusted" | "anonymous";

/** A text to find in the observed reason: a substring, or a regex written /…/flags in YAML. */
export type TextMatcher = { kind: "substring"; text: string } | { kind: "regex"; source: string; flags: string };

export interface TlsExpectation {
  version?: string;
  trust?: Trust;
  peerName?: string;
  cipher?: TextMatcher;
  /** A key exchange group, matched in the normalised form of observe/keyExchange.ts. */
  keyExchange?: string;
}

/**
 * What the wire must have seen. For a delivered message whose scenario does
 * not say, plaintextBody is expected to follow the transport (tls → false,
 * plaintext → true): "encrypted" must mean the body never crossed readable.
 */
export interface WireExpectation {
  /** The body's marker crossed the hop readable by anyone listening. */
  plaintextBody?: boolean;
  /** mitm: the wire decrypted the session and read the body. */
  attackerReadBody?: boolean;
  /** inject: the receiver threw away the command pipelined after STARTTLS. */
  injectionDiscarded?: boolean;
}

/**
 * Header fields the stored copy of the message must carry (header name →
 * text found in its value); names compare case-insensitively.
 */
export type HeaderExpectation = Record<string, TextMatcher>;

/**
 * TLSRPT (RFC 8460): what Alice's provider reported for the recipient's
 * domain. Every event for that domain must match, and there must be one.
 */
export interface TlsrptExpectation {
  policy: TlsrptPolicyType;
  result: TlsrptResult;
  /** The RFC 8460 result-type of a failure, e.g. "starttls-not-supported"; only with result: failure. */
  failure?: string;
}

/** What the sender's REQUIRETLS handling must show (RFC 8689; see RequireTlsObservation). */
export interface RequireTlsExpectation {
  /** The message the sender relayed carried REQUIRETLS. */
  requested?: boolean;
  /** The receiver announced REQUIRETLS after STARTTLS, as the sending Postfix reports it. */
  receiverAnnounced?: boolean;
  /** The `tls=` field of the sender's status line, exactly as Postfix 3.11 logs it, e.g. "dane/requiretls". */
  tlsField?: string;
}

/**
 * One delivery attempt of the sender, as its status line says: sent (handed
 * to the next server), deferred, or bounced; and, when given, text found in
 * what Postfix said.
 */
export interface AttemptExpectation {
  status: AttemptStatus;
  reason?: TextMatcher;
}
export type AttemptStatus = "sent" | "deferred" | "bounced";

/** What a scenario expects of the TLS standards the message met (TLS-Required, TLSRPT, REQUIRETLS), and of its attempts. */
export interface StandardsExpectation {
  headers?: HeaderExpectation;
  tlsrpt?: TlsrptExpectation;
  requireTls?: RequireTlsExpectation;
  /** Every delivery attempt of the sender, in order (exactly these many). */
  attempts?: AttemptExpectation[];
}

export type Expectation =
  | ({ outcome: "delivered"; transport: Transport; tls?: TlsExpectation; wire?: WireExpectation } & StandardsExpectation)
  | ({ outcome: "deferred" | "bounced" | "rejected"; reason?: TextMatcher; wire?: WireExpectation } & StandardsExpectation);

/** Where a scenario came from, for error messages and reports. */
export interface ScenarioSource {
  file: string;
  /** 1-based line of the scenario's document (or matrix cell) in the file. */
  line: number;
}

export interface Scenario {
  /** Unique within a run; for matrix cells the name carries the cell's parameters. */
  name: string;
  story?: string;
  source: ScenarioSource;
  sender: ProviderSettings;
  receiver: ProviderSettings;
  wire: WireMode;
  dns: DnsSettings;
  /** Delivery attempts followed: 1 judges the first; more follow the retries after a deferral. */
  attempts: number;
  /** What changes in the world between attempts (issue #19); absent when nothing does. */
  events?: ScenarioEvent[];
  message: MessageSpec;
  expect: Expectation;
}

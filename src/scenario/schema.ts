/**
 * The zod schema of one scenario document as written in YAML. Parsing yields
 * a `ScenarioDocument`; `toScenario` (toScenario.ts) and the matrix expansion
 * (matrix.ts) turn it into the `Scenario` objects of the contract. Parameter
 * names are checked after parsing (documentNames.ts, ownConfig.ts): whether a name is valid
 * depends on the rest of the server's configuration.
 */
import { z } from "zod";
import { POSTFIX_RELEASES } from "../core/releases.js";
import { CERTIFICATE_VARIANTS } from "../pki/variantNames.js";
import { DEFAULT_DNS_SETTINGS } from "./dnsDefaults.js";
import { MTAS, OPENSMTPD_RELAY_OPTIONS, POSTFIX_LEVEL_PARAMETER, RECEIVER_LEVELS, RECEIVER_MTAS, SENDER_LEVELS } from "./levels.js";
import { CLIENT_SECURITY_LEVELS, postconfValueProblem, SECURITY_LEVEL_PARAMETERS, SERVER_SECURITY_LEVELS } from "./postfixValues.js";
import { textMatcherSchema } from "./textMatcher.js";
import { attemptsForEvents, EVENT_CHANGES, eventListProblems, postfixActions, resolverActions } from "./events.js";
import { caseInsensitiveRepeats, headerNamePattern, headerValueProblem, reservedHeaderReason } from "./messageHeaders.js";
import { TLSRPT_FAILURE_TYPES } from "../observe/tlsrpt.js";
import type { TlsrptPolicyType, TlsrptResult } from "../observe/types.js";
import type { ScenarioEvent } from "./events.js";
import type {
  AttemptStatus,
  CertificateKey,
  CertificateVariant,
  Expectation,
  Outcome,
  Role,
  Submission,
  MtaStsMode,
  TlsaRecords,
  Transport,
  Trust,
  WireMode,
  ZoneSigning,
} from "./types.js";

/** The members of a union type of the contract, checked to be complete at compile time. */
const allOf =
  <U extends string | number>() =>
  <const T extends readonly U[]>(values: T & ([Exclude<U, T[number]>] extends [never] ? unknown : never)) =>
    values;

export const roles = allOf<Role>()(["sender", "receiver"]);
/** The PKI's list of what it can issue, checked here to be exactly the scenario's variants. */
export const certificateVariants = allOf<CertificateVariant>()(CERTIFICATE_VARIANTS);
export const certificateKeys = allOf<CertificateKey>()(["rsa", "ecdsa"]);
export const wireModes = allOf<WireMode>()(["pass", "strip-starttls", "fail-handshake", "mitm", "inject"]);
export const zoneSignings = allOf<ZoneSigning>()(["signed", "unsigned", "bogus"]);
export const tlsaRecords = allOf<TlsaRecords>()(["auto", "wrong", "ca", "none"]);
export const mtaStsModes = allOf<MtaStsMode>()(["enforce", "testing", "none"]);
export const tlsrptPolicyTypes = allOf<TlsrptPolicyType>()(["sts", "tlsa", "no-policy-found"]);
export const tlsrptResults = allOf<TlsrptResult>()(["success", "failure"]);
export const outcomes = allOf<Outcome>()(["delivered", "deferred", "bounced", "rejected"]);
export const transports = allOf<Transport>()(["tls", "plaintext"]);
export const trusts = allOf<Trust>()(["verified", "trusted", "untrusted", "anonymous"]);
export const tlsVersions = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
export const submissionPorts = allOf<Submission["port"]>()([465, 25]);
export const MAX_ATTEMPTS = 5;

/** A strict object whose unknown-key error lists the keys allowed at that place. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? `allowed here: ${allowed}` : undefined),
  });
}

const singleLine = /^[^\r\n]*$/;
export const postconfParameterPattern = /^[a-z][a-z0-9_]*$/;

const postconfValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error: "expected a text, a number or a boolean (true → yes, false → no)",
  })
  .transform((value) => (typeof value === "boolean" ? (value ? "yes" : "no") : String(value)))
  .pipe(z.string().regex(singleLine, "a main.cf value must fit on one line"));

/** For editors: the levels each security-level parameter takes (Postfix also takes them in any case, and $name). */
const securityLevelProperties = Object.fromEntries(
  Object.entries(SECURITY_LEVEL_PARAMETERS).map(([name, role]) => [
    name,
    { enum: role === "client" ? [...CLIENT_SECURITY_LEVELS] : [...SERVER_SECURITY_LEVELS] },
  ]),
);

const postconfSchema = z
  .record(z.string().regex(postconfParameterPattern, "not a Postfix parameter name (lower-case letters, digits and _)"), postconfValue)
  .superRefine((settings, ctx) => {
    for (const [name, value] of Object.entries(settings)) {
      const problem = postconfValueProblem(name, value);
      if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
    }
  })
  .meta({ properties: securityLevelProperties });

/** A release as text: YAML reads an unquoted 3.10 as the number 3.1, so numbers are refused rather than guessed. */
export const postfixReleaseSchema = z.enum(POSTFIX_RELEASES, {
  error: (issue) =>
    typeof issue.input === "number"
      ? `write the release in quotes ("${POSTFIX_RELEASES.join('", "')}"): YAML reads 3.10 as the number 3.1`
      : `one of ${POSTFIX_RELEASES.join(", ")}`,
});

const certificateSchema = z.enum(certificateVariants);
const certificateKeySchema = z.enum(certificateKeys);

const providerSchema = (role: Role, owner: string, host: string) =>
  strictObject({
    mta: z
      .enum(role === "sender" ? MTAS : RECEIVER_MTAS)
      .optional()
      .describe(
        role === "sender"
          ? `The mail server ${host} runs: postfix (default), exim (Exim 4.98, GnuTLS) or opensmtpd (OpenSMTPD 7.6), each Debian 13's package. With another MTA than Postfix, the level says what it does with TLS (sender.exim / sender.opensmtpd for its own options), and postconf, mainCf, masterCf, files and postfix do not apply.`
          : `The mail server ${host} runs: postfix (default) or exim (Exim 4.98, GnuTLS), each Debian 13's package. With Exim, the level says what port 25 offers (receiver.exim for its own options), and postconf, mainCf, masterCf, files and postfix do not apply.`,
      ),
    exim: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        role === "sender"
          ? "Exim's own options on the remote_smtp transport, on top of the level's: hosts_avoid_tls, hosts_require_tls, tls_verify_hosts, tls_try_verify_hosts, tls_verify_cert_hostnames, hosts_try_dane, hosts_require_dane (host lists, e.g. \"*\" or \"\"). Only with mta: exim."
          : "Exim's own settings for port 25, on top of the level's: tls_advertise_hosts (a host list), mail_requires_tls (yes/no: the lab's MAIL ACL refuses clients without TLS). Only with mta: exim.",
      ),
    opensmtpd: z
      .array(z.enum(OPENSMTPD_RELAY_OPTIONS))
      .optional()
      .describe("OpenSMTPD's own options for its relay action instead of the level's: [] (opportunistic), [tls] (required, verified), [tls, no-verify] (required, any certificate). Only with sender.mta: opensmtpd."),
    level: z
      .enum(role === "sender" ? SENDER_LEVELS : RECEIVER_LEVELS)
      .optional()
      .describe(
        role === "sender"
          ? `The TLS security level of ${owner} on the port-25 hop, in Postfix's words: none, may, encrypt, verify, secure, dane, dane-only. On Postfix it is smtp_tls_security_level, applied as postconf (so do not also set that parameter in postconf).`
          : `The TLS security level of ${owner}'s port 25, in Postfix's words: none (no STARTTLS), may (offered), encrypt (required). On Postfix it is smtpd_tls_security_level, applied as postconf (so do not also set that parameter in postconf).`,
      ),
    postfix: postfixReleaseSchema
      .optional()
      .describe(
        `The Postfix release ${host} runs ("3.7" = Debian 12, "3.10" = Debian 13, "3.11" = Debian testing). Pinned here, it wins over --postfix; unpinned, the provider runs the release --postfix names (default 3.10).`,
      ),
    postconf: postconfSchema
      .default({})
      .describe(`main.cf overrides for ${owner}, applied with postconf -e on top of the baseline. Numbers become text, true/false become yes/no.`),
    certificate: certificateSchema
      .default("valid")
      .describe(
        `The certificate ${host} presents on ports 25 and 465: valid (from the harness CA), expired, not-yet-valid, wrong-name (names another host), self-signed, unknown-ca (a CA the peers do not trust), missing-intermediate (the server does not send the intermediate CA), with-intermediate (it does).`,
      ),
    certificateKey: certificateKeySchema.default("rsa").describe("The certificate's key type: rsa (2048) or ecdsa (P-256)."),
    mainCf: z
      .string()
      .min(1)
      .optional()
      .describe(`Your own main.cf fragment for ${owner} ("parameter = value" lines), relative to this scenario file; applied on top of the harness's settings, before postconf.`),
    masterCf: z.string().min(1).optional().describe("Your own master.cf entries, relative to this scenario file; appended to the harness's."),
    files: z
      .record(
        z.string().regex(/^\/etc\/postfix\/[A-Za-z0-9._/-]+$/, "a target path under /etc/postfix/, e.g. /etc/postfix/sender_access"),
        z.string().min(1),
      )
      .optional()
      .describe("Maps and other files your main.cf refers to: container path under /etc/postfix/ → your file, relative to this scenario file. Indexed maps (hash:, lmdb:, cdb:) named in your main.cf are built with postmap."),
  })
    .superRefine((provider, ctx) => {
      const parameter = POSTFIX_LEVEL_PARAMETER[role];
      if (provider.level !== undefined && provider.postconf[parameter] !== undefined) {
        ctx.addIssue({ code: "custom", path: ["level"], message: `is ${parameter}, which postconf also sets: write it in one place` });
      }
    })
    .prefault({})
    .describe(`The ${role}: ${owner}, ${host}.`);

const headerName = z.string().regex(headerNamePattern, "not a header field name (RFC 5322: printable US-ASCII, no space or colon)");

/** Header names compare case-insensitively: the same header written twice in two spellings is a mistake. */
function rejectRepeatedHeaderNames(headers: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const { name, first } of caseInsensitiveRepeats(Object.keys(headers))) {
    ctx.addIssue({ code: "custom", path: [name], message: `the same header as ${first} (header names are case-insensitive)` });
  }
}

const messageHeadersSchema = z
  .record(headerName, z.string())
  .superRefine((headers, ctx) => {
    rejectRepeatedHeaderNames(headers, ctx);
    for (const [name, value] of Object.entries(headers)) {
      const reserved = reservedHeaderReason(name);
      if (reserved) ctx.addIssue({ code: "custom", path: [name], message: `cannot be set by a scenario: ${reserved}` });
      const problem = headerValueProblem(value);
      if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
    }
  })
  .describe('Header fields added to Alice\'s message, e.g. { TLS-Required: "No" } (RFC 8689). Not the harness\'s own: Message-ID, From, To, Subject, Received, the MIME fields.');

const emailAddress = z.email({ error: "expected an email address such as bob@iroco.test" });

const submissionSchema = strictObject({
  provider: z.enum(roles).default("sender").describe("Whose server Alice's client connects to."),
  port: z
    .literal(submissionPorts)
    .default(465)
    .describe("465 = submissions (implicit TLS); 25 = plain SMTP with optional STARTTLS."),
  auth: z
    .boolean()
    .optional()
    .describe("Authenticate as Alice. Default: true on port 465, false on port 25 (never AUTH on port 25)."),
})
  .superRefine(({ port, auth }, ctx) => {
    if (port === 25 && auth === true) {
      ctx.addIssue({
        code: "custom",
        path: ["auth"],
        message: "no AUTH on port 25 in this world (AUTH needs submissions on 465); use auth: false or port: 465",
      });
    }
  })
  .transform(({ provider, port, auth }): Submission => ({ provider, port, auth: auth ?? port === 465 }))
  .prefault({})
  .describe("Where Alice's client hands the message in.");

const messageSchema = strictObject({
  from: emailAddress.default("alice@infomaniak.test").describe("Envelope and header sender."),
  to: emailAddress.default("bob@iroco.test").describe("Envelope and header recipient."),
  subject: z
    .string()
    .regex(singleLine, "a subject must fit on one line")
    .optional()
    .describe('Default: "starttls-lab: " followed by the scenario name.'),
  via: submissionSchema,
  headers: messageHeadersSchema.optional(),
  requireTls: z
    .boolean()
    .optional()
    .describe(
      'REQUIRETLS (RFC 8689, Postfix 3.11 only: pin sender.postfix: "3.11"): Alice\'s client adds REQUIRETLS to MAIL FROM; the message may then travel only over verified TLS (DANE or MTA-STS) to servers that announce REQUIRETLS, or it comes back to Alice.',
    ),
})
  .prefault({})
  .describe("The message Alice sends.");

const tlsExpectationSchema = strictObject({
  version: z.enum(tlsVersions).optional().describe("Protocol version as Postfix logs it."),
  trust: z.enum(trusts).optional().describe("How the sending Postfix judged the certificate."),
  peerName: z.string().min(1).optional().describe("The certificate name presented by the receiver."),
  cipher: textMatcherSchema
    .optional()
    .describe("Text found in the cipher name; /…/flags is a regular expression."),
  keyExchange: z
    .string()
    .regex(singleLine, "a key exchange is one name")
    .min(1)
    .optional()
    .describe(
      "The key exchange group, case-insensitive, in any usual spelling: x25519, X25519MLKEM768, secp256r1 (= prime256v1 = P-256), secp384r1, x448, ffdhe2048.",
    ),
}).describe("What the TLS session of the relay hop must show.");

const mtaStsMxPatterns = z.array(z.string().regex(/^(\*\.)?[a-z0-9.-]+$/, "an MX host name or *.domain pattern")).min(1, "list at least one MX pattern");

const dnsSchema = strictObject({
  zone: z
    .enum(zoneSignings)
    .default(DEFAULT_DNS_SETTINGS.zone)
    .describe("Bob's provider's zones: DNSSEC-signed (default), unsigned, or bogus (signatures expired: validation fails)."),
  tlsa: z
    .enum(tlsaRecords)
    .default(DEFAULT_DNS_SETTINGS.tlsa)
    .describe(
      "TLSA records for _25._tcp.<MX host>: auto (3 1 1 of the key the host presents, the default), wrong (a key it does not present: a rollover without a TLSA update), ca (2 0 1 of the harness CA), none.",
    ),
  mtaSts: strictObject({
    mode: z.enum(mtaStsModes).default(DEFAULT_DNS_SETTINGS.mtaSts.mode).describe("The MTA-STS policy Bob's provider publishes: enforce, testing, or none (the default)."),
    mx: mtaStsMxPatterns
      .optional()
      .describe("The policy's mx lines; default: the domain's own MX host."),
  })
    .prefault({})
    .describe("MTA-STS (RFC 8461): the policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt."),
  tlsrpt: z
    .boolean()
    .default(DEFAULT_DNS_SETTINGS.tlsrpt ?? false)
    .describe(
      "TLSRPT (RFC 8460): publish _smtp._tls.<domain> TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@<domain>\", asking senders to report every TLS success and failure to Bob's provider (default false). Alice's provider (Postfix 3.10 and later) then reports to the harness's collector: see expect.tlsrpt.",
    ),
})
  .prefault({})
  .describe("What the world's DNS publishes for Bob's provider's domains (the sender resolves through a validating resolver).");

/** A DNS change of an event: only what it names is republished differently, so nothing defaults. */
const dnsChangeSchema = strictObject({
  zone: z.enum(zoneSignings).optional(),
  tlsa: z.enum(tlsaRecords).optional(),
  mtaSts: strictObject({
    mode: z.enum(mtaStsModes).optional(),
    mx: mtaStsMxPatterns.optional(),
  }).optional(),
  tlsrpt: z.boolean().optional(),
})
  .refine((change) => Object.keys(change).length > 0, "name what changes: zone, tlsa, mtaSts or tlsrpt")
  .describe("DNS records republished for Bob's provider's domains, as in dns:; what is not named keeps its value.");

/** A provider's configuration changed by an event while mail waits. */
const providerChangeSchema = strictObject({
  certificate: certificateSchema.optional().describe("The certificate this provider presents from now on (a renewal, an expiry)."),
  certificateKey: certificateKeySchema.optional(),
  postconf: postconfSchema.optional().describe("main.cf settings changed while mail waits (on top of the scenario's own); the queue is kept."),
}).refine((change) => Object.keys(change).length > 0, "name what changes: certificate, certificateKey or postconf");

const eventSchema = strictObject({
  after: z
    .int()
    .min(0, "0 (before Alice submits) or an attempt number")
    .max(MAX_ATTEMPTS - 1, `at most ${MAX_ATTEMPTS - 1}`)
    .optional()
    .describe("The delivery attempt after which the change happens; 0 = before Alice submits. Default: 1 for the first event, then one more than the previous event's."),
  sender: z
    .union([z.literal("restart"), providerChangeSchema], { error: "restart (a stopped sender would make no attempt to follow), or a change: certificate, postconf" })
    .optional()
    .describe("Alice's provider: restart (postfix stop and start, its queue on disk), or a configuration change while mail waits."),
  receiver: z
    .union([z.enum(postfixActions), providerChangeSchema], { error: "stop, start or restart, or a change: certificate, postconf" })
    .optional()
    .describe("Bob's provider: stop | start | restart its Postfix (mailboxes stay readable), or a configuration change while mail waits."),
  dns: dnsChangeSchema.optional().describe("DNS records republished (e.g. tlsa: auto after a rollover); what is not named keeps its value."),
  wire: z.enum(wireModes).optional().describe("What the wire does from the next connection on."),
  resolver: z.enum(resolverActions, { error: "down or up" }).optional().describe("The providers' resolver stops answering (down) or answers again (up)."),
}).refine((written) => EVENT_CHANGES.some((key) => written[key] !== undefined), "name what changes: sender, receiver, dns, wire or resolver");

const eventsSchema = z
  .array(eventSchema)
  .min(1, "list at least one event, or leave events out")
  .transform((written): ScenarioEvent[] => {
    let previous = 0;
    return written.map((entry) => {
      const after = entry.after ?? previous + 1;
      previous = after;
      return { ...entry, after };
    });
  })
  .describe(
    "What changes in the world between delivery attempts, in time order: each event is applied after the attempt its `after` names (0 = before Alice submits), then the harness asks the sender to retry and follows the message to its end, showing every attempt.",
  );

const wireExpectationSchema = strictObject({
  plaintextBody: z
    .boolean()
    .optional()
    .describe(
      "Did the message body cross the port-25 hop readable by anyone listening? For a delivered message it defaults to the transport: tls → false, plaintext → true.",
    ),
  attackerReadBody: z.boolean().optional().describe("mitm: did the wire decrypt the session and read the body?"),
  injectionDiscarded: z
    .boolean()
    .optional()
    .describe("inject: did the receiver throw away the command the wire pipelined after STARTTLS (CVE-2011-0411)?"),
}).describe("What the wire on the port-25 hop must have seen.");

const requireTlsExpectationSchema = strictObject({
  requested: z.boolean().optional().describe("Did the message the sender relayed carry REQUIRETLS (its status line's tls= field names requiretls)?"),
  receiverAnnounced: z
    .boolean()
    .optional()
    .describe("Did the receiver announce REQUIRETLS after STARTTLS, as the sending Postfix 3.11 reports it in its tls= field?"),
  tlsField: z
    .string()
    .regex(/^\S+$/, "the tls= field is one word, e.g. dane/requiretls")
    .optional()
    .describe('The tls= field of the sender\'s status line, exactly as Postfix 3.11 logs it: "dane/requiretls", "dane/!requiretls:none", "may?/!requiretls:nocertmatch"…'),
}).describe("REQUIRETLS (RFC 8689) as the sending Postfix 3.11 handled it.");
const tlsrptExpectationSchema = strictObject({
  policy: z.enum(tlsrptPolicyTypes).describe("The RFC 8460 policy-type the sender reported: sts (MTA-STS), tlsa (DANE) or no-policy-found."),
  result: z.enum(tlsrptResults).describe("success, or failure of the TLS policy."),
  failure: z
    .enum(TLSRPT_FAILURE_TYPES as [string, ...string[]])
    .optional()
    .describe("The RFC 8460 result-type of a failure, e.g. starttls-not-supported, certificate-host-mismatch, certificate-not-trusted, validation-failure, tlsa-invalid."),
})
  .refine((tlsrpt) => tlsrpt.failure === undefined || tlsrpt.result === "failure", { path: ["failure"], message: "only a failure has a result-type (result is success)" })
  .describe(
    "TLSRPT (RFC 8460): what Alice's provider (Postfix 3.10 or later) reported for the recipient's domain, which must publish _smtp._tls (dns.tlsrpt: true). Every event for that domain must match, and there must be one.",
  );

export const attemptStatuses = allOf<AttemptStatus>()(["sent", "deferred", "bounced"]);

const attemptExpectationSchema = strictObject({
  status: z.enum(attemptStatuses).describe("What the sender's status line of this attempt says: sent (to the next server), deferred or bounced."),
  reason: textMatcherSchema.optional().describe("Text found in what Postfix said about this attempt; /…/flags is a regular expression."),
});

const expectationFields = strictObject({
  outcome: z.enum(outcomes).describe("What happens to the message."),
  transport: z
    .enum(transports)
    .optional()
    .describe("Required when delivered: did the relay hop use TLS or plaintext?"),
  tls: tlsExpectationSchema.optional(),
  reason: textMatcherSchema
    .optional()
    .describe("Text found in the deferral, bounce or refusal reason; /…/flags is a regular expression."),
  wire: wireExpectationSchema.optional(),
  headers: z
    .record(headerName, textMatcherSchema)
    .superRefine(rejectRepeatedHeaderNames)
    .optional()
    .describe(
      "Header fields the copy Bob's provider stored must carry (for a bounce: the returned message's headers), name (any case) → text found in the value; /…/flags is a regular expression.",
    ),
  requireTls: requireTlsExpectationSchema.optional(),
  tlsrpt: tlsrptExpectationSchema.optional(),
  attempts: z
    .array(attemptExpectationSchema)
    .min(1, "list at least one attempt")
    .max(MAX_ATTEMPTS, `at most ${MAX_ATTEMPTS}`)
    .optional()
    .describe("Every delivery attempt of Alice's provider, in order, exactly these many: what each status line said. With events, each attempt after a change shows what the change did."),
});
type ExpectationFields = z.output<typeof expectationFields>;

function rejectContradictions(fields: ExpectationFields, ctx: z.RefinementCtx): void {
  const complain = (key: keyof ExpectationFields, message: string) =>
    ctx.addIssue({ code: "custom", path: [key], message });
  if (fields.outcome === "delivered") {
    if (fields.transport === undefined) complain("transport", "required when the outcome is delivered: tls or plaintext");
    if (fields.transport === "plaintext" && fields.tls) complain("tls", "contradicts transport: plaintext (no TLS session to check)");
    if (fields.reason) complain("reason", "a delivered message has no reason; reason is for deferred, bounced or rejected");
  } else {
    const only = `only a delivered message has one (outcome is ${fields.outcome})`;
    if (fields.transport) complain("transport", only);
    if (fields.tls) complain("tls", only);
    if (fields.headers && fields.outcome !== "bounced") {
      complain("headers", `no copy of the message is stored to read headers from (outcome is ${fields.outcome}); headers is for delivered or bounced`);
    }
  }
}

function toExpectation({ outcome, transport, tls, reason, wire, headers, requireTls, tlsrpt, attempts }: ExpectationFields): Expectation {
  const standards = { ...(headers && { headers }), ...(requireTls && { requireTls }), ...(tlsrpt && { tlsrpt }), ...(attempts && { attempts }) };
  if (outcome === "delivered") return { outcome, transport: transport ?? "tls", ...(tls && { tls }), ...(wire && { wire }), ...standards };
  return { outcome, ...(reason && { reason }), ...(wire && { wire }), ...standards };
}

const whenOutcome = (outcome: Outcome) => ({ properties: { outcome: { const: outcome } }, required: ["outcome"] });
const hasAny = (...keys: string[]) => ({ anyOf: keys.map((key) => ({ required: [key] })) });

export const expectationSchema = expectationFields
  .superRefine(rejectContradictions)
  .meta({
    id: "Expectation",
    description: "What the scenario expects to happen.",
    // The same rules as rejectContradictions, for editors.
    allOf: [
      { if: whenOutcome("delivered"), then: { required: ["transport"], not: hasAny("reason") }, else: { not: hasAny("transport", "tls") } },
      { if: { properties: { transport: { const: "plaintext" } }, required: ["transport"] }, then: { not: hasAny("tls") } },
      { if: { properties: { outcome: { enum: ["deferred", "rejected"] } }, required: ["outcome"] }, then: { not: hasAny("headers") } },
    ],
  })
  .transform(toExpectation);

const axisValue = z.union([z.string(), z.number(), z.boolean()], {
  error: "expected a text, a number or a boolean",
});
export type AxisValue = z.output<typeof axisValue>;

export const settablePathPattern =
  /^(?:(?:sender|receiver)\.postconf\.[a-z][a-z0-9_]*|(?:sender|receiver)\.(?:certificate(?:Key)?|postfix|level|mta)|wire|dns\.(?:zone|tlsa|mtaSts\.mode)|message\.via\.(?:provider|port|auth))$/;

const axisSchema = strictObject({
  set: z
    .string()
    .regex(
      settablePathPattern,
      "cannot be set by a matrix; use sender.mta, receiver.mta, sender.level, receiver.level, sender.postconf.<param>, receiver.postconf.<param>, sender.postfix, receiver.postfix, sender.certificate, receiver.certificate, sender.certificateKey, receiver.certificateKey, wire, dns.zone, dns.tlsa, dns.mtaSts.mode or message.via.provider|port|auth",
    )
    .describe("The field of this document the axis sets, e.g. sender.postconf.smtp_tls_security_level."),
  values: z.array(axisValue).min(1, "an axis needs at least one value").describe("The values the axis takes, in order."),
});

const cellSchema = strictObject({
  when: z
    .record(z.string(), z.union([axisValue, z.array(axisValue).min(1, "list at least one value")]))
    .describe("For every axis: the value, or a list of values, this cell covers."),
  expect: expectationSchema,
});

export const matrixSchema = strictObject({
  axes: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "an axis name is a word (letters, digits, _ and -)"), axisSchema)
    .refine((axes) => Object.keys(axes).length > 0, "a matrix needs at least one axis")
    .describe("Named axes, in the order they appear in scenario names."),
  cells: z
    .array(cellSchema)
    .min(1, "a matrix needs at least one cell")
    .describe("Expectations; every combination of axis values must be covered by exactly one cell."),
}).describe("One scenario per combination of axis values, each with the expectation of the cell that covers it.");
export type MatrixSpec = z.output<typeof matrixSchema>;

function checkEvents(
  document: { attempts?: number | undefined; events?: ScenarioEvent[] | undefined; expect?: Expectation | undefined },
  ctx: z.RefinementCtx,
): void {
  const attempts = document.attempts ?? attemptsForEvents(document.events ?? []);
  const listed = document.expect?.attempts?.length;
  if (listed !== undefined && attempts === 1 && !document.events) {
    ctx.addIssue({ code: "custom", path: ["expect", "attempts"], message: "the scenario follows one attempt: set attempts to 2 or more, or add events, to judge attempts" });
  } else if (listed !== undefined && listed > attempts) {
    ctx.addIssue({ code: "custom", path: ["expect", "attempts"], message: `lists ${listed} attempts, but the scenario follows at most ${attempts} (attempts: ${attempts})` });
  }
  if (!document.events) return;
  for (const problem of eventListProblems(document.events, attempts)) {
    ctx.addIssue({ code: "custom", path: ["events", problem.index, problem.key], message: problem.message });
  }
}

function requireExpectOrMatrix(document: unknown, ctx: z.RefinementCtx): void {
  if (typeof document !== "object" || document === null || Array.isArray(document)) return;
  const has = (key: string) => key in document && (document as Record<string, unknown>)[key] !== undefined;
  if (has("expect") && has("matrix")) {
    ctx.addIssue({ code: "custom", path: ["matrix"], message: "a scenario has either expect or matrix, not both" });
  } else if (!has("expect") && !has("matrix")) {
    ctx.addIssue({ code: "custom", path: ["expect"], message: "required (or a matrix of expectations)" });
  }
}

export const scenarioDocumentSchema = strictObject({
  name: z.string().regex(/\S/, "must not be empty").describe("Unique name of the scenario."),
  story: z.string().optional().describe("Why this scenario exists, for the reader."),
  sender: providerSchema("sender", "Alice's provider", "smtp.infomaniak.test"),
  receiver: providerSchema("receiver", "Bob's provider", "mx.iroco.test"),
  wire: z.enum(wireModes).default("pass").describe("What the wire between the providers does with the port-25 hop."),
  dns: dnsSchema,
  attempts: z
    .int()
    .min(1, "at least 1")
    .max(MAX_ATTEMPTS, `at most ${MAX_ATTEMPTS}`)
    .optional()
    .describe(
      "Delivery attempts the harness follows: 1 (the default without events) judges the first attempt; 2 or more also follows the retries after a deferral (the harness then shortens the sender's retry timers to 1 s). With events, the default is one more than the last event's `after`.",
    ),
  events: eventsSchema.optional(),
  message: messageSchema,
  expect: expectationSchema.optional(),
  matrix: matrixSchema.optional(),
})
  .superRefine(requireExpectOrMatrix, { when: () => true })
  .superRefine(checkEvents)
  .meta({
    title: "starttls-lab scenario",
    description:
      "One STARTTLS scenario of the starttls-lab test world: how both Postfix providers are configured and what must happen to Alice's message to Bob. Either expect or matrix.",
    oneOf: [{ required: ["expect"] }, { required: ["matrix"] }],
  });
export type ScenarioDocument = z.output<typeof scenarioDocumentSchema>;

/**
 * `starttls-lab explain`: one scenario's run told as a lesson on STARTTLS —
 * what each side was set to, the real dialogue on the port-25 hop (from the
 * wire's recording), which certificate was presented and how the sender
 * judged it, what an eavesdropper could read, the servers' own log lines,
 * and why that is the outcome. Everything printed comes from the result.
 */
import {
  clientHellos,
  eavesdropperSection,
  keepTogether,
  paragraph,
  printable,
  wireSection,
} from "./explainWire.js";
import { judgeSummary } from "../judge/summary.js";
import type { DnsEvent } from "../observe/dnsLog.js";
import { postfixEvents, type Evidence } from "../observe/evidence.js";
import type { PeerCertificateEvent, PostfixEvent, SmtpdTlsEvent, TlsEstablishedEvent } from "../observe/postfixLog.js";
import type { Observation } from "../observe/types.js";
import { configurationLines, describeExpectation, describeObservation, describeWorldSoftware } from "./describe.js";
import { expectedStandards, observedStandards } from "./standards.js";
import { expectedAttempts, observedAttempts } from "./attempts.js";
import { describeEvent } from "../scenario/events.js";
import type { NativeConfiguration, ScenarioResult } from "../core/result.js";
import type { ProviderSettings, Scenario, Trust } from "../scenario/types.js";

/** What each trust level means, in two parts: the first is never split from the level's name. */
const TRUST_MEANING: Record<Trust, { head: string; rest: string }> = {
  verified: {
    head: "the certificate chains to a trusted CA",
    rest: "AND its name matches what the sender looked for (with DANE: its key matches the validated TLSA record instead)",
  },
  trusted: {
    head: "the certificate chains to a trusted CA,",
    rest: "but its name was not checked at this security level",
  },
  untrusted: {
    head: "the certificate does not chain to a CA the sender trusts",
    rest: "(the session is encrypted, not authenticated)",
  },
  anonymous: { head: "no certificate was presented", rest: "(anonymous cipher)" },
};

const trustMeaning = (trust: Trust): string => `${TRUST_MEANING[trust].head} ${TRUST_MEANING[trust].rest}`;
const capitalized = (word: string): string => (word ? `${word[0]!.toUpperCase()}${word.slice(1)}` : word);

interface Section {
  title: string;
  lines: string[];
}

// ------------------------------------------------------------------ 1, 2: setup and submission

function settingsText(title: string, settings: ProviderSettings, native: readonly string[] | undefined): string {
  const own = settings.own;
  const ownLines = [
    ...(own?.mainCf ? [`    your main.cf: ${own.mainCf.file} (${own.mainCf.settings.length} settings)`] : []),
    ...(own?.masterCf ? [`    your master.cf entries: ${own.masterCf.file}`] : []),
    ...(own?.files ?? []).map((file) => `    your file ${file.file} as ${file.target}`),
    ...(own?.overrides ?? []).map((note) => `    note: ${note}`),
  ];
  const lines = [...ownLines, ...configurationLines(settings, native).map((line) => `    ${line}`)];
  if (lines.length === 0) lines.push("    (the world's defaults)");
  return `  ${title}, certificate ${settings.certificate} (${settings.certificateKey}):\n${lines.join("\n")}`;
}

function setupSection(scenario: Scenario, native: NativeConfiguration | undefined): Section {
  return {
    title: "The world was set up like this:",
    lines: [
      settingsText("Alice's provider (sender)", scenario.sender, native?.sender),
      settingsText("Bob's provider (receiver)", scenario.receiver, native?.receiver),
    ],
  };
}

function submissionSection(scenario: Scenario): Section {
  const { from, to, via } = scenario.message;
  const text =
    `Alice's client submitted ${from} → ${to} to the ${via.provider} on port ${via.port}` +
    (via.port === 465 ? " (implicit TLS)" : " (plain SMTP, STARTTLS if offered)") +
    (via.auth ? ", logged in as Alice." : ", without logging in.");
  return { title: paragraph("", text, "   ").join("\n"), lines: [] };
}

// ------------------------------------------------------------------ 3: the wire

function wireDialogueSection(result: ScenarioResult): Section {
  const title = "On the wire between the providers (port 25):";
  const observation = result.observation;
  if (!observation) return { title, lines: [`  (nothing observed: ${result.error ?? "no observation"})`] };
  if (observation.wire) return { title, lines: wireSection(observation.wire) };
  const why =
    observation.outcome === "rejected"
      ? "Nothing crossed the port-25 hop: the message was refused at submission, so it never went on towards Bob's provider."
      : "This result holds no recording of the port-25 hop, so the dialogue between the providers cannot be shown.";
  return { title, lines: paragraph("  ", why) };
}

// ------------------------------------------------------------------ 4: the certificate

/** "CD:20:B0:2D:FC:70:8A:13…": enough to compare by eye; the log section has it whole. */
function shortFingerprint(fingerprint: string): string {
  const parts = fingerprint.split(":");
  return parts.length > 8 ? `${parts.slice(0, 8).join(":")}…` : fingerprint;
}

function sniLines(observation: Observation): string[] {
  const hellos = observation.wire ? clientHellos(observation.wire) : [];
  if (hellos.length === 0) return [];
  const names = [...new Set(hellos.flatMap((hello) => (hello.sni !== undefined ? [hello.sni] : [])))];
  const lines: string[] = [];
  if (names.length > 0) {
    lines.push(`In its ClientHello, Alice's provider asked for the name ${names.join(", ")} (SNI).`);
  }
  if (hellos.some((hello) => hello.sni === undefined)) {
    lines.push("In its ClientHello, Alice's provider named no server (no SNI): Bob's provider could only present its default certificate.");
  }
  return lines;
}

function presentedLine(cert: PeerCertificateEvent): string {
  return (
    `Bob's provider presented a certificate for ${cert.subjectCN}, issued by ${cert.issuerCN} ` +
    `(fingerprint ${shortFingerprint(cert.fingerprint)}).`
  );
}

function judgedLine(session: TlsEstablishedEvent): string {
  return (
    `Alice's provider judged it ${capitalized(session.trust)}: ${trustMeaning(session.trust)}. ` +
    `The session: ${session.version} with cipher ${session.cipher}${session.keyExchange !== undefined ? `, key exchange ${session.keyExchange}` : ""}, to ${session.peerHost}.`
  );
}

function receiverSideLine(session: SmtpdTlsEvent): string {
  const own =
    session.trust === "anonymous" ? ": Alice's provider showed no certificate of its own, as mail servers usually don't" : "";
  return `Bob's provider, for its part, logged an ${capitalized(session.trust)} TLS session from ${session.client}${own}.`;
}

function certificateSection(scenario: Scenario, observation: Observation): Section | undefined {
  const events = postfixEvents(observation.evidence);
  const certificates = events.filter((e): e is PeerCertificateEvent => e.kind === "peerCertificate");
  const sessions = events.filter((e): e is TlsEstablishedEvent => e.kind === "tlsEstablished");
  const receiverSide = events.filter((e): e is SmtpdTlsEvent => e.kind === "smtpdTls");
  const sni = sniLines(observation);
  const hops = observation.wire?.hops.length ?? 0;
  if (certificates.length === 0 && sessions.length === 0 && receiverSide.length === 0 && sni.length === 0 && hops === 0) {
    return undefined;
  }
  const title = "The certificate Bob's provider presented, and how Alice's provider judged it:";
  const receiver = scenario.receiver;
  const texts = [`The scenario gave Bob's provider the "${receiver.certificate}" certificate (${receiver.certificateKey} key).`];
  if (certificates.length === 0 && sessions.length === 0 && sni.length === 0) {
    texts.push("No TLS handshake took place on the hop: no certificate was presented, so Alice's provider had nothing to judge.");
  } else {
    texts.push(...sni, ...certificates.map(presentedLine));
    if (certificates.length === 0 && sessions.some((s) => s.trust !== "anonymous")) {
      texts.push("(The log shows no peercert line: the certificate's names are not known here.)");
    }
    texts.push(...sessions.map(judgedLine));
    if (sessions.length === 0) {
      const said = observation.reason ? ` Postfix's reason: ${observation.reason}` : "";
      texts.push(`No TLS session was established: the logs show no judgement of a certificate.${said}`);
    }
    texts.push(...receiverSide.map(receiverSideLine));
  }
  return { title, lines: texts.flatMap((text) => paragraph("  ", printable(text))) };
}

// ------------------------------------------------------------------ 5: the eavesdropper

function eavesdropper(observation: Observation): Section | undefined {
  const wire = observation.wire;
  if (!wire || wire.hops.length === 0) return undefined;
  return { title: "What an eavesdropper could read:", lines: eavesdropperSection(wire) };
}

// ------------------------------------------------------------------ 6: the logs

/** A learner's gloss on what the dns container logged (observe/dnsLog.ts). */
function dnsGloss(event: DnsEvent): string | undefined {
  switch (event.kind) {
    case "answer":
      if (event.type === "MX" && event.rcode === "NOERROR") {
        return "where does mail for this domain go? The MX record names the host (DNSSEC-validated when the zone is signed)";
      }
      if (event.type === "TLSA" && event.rcode === "NOERROR") return "DANE: the record says which key the MX host must present";
      if (event.type === "TLSA" && event.rcode === "NXDOMAIN") return "DANE: no TLSA record for this host";
      if (event.rcode === "SERVFAIL") return "the validating resolver refused to answer: the zone's signatures do not check out (bogus)";
      if (event.name.startsWith("_mta-sts.")) return "MTA-STS: does this domain publish a policy?";
      return undefined;
    case "validationFailure":
      return "DNSSEC validation failed in the resolver";
    case "policyFetch":
      return "MTA-STS: the policy, fetched over HTTPS from a server whose certificate the resolver checked";
  }
}

/** A learner's gloss on one line of evidence, or undefined when the line speaks for itself. */
function gloss(item: Evidence): string | undefined {
  switch (item.source) {
    case "sender-log":
    case "receiver-log":
      return item.event ? postfixGloss(item.event) : undefined;
    case "dns-log":
      return dnsGloss(item.event);
    case "mailbox":
      return "the mailbox, read over IMAPS like a person would";
    case "queue":
      return "postqueue -j: the message is still held in the queue, to be retried";
    case "submission":
      return "the server answered the client with an error: nothing was queued";
    case "wire":
    case "harness":
      return undefined;
  }
}

function postfixGloss(event: PostfixEvent): string | undefined {
  // smtpd's own TLS line is glossed only when it is anonymous (what it means then is certain).
  if (event.kind === "smtpdTls" && event.trust !== "anonymous") return undefined;
  switch (event.kind) {
    case "tlsEstablished": {
      const head = keepTogether(
        `STARTTLS taken: ${event.version} with ${event.cipher}. ${capitalized(event.trust)} = ${TRUST_MEANING[event.trust].head}`,
      );
      return `${head} ${TRUST_MEANING[event.trust].rest}. From here on the hop is encrypted.`;
    }
    case "smtpdTls":
      return `the receiver's side of the same kind of session: ${capitalized(event.trust)} means the client showed no certificate`;
    case "peerCertificate":
      return `the receiver presented a certificate for ${event.subjectCN}, issued by ${event.issuerCN}`;
    case "delivery":
      if (event.status === "sent" && event.service === "lmtp") return "stored in the mailbox by Dovecot (LMTP)";
      if (event.status === "sent") return "handed over to the next server, which queued it";
      if (event.status === "deferred") return "a temporary failure: Postfix keeps the message and will retry (4xx)";
      return "a permanent failure: Postfix gives up and tells the sender (5xx)";
    case "nonDeliveryNotice":
      return "Postfix writes a non-delivery report back to the sender";
    case "messageId":
      return "the message entered this provider's queue";
    case "sessionAbandoned":
      return "this session was given up (e.g. the TLS handshake failed)";
    default:
      return undefined;
  }
}

function logSection(result: ScenarioResult): Section {
  const title = "What the servers logged, in order:";
  const observation = result.observation;
  if (!observation) return { title, lines: [`  (nothing observed: ${result.error ?? "no observation"})`] };
  const lines: string[] = [];
  for (const item of observation.evidence) {
    lines.push(`  ${printable(item.line)}`);
    const note = gloss(item);
    // The arrow is glued to the note's first words: it must not stand alone on its line.
    if (note) lines.push(...paragraph("      ", `↳\u00a0${note}`));
  }
  if (observation.outcome === "delivered" && observation.transport === "plaintext") {
    lines.push(...paragraph("      ", "↳ no TLS session on the hop: anyone on the wire between the providers could read this message"));
  }
  return { title, lines };
}

// ------------------------------------------------------------------ the TLS standards the message met

/** Only when the scenario expected something of them or the world showed any: most scenarios have none. */
function standardsSection(result: ScenarioResult): Section | undefined {
  const { scenario, observation } = result;
  const expected = expectedStandards(scenario.expect);
  const observed = observation ? observedStandards(observation) : [];
  if (expected.length === 0 && observed.length === 0) return undefined;
  const lines = [
    ...expected.map((phrase) => `  expected: ${phrase}`),
    ...(observed.length > 0 ? observed.map((line) => `  observed: ${line}`) : ["  observed: none of them"]),
  ];
  return { title: "What the TLS standards showed (TLS-Required, TLSRPT, REQUIRETLS):", lines };
}

// ------------------------------------------------------------------ the attempts, and what changed between them

/** Only for a scenario that followed more than one attempt, or changed the world between them. */
function attemptsSection(result: ScenarioResult): Section | undefined {
  const { scenario, observation } = result;
  const expected = expectedAttempts(scenario.expect);
  const observed = observation ? observedAttempts(observation) : [];
  const planned = (scenario.events ?? []).flatMap((event) => describeEvent(event).map((words) => `  planned ${event.after === 0 ? "before Alice submits" : `after attempt ${event.after}`}: ${words}`));
  if (expected.length === 0 && observed.length === 0 && planned.length === 0) return undefined;
  const lines = [...planned, ...expected.map((phrase) => `  expected: ${phrase}`), ...observed.map((line) => `  ${line}`)];
  return { title: "Attempt by attempt (what the sender said each time, and what changed in between):", lines };
}

// ------------------------------------------------------------------ the verdict

function verdictSection(result: ScenarioResult): Section {
  const { scenario, observation } = result;
  return {
    title: "Verdict:",
    lines: [
      `  expected: ${describeExpectation(scenario.expect)}`,
      `  observed: ${observation ? describeObservation(observation) : "nothing"}`,
      `  ${judgeSummary(result)}`,
    ],
  };
}

// ------------------------------------------------------------------ the whole

function header({ scenario, world }: ScenarioResult): string[] {
  const lines = [`Scenario: ${scenario.name}`, `  (${scenario.source.file}:${scenario.source.line})`];
  if (world) lines.push(`  ran on: ${describeWorldSoftware(world)}`);
  if (scenario.story) lines.push("", ...scenario.story.trim().split("\n").map((line) => `  ${line}`));
  return lines;
}

export function explainResult(result: ScenarioResult): string {
  const { scenario, observation } = result;
  const sections: Section[] = [setupSection(scenario, result.native), submissionSection(scenario), wireDialogueSection(result)];
  if (observation) {
    const certificate = certificateSection(scenario, observation);
    if (certificate) sections.push(certificate);
    const seen = eavesdropper(observation);
    if (seen) sections.push(seen);
  }
  sections.push(logSection(result));
  const attempts = attemptsSection(result);
  if (attempts) sections.push(attempts);
  const standards = standardsSection(result);
  if (standards) sections.push(standards);
  sections.push(verdictSection(result));
  const out = header(result);
  sections.forEach((section, index) => {
    out.push("", `${index + 1}. ${section.title}`, ...section.lines);
  });
  return out.join("\n") + "\n";
}

/**
 * `starttls-lab explain`: one scenario's run told as a short lesson — what
 * each side was set to, what happened on the hop (from the real log lines),
 * and why that is the outcome.
 */
import { judgeSummary } from "./judge/summary.js";
import { parseLogLine, type PostfixEvent } from "./observe/postfixLog.js";
import { describeExpectation, describeObservation } from "./report/describe.js";
import type { ScenarioResult } from "./report/types.js";
import type { ProviderSettings } from "./scenario/types.js";

const TRUST_MEANING: Record<string, string> = {
  verified: "the certificate chains to a trusted CA AND its name matches what the sender looked for",
  trusted: "the certificate chains to a trusted CA, but its name was not checked at this security level",
  untrusted: "the certificate does not chain to a CA the sender trusts (the session is encrypted, not authenticated)",
  anonymous: "no certificate was presented (anonymous cipher)",
};

function settingsText(title: string, settings: ProviderSettings): string {
  const own = settings.own;
  const ownLines = [
    ...(own?.mainCf ? [`    your main.cf: ${own.mainCf.file} (${own.mainCf.settings.length} settings)`] : []),
    ...(own?.masterCf ? [`    your master.cf entries: ${own.masterCf.file}`] : []),
    ...(own?.files ?? []).map((file) => `    your file ${file.file} as ${file.target}`),
    ...(own?.overrides ?? []).map((note) => `    note: ${note}`),
  ];
  const entries = Object.entries(settings.postconf);
  const lines = [...ownLines, ...entries.map(([name, value]) => `    ${name} = ${value}`)];
  if (lines.length === 0) lines.push("    (the world's defaults)");
  return `  ${title}, certificate ${settings.certificate} (${settings.certificateKey}):\n${lines.join("\n")}`;
}

/** A learner's gloss on one log line, or undefined when the line speaks for itself. */
function gloss(event: PostfixEvent | null, raw: string): string | undefined {
  if (!event) {
    if (raw.includes("inbox")) return "the mailbox, read over IMAPS like a person would";
    if (raw.includes(" queue: ")) return "postqueue -j: the message is still held in the queue, to be retried";
    if (raw.includes("refused")) return "the server answered the client with an error: nothing was queued";
    return undefined;
  }
  switch (event.kind) {
    case "tlsEstablished":
      return `STARTTLS taken: ${event.version} with ${event.cipher}. ${event.trust[0]!.toUpperCase()}${event.trust.slice(1)} = ${TRUST_MEANING[event.trust]}. From here on the hop is encrypted.`;
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

export function explainResult(result: ScenarioResult): string {
  const { scenario, observation } = result;
  const out: string[] = [];
  out.push(`Scenario: ${scenario.name}`, `  (${scenario.source.file}:${scenario.source.line})`);
  if (scenario.story) out.push("", ...scenario.story.trim().split("\n").map((line) => `  ${line}`));
  out.push("", "1. The world was set up like this:", settingsText("Alice's provider (sender)", scenario.sender), settingsText("Bob's provider (receiver)", scenario.receiver));
  const via = scenario.message.via;
  out.push(
    "",
    `2. Alice's client submitted ${scenario.message.from} → ${scenario.message.to} to the ${via.provider} on port ${via.port}` +
      (via.port === 465 ? " (implicit TLS)" : " (plain SMTP, STARTTLS if offered)") +
      (via.auth ? ", logged in as Alice." : ", without logging in."),
  );
  out.push("", "3. What the servers logged, in order:");
  if (!observation) out.push(`  (nothing observed: ${result.error ?? "no observation"})`);
  for (const line of observation?.evidence ?? []) {
    out.push(`  ${line}`);
    const note = gloss(parseLogLine(line), line);
    if (note) out.push(`      ↳ ${note}`);
  }
  if (observation && observation.outcome === "delivered" && observation.transport === "plaintext") {
    out.push("      ↳ no TLS session on the hop: anyone on the wire between the providers could read this message");
  }
  out.push("", "4. Verdict:", `  expected: ${describeExpectation(scenario.expect)}`, `  observed: ${observation ? describeObservation(observation) : "nothing"}`);
  out.push(`  ${judgeSummary(result)}`);
  return out.join("\n") + "\n";
}

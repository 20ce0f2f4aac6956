import { attemptsForEvents } from "./events.js";
import type { ScenarioDocument } from "./schema.js";
import { postconfWithLevel } from "./levels.js";
import type { Expectation, ProviderSettings, Role, Scenario, ScenarioSource } from "./types.js";

type ProviderDocument = ScenarioDocument["sender"];

function toProvider(role: Role, document: ProviderDocument): ProviderSettings {
  const { mta, exim, opensmtpd, level, postfix, postconf, certificate, certificateKey, mainCf, masterCf, files } = document;
  const hasOwn = mainCf !== undefined || masterCf !== undefined || files !== undefined;
  const isPostfix = mta === undefined || mta === "postfix";
  return {
    ...(mta && { mta }),
    ...(exim && { exim }),
    ...(opensmtpd && { opensmtpd }),
    ...(level && { level }),
    ...(postfix && { postfix }),
    // On Postfix a level is its native setting, so it lives in postconf; another MTA applies it in its own terms.
    postconf: isPostfix ? postconfWithLevel(role, level, postconf) : postconf,
    certificate,
    certificateKey,
    ...(hasOwn && { ownPaths: { ...(mainCf && { mainCf }), ...(masterCf && { masterCf }), ...(files && { files }) } }),
  };
}

/** The contract's Scenario from a validated document that carries its expectation. */
export function toScenario(document: ScenarioDocument, expect: Expectation, source: ScenarioSource): Scenario {
  const { name, story, sender, receiver, wire, dns, attempts, events, message } = document;
  return {
    name,
    ...(story !== undefined && { story }),
    source,
    sender: toProvider("sender", sender),
    receiver: toProvider("receiver", receiver),
    wire,
    dns: { zone: dns.zone, tlsa: dns.tlsa, mtaSts: { mode: dns.mtaSts.mode, ...(dns.mtaSts.mx && { mx: dns.mtaSts.mx }) }, tlsrpt: dns.tlsrpt },
    attempts: attempts ?? attemptsForEvents(events ?? []),
    ...(events && { events }),
    message: {
      from: message.from,
      to: message.to,
      subject: message.subject ?? `starttls-lab: ${name}`,
      via: message.via,
      ...(message.headers && { headers: message.headers }),
      ...(message.requireTls !== undefined && { requireTls: message.requireTls }),
    },
    expect,
  };
}

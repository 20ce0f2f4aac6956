import { attemptsForEvents } from "./events.js";
import type { ScenarioDocument } from "./schema.js";
import type { Expectation, ProviderSettings, Scenario, ScenarioSource } from "./types.js";

type ProviderDocument = ScenarioDocument["sender"];

function toProvider({ postfix, postconf, certificate, certificateKey, mainCf, masterCf, files }: ProviderDocument): ProviderSettings {
  const hasOwn = mainCf !== undefined || masterCf !== undefined || files !== undefined;
  return {
    ...(postfix && { postfix }),
    postconf,
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
    sender: toProvider(sender),
    receiver: toProvider(receiver),
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

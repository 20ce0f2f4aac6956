/**
 * The DNS side of a scenario, from the dns container's log: what Alice's
 * provider asked the resolver and what it answered, DNSSEC validation
 * failures, and MTA-STS policy fetches. Pure: lines in, evidence out.
 */
import type { DnsEvidence } from "./evidence.js";

/** What the harness read from one line of the dns container's log. */
export type DnsEvent =
  | {
      kind: "answer";
      /** Alice's provider itself, or the MTA-STS resolver that runs beside the resolver on its behalf. */
      asker: "sender" | "mtaStsResolver";
      /** As unbound logs it, with the trailing dot: "iroco.test.". */
      name: string;
      /** "MX", "A", "TLSA", "TXT"… */
      type: string;
      /** "NOERROR", "NXDOMAIN", "SERVFAIL"… */
      rcode: string;
    }
  | { kind: "validationFailure"; message: string }
  | { kind: "policyFetch"; url: string; status: number };

/** unbound with log-replies: "[1795830040] unbound[1038:0] info: 172.20.0.3 iroco.test. MX IN NOERROR 0.000500 0 164". */
const REPLY = /unbound\[[\d:]+\] info: (\S+) (\S+) (\S+) IN ([A-Z]+) [\d.]+ \d+ \d+$/;
const VALIDATION = /unbound\[[\d:]+\] info: ((?:validation failure|failed to prime trust anchor).*)$/;
/** lab-dns-policy-server: "mta-sts-policy: 172.20.0.2 sni=… host=mta-sts.iroco.test "GET /.well-known/mta-sts.txt HTTP/1.1" 200 -". */
const POLICY_FETCH = /^mta-sts-policy: \S+ sni=\S* host=(\S+) "GET (\S+) [^"]*" (\d{3})/;

function readDnsLine(line: string, senderAddress: string): DnsEvent | undefined {
  const reply = REPLY.exec(line);
  if (reply) {
    const [, client, name, type, rcode] = reply;
    // Alice's provider's own lookups, and the MTA-STS resolver's (it runs beside the resolver).
    const fromSender = client === senderAddress;
    const fromMtaSts = client === "127.0.0.1" && name!.startsWith("_mta-sts.");
    if ((fromSender && !name!.endsWith(".in-addr.arpa.")) || fromMtaSts) {
      return { kind: "answer", asker: fromSender ? "sender" : "mtaStsResolver", name: name!, type: type!, rcode: rcode! };
    }
    return undefined;
  }
  const failure = VALIDATION.exec(line);
  if (failure) return { kind: "validationFailure", message: failure[1]! };
  const fetch = POLICY_FETCH.exec(line);
  if (fetch) return { kind: "policyFetch", url: `https://${fetch[1]}${fetch[2]}`, status: Number(fetch[3]) };
  return undefined;
}

function describeDnsEvent(event: DnsEvent): string {
  switch (event.kind) {
    case "answer":
      return `dns: ${event.asker === "sender" ? "Alice's provider" : "MTA-STS resolver"} asked ${event.name} ${event.type}: ${event.rcode}`;
    case "validationFailure":
      return `dns: ${event.message}`;
    case "policyFetch":
      return `dns: MTA-STS policy fetched from ${event.url}: HTTP ${event.status}`;
  }
}

export function dnsEvidence(lines: readonly string[], senderAddress: string): DnsEvidence[] {
  const evidence: DnsEvidence[] = [];
  const seen = new Set<string>();
  for (const raw of lines) {
    const event = readDnsLine(raw, senderAddress);
    if (!event) continue;
    const line = describeDnsEvent(event);
    // unbound repeats itself (a failed trust anchor is logged per query): one line of each is enough.
    if (seen.has(line)) continue;
    seen.add(line);
    evidence.push({ source: "dns-log", line, event });
  }
  return evidence;
}

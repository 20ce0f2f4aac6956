/**
 * The world's DNS, generated from the world's description: one zone per
 * mail domain with its MX, the A records of the containers, and for Bob's
 * provider's domains the TLSA and MTA-STS records a scenario asks for. Pure:
 * the dns container signs and serves what this returns (world/dns.ts).
 */
import type { DnsSettings, ZoneSigning } from "../scenario/types.js";
import { hostedDomains, PROVIDERS, type HostedDomain } from "./providers.js";

/** IPv4 addresses of the world's containers on its private network. */
export interface WorldAddresses {
  dns: string;
  sender: string;
  receiver: string;
  wire: string;
}

/** Hex SHA-256 digests the TLSA records are made of. */
export interface TlsaDigests {
  /** Per receiver domain: the SubjectPublicKeyInfo digest of the certificate its MX host presents (3 1 1). */
  presentedKey: Record<string, string>;
  /** A key no MX host presents: the one a forgotten TLSA record still names after a rollover. */
  otherKey: string;
  /** The harness CA certificate's digest (2 0 1). */
  caCertificate: string;
}

export interface Zone {
  name: string;
  signing: ZoneSigning;
  /** Master-file text without DNSSEC records; the dns container signs it. */
  text: string;
}

export interface DnsPlan {
  zones: Zone[];
  /** Receiver domain → the body of its MTA-STS policy (only for domains that publish one). */
  mtaStsPolicies: Record<string, string>;
}

/** Short TTLs: nothing a scenario publishes may outlive it in a cache. */
const TTL = 5;
const POLICY_MAX_AGE = 86_400;

function soaAndNs(zone: string, dnsAddress: string): string[] {
  return [
    `$ORIGIN ${zone}.`,
    `$TTL ${TTL}`,
    `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 60 60 600 ${TTL}`,
    `@ IN NS ns.${zone}.`,
    `ns IN A ${dnsAddress}`,
  ];
}

/** The relative owner name of a host inside its domain's zone ("mx" for mx.iroco.test). */
function ownerIn(host: string, zone: string): string {
  return host.endsWith(`.${zone}`) ? host.slice(0, -zone.length - 1) : `${host}.`;
}

function tlsaRecord(settings: DnsSettings, hosted: HostedDomain, digests: TlsaDigests): string | undefined {
  const owner = `_25._tcp.${ownerIn(hosted.smtpHost, hosted.domain)}`;
  switch (settings.tlsa) {
    case "none":
      return undefined;
    case "auto": {
      const digest = digests.presentedKey[hosted.domain];
      if (!digest) throw new Error(`no key digest for ${hosted.domain}'s MX host`);
      return `${owner} IN TLSA 3 1 1 ${digest}`;
    }
    case "wrong":
      return `${owner} IN TLSA 3 1 1 ${digests.otherKey}`;
    case "ca":
      return `${owner} IN TLSA 2 0 1 ${digests.caCertificate}`;
  }
}

/** RFC 8461 policy text. */
export function mtaStsPolicy(mode: "enforce" | "testing", mx: readonly string[]): string {
  return ["version: STSv1", `mode: ${mode}`, ...mx.map((pattern) => `mx: ${pattern}`), `max_age: ${POLICY_MAX_AGE}`, ""].join("\r\n");
}

/** RFC 8460 policy: where Bob's provider wants the daily reports (the address is never written to: reports stay in the harness). */
export function tlsrptRecord(domain: string): string {
  return `v=TLSRPTv1; rua=mailto:tlsrpt@${domain}`;
}

/** A policy id changes whenever the policy does, as RFC 8461 asks. */
function policyId(policy: string): string {
  let hash = 0;
  for (const char of policy) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `lab${hash.toString(16)}`;
}

function receiverZone(settings: DnsSettings, hosted: HostedDomain, addresses: WorldAddresses, digests: TlsaDigests, policy: string | undefined): Zone {
  const records = [
    ...soaAndNs(hosted.domain, addresses.dns),
    `@ IN MX 10 ${hosted.smtpHost}.`,
    // The MX host is the wire: every connection to Bob's provider crosses it.
    `${ownerIn(hosted.smtpHost, hosted.domain)} IN A ${addresses.wire}`,
    `${ownerIn(hosted.imapHost, hosted.domain)} IN A ${addresses.receiver}`,
  ];
  const tlsa = tlsaRecord(settings, hosted, digests);
  if (tlsa) records.push(tlsa);
  if (policy !== undefined) {
    records.push(`_mta-sts IN TXT "v=STSv1; id=${policyId(policy)}"`, `mta-sts IN A ${addresses.dns}`);
  }
  if (settings.tlsrpt) records.push(`_smtp._tls IN TXT "${tlsrptRecord(hosted.domain)}"`);
  return { name: hosted.domain, signing: settings.zone, text: records.join("\n") + "\n" };
}

function senderZone(addresses: WorldAddresses): Zone {
  const sender = PROVIDERS.sender;
  const records = [
    ...soaAndNs(sender.domain, addresses.dns),
    `@ IN MX 10 ${sender.smtpHost}.`,
    `${ownerIn(sender.smtpHost, sender.domain)} IN A ${addresses.sender}`,
    `${ownerIn(sender.imapHost, sender.domain)} IN A ${addresses.sender}`,
  ];
  // Alice's provider's zone is always signed: scenarios vary Bob's side.
  return { name: sender.domain, signing: "signed", text: records.join("\n") + "\n" };
}

export function dnsPlan(settings: DnsSettings, addresses: WorldAddresses, digests: TlsaDigests): DnsPlan {
  const mtaStsPolicies: Record<string, string> = {};
  const zones = [senderZone(addresses)];
  for (const hosted of hostedDomains(PROVIDERS.receiver)) {
    const mode = settings.mtaSts.mode;
    const policy = mode === "none" ? undefined : mtaStsPolicy(mode, settings.mtaSts.mx ?? [hosted.smtpHost]);
    if (policy !== undefined) mtaStsPolicies[hosted.domain] = policy;
    zones.push(receiverZone(settings, hosted, addresses, digests, policy));
  }
  return { zones, mtaStsPolicies };
}

/** Every name the MTA-STS policy server answers for (its certificate's names). */
export function mtaStsHosts(): string[] {
  return hostedDomains(PROVIDERS.receiver).map((hosted) => `mta-sts.${hosted.domain}`);
}

import type { DnsSettings } from "./types.js";

/** A well-kept provider: signed zones, TLSA records that match, no MTA-STS policy, no TLSRPT policy. */
export const DEFAULT_DNS_SETTINGS: Readonly<DnsSettings> = { zone: "signed", tlsa: "auto", mtaSts: { mode: "none" }, tlsrpt: false };

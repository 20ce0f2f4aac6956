/**
 * One comparable form for the name of a TLS key exchange, whoever wrote it:
 * Postfix 3.7 on OpenSSL 3.0 logs "X25519" or "ECDHE (P-256)", Postfix 3.10
 * on OpenSSL 3.5 logs "x25519" or "X25519MLKEM768", the wire reads IANA's
 * group names off the handshake ("secp256r1"), and a scenario may say
 * "prime256v1" or "P-256". All of those compare equal here.
 */

/** OpenSSL's and NIST's names for the curves IANA calls secpNNNr1. */
const CURVE_ALIASES: Record<string, string> = {
  "p-256": "secp256r1",
  prime256v1: "secp256r1",
  "p-384": "secp384r1",
  "p-521": "secp521r1",
};

/** "ECDHE (P-256)" and "DHE (2048 bits)": the kind, then its detail in parentheses. */
const KIND_AND_DETAIL = /^(ecdhe|dhe) \((.+)\)$/;
const DH_BITS = /^(\d+) bits$/;

/**
 * e.g. "X25519" → "x25519", "ECDHE (P-256)" → "secp256r1",
 * "X25519MLKEM768" → "x25519mlkem768". A "DHE (N bits)" summary becomes
 * "ffdheN": in TLS 1.3, the only finite-field groups are RFC 7919's.
 */
export function normalizeKeyExchange(name: string): string {
  let key = name.trim().toLowerCase();
  const parts = KIND_AND_DETAIL.exec(key);
  if (parts) {
    const detail = parts[2]!;
    const bits = DH_BITS.exec(detail);
    key = parts[1] === "dhe" && bits ? `ffdhe${bits[1]}` : detail;
  }
  return CURVE_ALIASES[key] ?? key;
}

export function sameKeyExchange(a: string, b: string): boolean {
  return normalizeKeyExchange(a) === normalizeKeyExchange(b);
}

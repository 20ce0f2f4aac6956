/**
 * One comparable form for the name of a TLS cipher suite, whoever wrote it,
 * so that two witnesses of one session can be compared:
 *
 *   OpenSSL (Postfix's log and Received header): "TLS_AES_256_GCM_SHA384",
 *     "ECDHE-RSA-AES256-GCM-SHA384"
 *   IANA (Exim's Received header, $tls_in_cipher_std): "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
 *   GnuTLS's session description (Exim's log, X=):
 *     "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM" (group, signature, cipher)
 *
 * A TLS 1.3 suite is its AEAD cipher and hash only ("AES_256_GCM_SHA384"):
 * the key exchange and signature are negotiated apart (keyExchange.ts).
 * Exim 4.98 on GnuTLS writes a TLS 1.3 session's standard name in TLS 1.2's
 * shape ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", measured against Postfix
 * logging TLS_AES_256_GCM_SHA384 for the same session), so under TLS 1.3
 * only the part after _WITH_ is compared. A TLS 1.2 suite is
 * ECDHE_{RSA|ECDSA}_WITH_{cipher}_{hash}. Names outside this table compare
 * only as written.
 */

/** The hash each AEAD cipher of these suites is paired with (RFC 8446 B.4, RFC 5289, RFC 7905). */
const AEAD_HASH: Readonly<Record<string, string>> = {
  AES_128_GCM: "SHA256",
  AES_256_GCM: "SHA384",
  CHACHA20_POLY1305: "SHA256",
  AES_128_CCM: "SHA256",
};

/** OpenSSL's cipher in its TLS 1.2 suite names: "AES256-GCM" → "AES_256_GCM". */
const OPENSSL_CIPHER: Readonly<Record<string, string>> = {
  "AES128-GCM": "AES_128_GCM",
  "AES256-GCM": "AES_256_GCM",
  "CHACHA20-POLY1305": "CHACHA20_POLY1305",
};

/** GnuTLS's "TLS1.3" as OpenSSL, Postfix and the Received header write it: "TLSv1.3". */
export function openSslVersion(version: string): string {
  return version.replace(/^TLS(?=\d)/, "TLSv");
}

function isTls13(version: string): boolean {
  return /^TLSv?1\.3$/.test(version);
}

/** GnuTLS's description as Exim logs it: key exchange, signature, AEAD cipher (a MAC after it for a CBC suite, not in this table). */
function fromGnutls(name: string, tls13: boolean): string | undefined {
  const parts = name.split("__");
  if (parts.length !== 3) return undefined;
  const [exchange, signature, cipher] = parts as [string, string, string];
  const hash = AEAD_HASH[cipher];
  if (hash === undefined) return undefined;
  if (tls13) return `${cipher}_${hash}`;
  const auth = /^(RSA|ECDSA)_/.exec(signature)?.[1];
  return exchange.startsWith("ECDHE_") && auth !== undefined ? `ECDHE_${auth}_WITH_${cipher}_${hash}` : undefined;
}

/** The comparable form of a suite name in a session of `version`, or undefined when the name is not in the table. */
export function canonicalSuite(version: string, name: string): string | undefined {
  const tls13 = isTls13(version);
  const gnutls = fromGnutls(name, tls13);
  if (gnutls !== undefined) return gnutls;
  if (tls13) {
    const suite = /^TLS_(?:\w+_WITH_)?([A-Z0-9_]+)_(SHA\d+)$/.exec(name);
    return suite && AEAD_HASH[suite[1]!] === suite[2] ? `${suite[1]}_${suite[2]}` : undefined;
  }
  const iana = /^TLS_(ECDHE_(?:RSA|ECDSA)_WITH_([A-Z0-9_]+)_(SHA\d+))$/.exec(name);
  if (iana) return AEAD_HASH[iana[2]!] === iana[3] ? iana[1] : undefined;
  const openssl = /^ECDHE-(RSA|ECDSA)-(AES128-GCM|AES256-GCM|CHACHA20-POLY1305)(?:-(SHA\d+))?$/.exec(name);
  if (!openssl) return undefined;
  const cipher = OPENSSL_CIPHER[openssl[2]!]!;
  const hash = AEAD_HASH[cipher]!;
  // OpenSSL names the hash of a GCM suite, and none for ChaCha20-Poly1305.
  if (openssl[3] !== undefined ? openssl[3] !== hash : cipher !== "CHACHA20_POLY1305") return undefined;
  return `ECDHE_${openssl[1]}_WITH_${cipher}_${hash}`;
}

/** Whether two witnesses name the same suite for a session of `version`. */
export function sameCipherSuite(version: string, a: string, b: string): boolean {
  if (a === b) return true;
  const canonical = canonicalSuite(version, a);
  return canonical !== undefined && canonical === canonicalSuite(version, b);
}

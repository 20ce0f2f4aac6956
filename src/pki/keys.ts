import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

export interface RsaKeyPair {
  /** PKCS#8 PEM: what gets written to disk; Postfix, Dovecot and Node all read it. */
  keyPem: string;
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

// node:crypto generates RSA keys natively; forge's pure-JS fallback can take
// seconds per key. forge only needs the result to build and sign certificates.
export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return {
    keyPem: privateKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(publicKey),
  };
}

/**
 * 16 random bytes as a positive DER INTEGER. The top bit is cleared so the
 * serial is not negative, and bit 6 is set so the first byte is never 0x00:
 * forge writes the bytes as given, and a leading zero byte would be a
 * non-minimal encoding that strict parsers reject.
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString("hex");
}

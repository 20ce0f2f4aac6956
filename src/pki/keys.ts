import { createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import type { KeyType } from "./types.js";

// Keys always come from node:crypto (forge's pure-JS RSA generation can take
// seconds per key) and are stored as PKCS#8 PEM, which Postfix, Dovecot,
// Node and both signing libraries read.

/** A PKCS#8 PEM private key ("BEGIN PRIVATE KEY"): RSA-2048 or P-256. */
export function generateKeyPem(keyType: KeyType): string {
  const publicKeyEncoding = { type: "spki", format: "pem" } as const;
  const privateKeyEncoding = { type: "pkcs8", format: "pem" } as const;
  return keyType === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 0x10001, publicKeyEncoding, privateKeyEncoding }).privateKey
    : generateKeyPairSync("ec", { namedCurve: "prime256v1", publicKeyEncoding, privateKeyEncoding }).privateKey;
}

export function keyTypeOf(keyPem: string): KeyType {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType === "rsa") return "rsa";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ecdsa";
  throw new Error(`pki: unsupported key type ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ""}`);
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

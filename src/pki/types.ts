/**
 * What the PKI hands out, in a module of its own (types only), so the world,
 * the runner and tests name credentials without loading any X.509 code.
 */
import type { CertificateVariant } from "./variantNames.js";

/** RSA-2048, or an ECDSA P-256 key. */
export type KeyType = "rsa" | "ecdsa";

/** One SHA-256 digest in the two spellings the world writes it. */
export interface Sha256Digest {
  /** Colon-separated uppercase hex, as Postfix prints and matches fingerprints (smtp_tls_fingerprint_digest = sha256). */
  postfix: string;
  /** Plain lowercase hex, as a TLSA record's data (matching type 1). */
  tlsa: string;
}

export interface ServerCredentials {
  /** DNS names in subjectAltName; names[0] is also the subject CN. */
  names: string[];
  /** Leaf certificate PEM followed by any chain certificates the server sends. */
  certPem: string;
  /** PKCS#8 private key PEM ("BEGIN PRIVATE KEY"): RSA, or P-256 for ECDSA variants. */
  keyPem: string;
  /** Absolute path of certPem on disk. */
  certFile: string;
  /** Absolute path of keyPem on disk, mode 0600. */
  keyFile: string;
}

export interface VariantSpec {
  names: string[];
  variant: CertificateVariant;
  /** Default "rsa" (RSA-2048); "ecdsa" is a P-256 key. */
  keyType?: KeyType;
}

export interface VariantCredentials extends ServerCredentials {
  variant: CertificateVariant;
  keyType: KeyType;
  /** The leaf certificate's SHA-256 (TLSA selector 0; Postfix's smtp_tls_fingerprint_cert_match). */
  certSha256: Sha256Digest;
  /** The SHA-256 of the leaf's public key, SubjectPublicKeyInfo DER (TLSA selector 1; Postfix's pkey fingerprint). */
  pkeySha256: Sha256Digest;
  /** The name presented as subject CN. */
  subjectCN: string;
}

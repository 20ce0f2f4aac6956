import { createHash } from "node:crypto";
import forge from "node-forge";
import { addDays, addYears, BACKDATE_DAYS } from "./dates.js";
import { generateRsaKeyPair, randomSerialHex } from "./keys.js";

export const CA_COMMON_NAME = "starttls-lab test CA";
const CA_VALIDITY_YEARS = 10;

export interface AuthorityPem {
  certPem: string;
  keyPem: string;
}

/** The CA in the form leaf issuance needs: forge objects to sign with. */
export interface Authority {
  cert: forge.pki.Certificate;
  privateKey: forge.pki.rsa.PrivateKey;
  /** Hex SHA-256 of the certificate's DER: identifies this CA in leaf cache keys. */
  fingerprint: string;
}

/** A self-signed RSA root; `commonName` names a second, untrusted root for the unknown-ca variant. */
export function createAuthority(now: Date, commonName: string = CA_COMMON_NAME): AuthorityPem {
  const { keyPem, privateKey, publicKey } = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = addDays(now, -BACKDATE_DAYS);
  cert.validity.notAfter = addYears(cert.validity.notBefore, CA_VALIDITY_YEARS);
  const name = [{ name: "commonName", value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: "basicConstraints", critical: true, cA: true },
    { name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true },
    { name: "subjectKeyIdentifier" },
  ]);
  // forge defaults to SHA-1, which OpenSSL 3 refuses at its default security level.
  cert.sign(privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

export function loadAuthority(pem: AuthorityPem): Authority {
  const cert = forge.pki.certificateFromPem(pem.certPem);
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  return {
    cert,
    privateKey: forge.pki.privateKeyFromPem(pem.keyPem),
    fingerprint: createHash("sha256").update(Buffer.from(der, "binary")).digest("hex"),
  };
}

/**
 * The key identifier leaves must carry in authorityKeyIdentifier, as a forge
 * byte string. Taken from the CA's own extension rather than recomputed, so
 * it matches whatever the CA certificate actually says.
 */
export function authorityKeyId(ca: forge.pki.Certificate): string {
  const ext = ca.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | undefined;
  return ext?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(ext.subjectKeyIdentifier)
    : ca.generateSubjectKeyIdentifier().getBytes();
}

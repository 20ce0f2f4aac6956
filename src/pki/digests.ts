/** SHA-256 digests of certificates as DNS records write them (TLSA: plain lower-case hex). */
import { createHash, X509Certificate } from "node:crypto";

/** The first certificate in a PEM bundle (a leaf followed by its chain). */
function firstCertificate(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

/** TLSA selector 1, matching type 1: the SubjectPublicKeyInfo's SHA-256. */
export function spkiSha256Hex(pem: string): string {
  const spki = firstCertificate(pem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

/** TLSA selector 0, matching type 1: the whole certificate's SHA-256. */
export function certificateSha256Hex(pem: string): string {
  return createHash("sha256").update(firstCertificate(pem).raw).digest("hex");
}

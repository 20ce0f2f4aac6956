/** SHA-256 digests of certificates, in Postfix's and in TLSA's spelling (see Sha256Digest). */
import { createHash, X509Certificate } from "node:crypto";
import type { Sha256Digest } from "./types.js";

function sha256(bytes: Buffer): Sha256Digest {
  const hex = createHash("sha256").update(bytes).digest("hex");
  return { tlsa: hex, postfix: (hex.toUpperCase().match(/../g) ?? []).join(":") };
}

/** The first certificate in a PEM bundle (a leaf followed by its chain). */
function firstCertificate(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

/** The whole certificate's DER (TLSA selector 0, matching type 1). */
export function certificateDigest(pem: string): Sha256Digest {
  return sha256(firstCertificate(pem).raw);
}

/** The SubjectPublicKeyInfo's DER (TLSA selector 1, matching type 1). */
export function publicKeyDigest(pem: string): Sha256Digest {
  return sha256(firstCertificate(pem).publicKey.export({ type: "spki", format: "der" }));
}

import forge from "node-forge";
import { authorityKeyId, type Authority } from "./authority.js";
import { addDays, BACKDATE_DAYS } from "./dates.js";
import { generateRsaKeyPair, randomSerialHex } from "./keys.js";

// Long enough for a cached certificate to outlive many runs, and the lifetime
// real server certificates had under the CA/Browser Forum's old 825-day cap.
const LEAF_VALIDITY_DAYS = 825;

export interface LeafPem {
  certPem: string;
  keyPem: string;
}

/** A server certificate for `names` (names[0] is the CN), signed directly by the CA. */
export function issueLeaf(ca: Authority, names: readonly string[], now: Date): LeafPem {
  const { keyPem, publicKey } = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = addDays(now, -BACKDATE_DAYS);
  cert.validity.notAfter = addDays(now, LEAF_VALIDITY_DAYS);
  cert.setSubject([{ name: "commonName", value: names[0] }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", critical: true, cA: false },
    { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
    { name: "subjectAltName", altNames: names.map((value) => ({ type: 2 /* dNSName */, value })) },
    { name: "subjectKeyIdentifier" },
    // `keyIdentifier: true` would make forge use the leaf's own key; OpenSSL
    // matches issuers by this field, so it must be the CA's identifier.
    { name: "authorityKeyIdentifier", keyIdentifier: authorityKeyId(ca.cert) },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());
  // The root is not part of what the server sends: clients already hold it.
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

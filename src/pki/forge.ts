/** The RSA signing path of issueCertificate (see issue.ts), with node-forge. */
import forge from "node-forge";
import type { IssueRequest } from "./issue.js";
import { randomSerialHex } from "./keys.js";

/**
 * The key identifier a certificate issued by `ca` must carry in
 * authorityKeyIdentifier, as a forge byte string. Taken from the CA's own
 * extension rather than recomputed, so it matches whatever the CA says.
 */
function authorityKeyId(ca: forge.pki.Certificate): string {
  const ext = ca.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | undefined;
  return ext?.subjectKeyIdentifier !== undefined ? forge.util.hexToBytes(ext.subjectKeyIdentifier) : ca.generateSubjectKeyIdentifier().getBytes();
}

export function issueWithForge(request: IssueRequest): string {
  const subjectKey = forge.pki.privateKeyFromPem(request.keyPem) as forge.pki.rsa.PrivateKey;
  const issuerCert = request.issuer === "self" ? undefined : forge.pki.certificateFromPem(request.issuer.certPem);
  const signingKey = request.issuer === "self" ? subjectKey : (forge.pki.privateKeyFromPem(request.issuer.keyPem) as forge.pki.rsa.PrivateKey);

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(subjectKey.n, subjectKey.e);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = request.notBefore;
  cert.validity.notAfter = request.notAfter;
  const subject = [{ name: "commonName", value: request.subjectCN }];
  cert.setSubject(subject);
  // The CA's parsed attributes keep its exact name, so issuer and subject compare equal.
  cert.setIssuer(issuerCert?.subject.attributes ?? subject);

  const profile = request.profile;
  const extensions: object[] =
    profile.kind === "ca"
      ? [
          { name: "basicConstraints", critical: true, cA: true, ...(profile.pathLength !== undefined ? { pathLenConstraint: profile.pathLength } : {}) },
          { name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true },
        ]
      : [
          { name: "basicConstraints", critical: true, cA: false },
          { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
          { name: "extKeyUsage", serverAuth: true, clientAuth: true },
          { name: "subjectAltName", altNames: profile.names.map((value) => ({ type: 2 /* dNSName */, value })) },
        ];
  extensions.push({ name: "subjectKeyIdentifier" });
  // `keyIdentifier: true` would make forge use the subject's own key; OpenSSL
  // matches issuers by this field, so it must be the CA's identifier.
  if (issuerCert !== undefined) extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: authorityKeyId(issuerCert) });
  cert.setExtensions(extensions);
  // forge defaults to SHA-1, which OpenSSL 3 refuses at its default security level.
  cert.sign(signingKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

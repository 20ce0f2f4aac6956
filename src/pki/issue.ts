/**
 * The one entry point for signing a certificate. node-forge, the project's
 * named X.509 dependency, signs RSA certificates; it knows no elliptic
 * curves, so a certificate with an ECDSA key on either side (the subject's
 * or the signer's) goes through the @peculiar/x509 adapter. Both build the
 * same profile from the same request.
 */
import { issueWithForge } from "./forge.js";
import { keyTypeOf } from "./keys.js";
import { issueWithPeculiar } from "./peculiar.js";

export type Profile = { kind: "leaf"; names: readonly string[] } | { kind: "ca"; pathLength?: number };

export interface IssueRequest {
  subjectCN: string;
  /** The subject's private key (PKCS#8 PEM). */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  profile: Profile;
  /** The signing CA, or "self" for a certificate signed by its own key. */
  issuer: { certPem: string; keyPem: string } | "self";
}

/** Builds and signs one certificate (SHA-256); returns its PEM with "\n" line ends. */
export async function issueCertificate(request: IssueRequest): Promise<string> {
  const signerKeyPem = request.issuer === "self" ? request.keyPem : request.issuer.keyPem;
  const allRsa = keyTypeOf(request.keyPem) === "rsa" && keyTypeOf(signerKeyPem) === "rsa";
  const pem = allRsa ? issueWithForge(request) : await issueWithPeculiar(request);
  return `${pem.replace(/\r\n/g, "\n").trimEnd()}\n`;
}

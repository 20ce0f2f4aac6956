import { createPrivateKey, X509Certificate } from "node:crypto";
import { addDays } from "./dates.js";

// A cached certificate close to expiry is replaced before it lapses, so a
// run never starts with a "valid" certificate that dies halfway through and
// turns every trusted delivery into a confusing failure.
const RENEW_BEFORE_DAYS = 30;

export interface FreshnessCheck {
  certPem: string;
  keyPem: string;
  now: Date;
  /** The leaf must be issued and signed by this CA. */
  issuer?: X509Certificate;
  /** The certificate must be a CA (basicConstraints CA:TRUE). */
  ca?: boolean;
  /** The certificate must be signed by its own key (a self-signed leaf). */
  selfSigned?: boolean;
  /**
   * What the dates must say at `now`: "current" (default) also renews ahead
   * of expiry; the broken variants must stay expired / not yet valid.
   */
  validity?: "current" | "expired" | "not-yet-valid";
}

/** Why a cached certificate/key pair cannot be reused, or undefined if it can. */
export function reuseProblem(check: FreshnessCheck): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(check.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(check.keyPem))) return "the key does not match the certificate";
  } catch (error) {
    return `unreadable: ${(error as Error).message}`;
  }
  const validFrom = new Date(cert.validFrom);
  const validTo = new Date(cert.validTo);
  switch (check.validity ?? "current") {
    case "current":
      if (validFrom > check.now) return `not valid until ${cert.validFrom}`;
      if (validTo <= addDays(check.now, RENEW_BEFORE_DAYS)) return `expires ${cert.validTo}`;
      break;
    case "expired":
      if (validTo > check.now) return `meant to be expired, but valid until ${cert.validTo}`;
      break;
    case "not-yet-valid":
      if (validFrom <= check.now) return `meant to be not yet valid, but valid since ${cert.validFrom}`;
      break;
  }
  if (check.ca === true && !cert.ca) return "not a CA certificate";
  if (check.issuer !== undefined && !(cert.checkIssued(check.issuer) && cert.verify(check.issuer.publicKey))) {
    return "not issued by the current CA";
  }
  // Not checkIssued(cert): OpenSSL's issuer check wants keyCertSign, which a
  // self-signed server certificate does not carry.
  if (check.selfSigned === true && !(cert.issuer === cert.subject && cert.verify(cert.publicKey))) {
    return "not self-signed";
  }
  return undefined;
}

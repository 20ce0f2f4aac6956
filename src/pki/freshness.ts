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
  if (new Date(cert.validFrom) > check.now) return `not valid until ${cert.validFrom}`;
  if (new Date(cert.validTo) <= addDays(check.now, RENEW_BEFORE_DAYS)) return `expires ${cert.validTo}`;
  if (check.ca === true && !cert.ca) return "not a CA certificate";
  if (check.issuer !== undefined && !(cert.checkIssued(check.issuer) && cert.verify(check.issuer.publicKey))) {
    return "not issued by the current CA";
  }
  return undefined;
}

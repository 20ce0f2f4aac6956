import { createPrivateKey, X509Certificate } from "node:crypto";
import { daysBetween, SERVER_CERTIFICATE_DAYS } from "./dates.js";

// A cached certificate is renewed once a third of its life is left, as ACME
// clients do (certbot: 30 days before a 90-day certificate ends): about 66
// days for a server certificate, years for a CA. So a run never starts with
// a "valid" certificate that dies halfway through and turns every trusted
// delivery into a confusing failure.
const RENEW_WHEN_LIFE_LEFT = 1 / 3;

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
      if (daysBetween(check.now, validTo) < RENEW_WHEN_LIFE_LEFT * daysBetween(validFrom, validTo)) return `expires ${cert.validTo}: due for renewal`;
      // Cached under an older, longer-lived profile (825 days until 2026).
      if (check.ca !== true && daysBetween(validFrom, validTo) > SERVER_CERTIFICATE_DAYS) {
        return `lives ${Math.round(daysBetween(validFrom, validTo))} days, longer than a CA issues today (${SERVER_CERTIFICATE_DAYS})`;
      }
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

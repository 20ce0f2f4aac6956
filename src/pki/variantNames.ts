/**
 * The certificate variants the PKI can issue, in a module of its own with no
 * imports, so the scenario schema can check against it without loading the
 * X.509 machinery (scenario validation must stay fast).
 */
export const CERTIFICATE_VARIANTS = [
  "valid",
  "expired",
  "not-yet-valid",
  "wrong-name",
  "self-signed",
  "unknown-ca",
  "missing-intermediate",
  "with-intermediate",
] as const;

export type CertificateVariant = (typeof CERTIFICATE_VARIANTS)[number];

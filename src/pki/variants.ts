import { X509Certificate } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { obtainEntry, specHash } from "./cache.js";
import { addDays, currentServerValidity } from "./dates.js";
import { certificateDigest, publicKeyDigest } from "./digests.js";
import { reuseProblem } from "./freshness.js";
import { issueCertificate } from "./issue.js";
import { generateKeyPem } from "./keys.js";
import { assertNames } from "./names.js";
import {
  CERT_FILE,
  KEY_FILE,
  LEAF_LAYOUT,
  obtainIntermediateAuthority,
  obtainRootAuthority,
  obtainUnknownAuthority,
  type StoredAuthority,
} from "./store.js";
import type { KeyType, VariantCredentials, VariantSpec } from "./types.js";

// Server certificates that go wrong in the ways a real Postfix client (with
// smtp_tls_CAfile = the harness root) can tell apart.

export { CERTIFICATE_VARIANTS, type CertificateVariant } from "./variantNames.js";
import { CERTIFICATE_VARIANTS, type CertificateVariant } from "./variantNames.js";

const KEY_TYPES: readonly KeyType[] = ["rsa", "ecdsa"];

/** The only name a wrong-name certificate carries, whatever names were asked for. */
export const WRONG_NAME = "wrong-name.invalid.test";

// Bump when a variant's profile (extensions, dates…) changes.
const VARIANT_PROFILE = 1;

type Validity = "current" | "expired" | "not-yet-valid";
type IssuerKind = "root" | "intermediate" | "unknown" | "self";

interface Plan {
  issuer: IssuerKind;
  validity: Validity;
  /** certPem carries the intermediate after the leaf. */
  sendsIntermediate: boolean;
}

const PLANS: Record<CertificateVariant, Plan> = {
  valid: { issuer: "root", validity: "current", sendsIntermediate: false },
  expired: { issuer: "root", validity: "expired", sendsIntermediate: false },
  "not-yet-valid": { issuer: "root", validity: "not-yet-valid", sendsIntermediate: false },
  "wrong-name": { issuer: "root", validity: "current", sendsIntermediate: false },
  "self-signed": { issuer: "self", validity: "current", sendsIntermediate: false },
  "unknown-ca": { issuer: "unknown", validity: "current", sendsIntermediate: false },
  "missing-intermediate": { issuer: "intermediate", validity: "current", sendsIntermediate: false },
  "with-intermediate": { issuer: "intermediate", validity: "current", sendsIntermediate: true },
};

function validityDates(validity: Validity, now: Date): { notBefore: Date; notAfter: Date } {
  switch (validity) {
    case "current":
      return currentServerValidity(now);
    case "expired":
      return { notBefore: addDays(now, -30), notAfter: addDays(now, -1) };
    case "not-yet-valid":
      return { notBefore: addDays(now, 1), notAfter: addDays(now, 365) };
  }
}

function assertVariantSpec(spec: unknown): asserts spec is VariantSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new Error("pki: `spec` must be an object { names, variant, keyType? }");
  }
  const { variant, keyType, names } = spec as Record<string, unknown>;
  if (!(CERTIFICATE_VARIANTS as readonly unknown[]).includes(variant)) {
    throw new Error(`pki: unknown certificate variant ${JSON.stringify(variant)}; expected one of ${CERTIFICATE_VARIANTS.join(", ")}`);
  }
  if (keyType !== undefined && !(KEY_TYPES as readonly unknown[]).includes(keyType)) {
    throw new Error(`pki: unknown key type ${JSON.stringify(keyType)}; expected one of ${KEY_TYPES.join(", ")}`);
  }
  assertNames(names, `pki: variant "${variant as string}"`);
}

/**
 * Returns a server certificate that goes wrong (or right) as `spec.variant`
 * says, generating only what the cache in `cacheDir` does not already hold:
 * the harness root, the intermediate or the unknown CA as the variant needs.
 */
export async function ensureServerVariant(options: {
  cacheDir: string;
  spec: VariantSpec;
  now?: Date;
}): Promise<VariantCredentials & { generated: string[] }> {
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error("pki: `now` must be a valid Date");
  if (typeof options.cacheDir !== "string" || options.cacheDir.trim() === "") {
    throw new Error("pki: `cacheDir` must be a non-empty path");
  }
  assertVariantSpec(options.spec);
  const { variant } = options.spec;
  const keyType = options.spec.keyType ?? "rsa";
  const plan = PLANS[variant];
  const names = variant === "wrong-name" ? [WRONG_NAME] : [...options.spec.names];

  const root = path.resolve(options.cacheDir);
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const generated: string[] = [];

  let issuer: StoredAuthority | undefined;
  if (plan.issuer === "root" || plan.issuer === "intermediate") {
    const rootCa = await obtainRootAuthority(root, now);
    if (rootCa.created) generated.push("ca");
    issuer = rootCa;
    if (plan.issuer === "intermediate") {
      issuer = await obtainIntermediateAuthority(root, rootCa, now);
      if (issuer.created) generated.push("intermediate ca");
    }
  } else if (plan.issuer === "unknown") {
    issuer = await obtainUnknownAuthority(root, now);
    if (issuer.created) generated.push("unknown ca");
  }

  // Content-addressed: what the certificate says and who signed it. The
  // broken dates are relative to `now`, so those entries last one UTC day.
  const spec = {
    profile: VARIANT_PROFILE,
    variant,
    keyType,
    names,
    issuerFingerprint: issuer?.fingerprint ?? "self",
    day: plan.validity === "current" ? undefined : now.toISOString().slice(0, 10),
  };
  const dir = path.join(root, "variants", specHash(spec));
  const issuerX509 = issuer === undefined ? undefined : new X509Certificate(issuer.certPem);
  const entry = await obtainEntry(dir, LEAF_LAYOUT, {
    problem: (c) =>
      reuseProblem({
        certPem: c.cert,
        keyPem: c.key,
        now,
        validity: plan.validity,
        ...(issuerX509 === undefined ? { selfSigned: true } : { issuer: issuerX509 }),
      }),
    create: async () => {
      const keyPem = generateKeyPem(keyType);
      const leafPem = await issueCertificate({
        subjectCN: names[0]!,
        keyPem,
        ...validityDates(plan.validity, now),
        profile: { kind: "leaf", names },
        issuer: issuer ?? "self",
      });
      // The root is never sent: clients hold it (or, for unknown-ca, do not).
      const cert = plan.sendsIntermediate ? leafPem + issuer!.certPem : leafPem;
      return { cert, key: keyPem, spec: `${JSON.stringify(spec, null, 2)}\n` };
    },
  });
  if (entry.created) generated.push(`variant ${variant} ${keyType}`);

  return {
    names,
    certPem: entry.contents.cert,
    keyPem: entry.contents.key,
    certFile: path.join(dir, CERT_FILE),
    keyFile: path.join(dir, KEY_FILE),
    variant,
    keyType,
    certSha256: certificateDigest(entry.contents.cert),
    pkeySha256: publicKeyDigest(entry.contents.cert),
    subjectCN: names[0]!,
    generated,
  };
}

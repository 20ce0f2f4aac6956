import { createHash, X509Certificate } from "node:crypto";
import path from "node:path";
import { createAuthority, type AuthorityPem } from "./authority.js";
import { obtainEntry, type EntryLayout } from "./cache.js";
import { addDays, BACKDATE_DAYS } from "./dates.js";
import { reuseProblem } from "./freshness.js";
import { generateKeyPem, issueCertificate } from "./x509.js";

// Where each authority lives in the cache, and how each is (re)made. The
// harness root is shared by ensurePki and ensureServerVariant.

export const CERT_FILE = "cert.pem";
export const KEY_FILE = "key.pem";

export const CA_LAYOUT = {
  cert: { file: CERT_FILE, mode: 0o644 },
  key: { file: KEY_FILE, mode: 0o600 },
} satisfies EntryLayout<string>;

export const LEAF_LAYOUT = {
  ...CA_LAYOUT,
  // Not read back: lets a person see which names a hashed folder holds.
  spec: { file: "spec.json", mode: 0o644 },
} satisfies EntryLayout<string>;

export const UNKNOWN_CA_COMMON_NAME = "starttls-lab unknown CA";
export const INTERMEDIATE_CA_COMMON_NAME = "starttls-lab intermediate CA";

export interface StoredAuthority extends AuthorityPem {
  certFile: string;
  /** Hex SHA-256 of the certificate's DER: identifies this CA in leaf cache keys. */
  fingerprint: string;
  created: boolean;
}

function stored(dir: string, contents: { cert: string; key: string }, created: boolean): StoredAuthority {
  const der = new X509Certificate(contents.cert).raw;
  return {
    certPem: contents.cert,
    keyPem: contents.key,
    certFile: path.join(dir, CERT_FILE),
    fingerprint: createHash("sha256").update(der).digest("hex"),
    created,
  };
}

/** The harness root CA, which clients trust (cacheRoot/ca). */
export async function obtainRootAuthority(cacheRoot: string, now: Date): Promise<StoredAuthority> {
  const dir = path.join(cacheRoot, "ca");
  const entry = await obtainEntry(dir, CA_LAYOUT, {
    problem: (c) => reuseProblem({ certPem: c.cert, keyPem: c.key, now, ca: true }),
    create: () => {
      const { certPem, keyPem } = createAuthority(now);
      return { cert: certPem, key: keyPem };
    },
  });
  return stored(dir, entry.contents, entry.created);
}

/** A second root that no client trusts (cacheRoot/unknown-ca). */
export async function obtainUnknownAuthority(cacheRoot: string, now: Date): Promise<StoredAuthority> {
  const dir = path.join(cacheRoot, "unknown-ca");
  const entry = await obtainEntry(dir, CA_LAYOUT, {
    problem: (c) => reuseProblem({ certPem: c.cert, keyPem: c.key, now, ca: true, selfSigned: true }),
    create: () => {
      const { certPem, keyPem } = createAuthority(now, UNKNOWN_CA_COMMON_NAME);
      return { cert: certPem, key: keyPem };
    },
  });
  return stored(dir, entry.contents, entry.created);
}

/**
 * An intermediate CA signed by the root (CA:TRUE, pathlen 0), at
 * cacheRoot/intermediate-ca. A new root makes it fail the issuer check, so it
 * is replaced, and with it every leaf keyed by its fingerprint.
 */
export async function obtainIntermediateAuthority(
  cacheRoot: string,
  rootCa: StoredAuthority,
  now: Date,
): Promise<StoredAuthority> {
  const dir = path.join(cacheRoot, "intermediate-ca");
  const rootX509 = new X509Certificate(rootCa.certPem);
  const entry = await obtainEntry(dir, CA_LAYOUT, {
    problem: (c) => reuseProblem({ certPem: c.cert, keyPem: c.key, now, ca: true, issuer: rootX509 }),
    create: async () => {
      const keyPem = generateKeyPem("rsa");
      const certPem = await issueCertificate({
        subjectCN: INTERMEDIATE_CA_COMMON_NAME,
        keyPem,
        notBefore: addDays(now, -BACKDATE_DAYS),
        // Never outlives the root that vouches for it.
        notAfter: new Date(rootX509.validTo),
        profile: { kind: "ca", pathLength: 0 },
        issuer: rootCa,
      });
      return { cert: certPem, key: keyPem };
    },
  });
  return stored(dir, entry.contents, entry.created);
}

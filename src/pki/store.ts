import { X509Certificate } from "node:crypto";
import path from "node:path";
import { obtainEntry, type EntryLayout } from "./cache.js";
import { addDays, addYears, BACKDATE_DAYS } from "./dates.js";
import { certificateDigest } from "./digests.js";
import { reuseProblem } from "./freshness.js";
import { issueCertificate } from "./issue.js";
import { generateKeyPem } from "./keys.js";

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

export const CA_COMMON_NAME = "starttls-lab test CA";
export const UNKNOWN_CA_COMMON_NAME = "starttls-lab unknown CA";
export const INTERMEDIATE_CA_COMMON_NAME = "starttls-lab intermediate CA";

const ROOT_VALIDITY_YEARS = 10;

export interface AuthorityPem {
  certPem: string;
  keyPem: string;
}

export interface StoredAuthority extends AuthorityPem {
  certFile: string;
  /** Hex SHA-256 of the certificate's DER: identifies this CA in leaf cache keys. */
  fingerprint: string;
  created: boolean;
}

function stored(dir: string, contents: { cert: string; key: string }, created: boolean): StoredAuthority {
  return {
    certPem: contents.cert,
    keyPem: contents.key,
    certFile: path.join(dir, CERT_FILE),
    fingerprint: certificateDigest(contents.cert).tlsa,
    created,
  };
}

/** A self-signed RSA root named `commonName`. */
async function newRoot(commonName: string, now: Date): Promise<{ cert: string; key: string }> {
  const keyPem = generateKeyPem("rsa");
  const notBefore = addDays(now, -BACKDATE_DAYS);
  const certPem = await issueCertificate({
    subjectCN: commonName,
    keyPem,
    notBefore,
    notAfter: addYears(notBefore, ROOT_VALIDITY_YEARS),
    profile: { kind: "ca" },
    issuer: "self",
  });
  return { cert: certPem, key: keyPem };
}

/** The harness root CA, which clients trust (cacheRoot/ca). */
export async function obtainRootAuthority(cacheRoot: string, now: Date): Promise<StoredAuthority> {
  const dir = path.join(cacheRoot, "ca");
  const entry = await obtainEntry(dir, CA_LAYOUT, {
    problem: (c) => reuseProblem({ certPem: c.cert, keyPem: c.key, now, ca: true }),
    create: () => newRoot(CA_COMMON_NAME, now),
  });
  return stored(dir, entry.contents, entry.created);
}

/** A second root that no client trusts (cacheRoot/unknown-ca). */
export async function obtainUnknownAuthority(cacheRoot: string, now: Date): Promise<StoredAuthority> {
  const dir = path.join(cacheRoot, "unknown-ca");
  const entry = await obtainEntry(dir, CA_LAYOUT, {
    problem: (c) => reuseProblem({ certPem: c.cert, keyPem: c.key, now, ca: true, selfSigned: true }),
    create: () => newRoot(UNKNOWN_CA_COMMON_NAME, now),
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

import { X509Certificate } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { loadAuthority } from "./authority.js";
import { obtainEntry, specHash } from "./cache.js";
import { reuseProblem } from "./freshness.js";
import { issueLeaf } from "./leaf.js";
import { assertServerSpecs } from "./names.js";
import { CERT_FILE, KEY_FILE, LEAF_LAYOUT, obtainRootAuthority } from "./store.js";

export { CA_COMMON_NAME } from "./authority.js";
export { INTERMEDIATE_CA_COMMON_NAME, UNKNOWN_CA_COMMON_NAME } from "./store.js";
export {
  CERTIFICATE_VARIANTS,
  ensureServerVariant,
  WRONG_NAME,
  type CertificateVariant,
  type KeyType,
  type VariantCredentials,
  type VariantSpec,
} from "./variants.js";

export interface ServerCredentials {
  /** DNS names in subjectAltName; names[0] is also the subject CN. */
  names: string[];
  /** Leaf certificate PEM followed by any chain certificates the server sends. */
  certPem: string;
  /** PKCS#8 private key PEM ("BEGIN PRIVATE KEY"): RSA, or P-256 for ECDSA variants. */
  keyPem: string;
  /** Absolute path of certPem on disk. */
  certFile: string;
  /** Absolute path of keyPem on disk, mode 0600. */
  keyFile: string;
}

export interface WorldPki {
  /** The harness root CA (self-signed), which clients trust. */
  caCertPem: string;
  caCertFile: string;
  /** Keyed as requested, e.g. "sender", "receiver". */
  servers: Record<string, ServerCredentials>;
  /** What this call generated, e.g. ["ca", "server sender"]; empty on a warm cache. */
  generated: string[];
}

export interface EnsurePkiOptions {
  /** e.g. ~/.cache/starttls-lab/pki */
  cacheDir: string;
  /** e.g. { sender: { names: ["smtp.infomaniak.test", "infomaniak.test"] } } */
  servers: Record<string, { names: string[] }>;
  /** Clock for validity dates and cache freshness; tests move it. */
  now?: Date;
}

// Bump when the leaf profile (extensions, lifetime…) changes, so cached
// leaves built the old way are not reused.
const LEAF_PROFILE = 1;

/**
 * Returns the harness CA and one server certificate per entry of `servers`,
 * generating only what the cache in `cacheDir` does not already hold.
 */
export async function ensurePki(options: EnsurePkiOptions): Promise<WorldPki> {
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error("pki: `now` must be a valid Date");
  if (typeof options.cacheDir !== "string" || options.cacheDir.trim() === "") {
    throw new Error("pki: `cacheDir` must be a non-empty path");
  }
  assertServerSpecs(options.servers);

  const root = path.resolve(options.cacheDir);
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const generated: string[] = [];

  const rootCa = await obtainRootAuthority(root, now);
  if (rootCa.created) generated.push("ca");
  const authority = loadAuthority(rootCa);
  const caX509 = new X509Certificate(rootCa.certPem);

  const servers: [string, ServerCredentials][] = [];
  for (const [key, { names }] of Object.entries(options.servers)) {
    // The CA's fingerprint is part of the address: a new CA invalidates every leaf.
    const spec = { profile: LEAF_PROFILE, names, caFingerprint: authority.fingerprint };
    const dir = path.join(root, "servers", specHash(spec));
    const entry = await obtainEntry(dir, LEAF_LAYOUT, {
      problem: (c) => reuseProblem({ certPem: c.cert, keyPem: c.key, now, issuer: caX509 }),
      create: () => {
        const { certPem, keyPem } = issueLeaf(authority, names, now);
        return { cert: certPem, key: keyPem, spec: `${JSON.stringify(spec, null, 2)}\n` };
      },
    });
    if (entry.created) generated.push(`server ${key}`);
    servers.push([
      key,
      {
        names: [...names],
        certPem: entry.contents.cert,
        keyPem: entry.contents.key,
        certFile: path.join(dir, CERT_FILE),
        keyFile: path.join(dir, KEY_FILE),
      },
    ]);
  }

  return {
    caCertPem: rootCa.certPem,
    caCertFile: rootCa.certFile,
    // fromEntries defines own properties, so any key string (even "__proto__") is kept as data.
    servers: Object.fromEntries(servers),
    generated,
  };
}

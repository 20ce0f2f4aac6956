/**
 * The harness's PKI: its root CA and the server certificates the world
 * needs, cached between runs. Every certificate is signed through one entry
 * point (issue.ts); ensureServerVariant obtains one server certificate,
 * ensurePki the root and a named set of working ones.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { assertServerSpecs } from "./names.js";
import { obtainRootAuthority } from "./store.js";
import type { ServerCredentials } from "./types.js";
import { ensureServerVariant } from "./variants.js";

export { CA_COMMON_NAME, INTERMEDIATE_CA_COMMON_NAME, UNKNOWN_CA_COMMON_NAME } from "./store.js";
export { CERTIFICATE_VARIANTS, ensureServerVariant, WRONG_NAME, type CertificateVariant } from "./variants.js";
export type { KeyType, ServerCredentials, Sha256Digest, VariantCredentials, VariantSpec } from "./types.js";

export interface WorldPki<K extends string = string> {
  /** The harness root CA (self-signed), which clients trust. */
  caCertPem: string;
  caCertFile: string;
  /** One working server certificate per requested key. */
  servers: Record<K, ServerCredentials>;
  /** What this call generated, e.g. ["ca", "server sender"]; empty on a warm cache. */
  generated: string[];
}

export interface EnsurePkiOptions<K extends string> {
  /** e.g. ~/.cache/starttls-lab/pki */
  cacheDir: string;
  /** e.g. { sender: { names: ["smtp.infomaniak.test", "infomaniak.test"] } } */
  servers: Record<K, { names: string[] }>;
  /** Clock for validity dates and cache freshness; tests move it. */
  now?: Date;
}

/**
 * Returns the harness CA and one valid RSA server certificate per entry of
 * `servers`, generating only what the cache in `cacheDir` does not already hold.
 */
export async function ensurePki<K extends string>(options: EnsurePkiOptions<K>): Promise<WorldPki<K>> {
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error("pki: `now` must be a valid Date");
  if (typeof options.cacheDir !== "string" || options.cacheDir.trim() === "") {
    throw new Error("pki: `cacheDir` must be a non-empty path");
  }
  // Every name list is checked before anything is generated.
  assertServerSpecs(options.servers);

  const root = path.resolve(options.cacheDir);
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const generated: string[] = [];
  const rootCa = await obtainRootAuthority(root, now);
  if (rootCa.created) generated.push("ca");

  const servers: [K, ServerCredentials][] = [];
  for (const [key, { names }] of Object.entries(options.servers) as [K, { names: string[] }][]) {
    const issued = await ensureServerVariant({ cacheDir: root, spec: { names, variant: "valid", keyType: "rsa" }, now });
    if (issued.generated.length > 0) generated.push(`server ${key}`);
    const { certPem, keyPem, certFile, keyFile } = issued;
    servers.push([key, { names: [...names], certPem, keyPem, certFile, keyFile }]);
  }

  return {
    caCertPem: rootCa.certPem,
    caCertFile: rootCa.certFile,
    // fromEntries defines own properties, so any key string (even "__proto__") is kept as data.
    servers: Object.fromEntries(servers) as Record<K, ServerCredentials>,
    generated,
  };
}

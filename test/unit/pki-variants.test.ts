import { execFile, spawnSync } from "node:child_process";
import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import { promises as fs } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CERTIFICATE_VARIANTS,
  ensurePki,
  ensureServerVariant,
  type CertificateVariant,
  type KeyType,
  type VariantCredentials,
} from "../../src/pki/index.js";

const run = promisify(execFile);

const NAMES = ["mx.iroco.test", "iroco.test"];
const KEY_TYPES: KeyType[] = ["rsa", "ecdsa"];
const DAY = 24 * 60 * 60 * 1000;
const FINGERPRINT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/** `openssl verify`, resolving to its combined output and whether it said OK. */
async function verify(caFile: string, leafFile: string, untrustedFile?: string): Promise<{ ok: boolean; output: string }> {
  const args = ["verify", "-CAfile", caFile, ...(untrustedFile ? ["-untrusted", untrustedFile] : []), leafFile];
  try {
    const { stdout, stderr } = await run("openssl", args);
    return { ok: stdout.trim() === `${leafFile}: OK`, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

async function opensslText(file: string): Promise<string> {
  return (await run("openssl", ["x509", "-noout", "-text", "-in", file])).stdout;
}

// One cache for the read-only checks: every variant × key type, generated once.
let shared: string;
let caFile: string;
let caCertPem: string;
let workDir: string;
const issued = new Map<string, VariantCredentials & { generated: string[] }>();
const get = (variant: CertificateVariant, keyType: KeyType = "rsa") => issued.get(`${variant}/${keyType}`)!;

/** Writes PEM text to a scratch file for OpenSSL. */
async function scratch(name: string, text: string): Promise<string> {
  const file = path.join(workDir, name);
  await fs.writeFile(file, text);
  return file;
}

beforeAll(async () => {
  shared = await fs.mkdtemp(path.join(os.tmpdir(), "starttls-lab-variants-"));
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), "starttls-lab-variants-work-"));
  const pki = await ensurePki({ cacheDir: shared, servers: {} });
  caFile = pki.caCertFile;
  caCertPem = pki.caCertPem;
  for (const variant of CERTIFICATE_VARIANTS) {
    for (const keyType of KEY_TYPES) {
      issued.set(`${variant}/${keyType}`, await ensureServerVariant({ cacheDir: shared, spec: { names: NAMES, variant, keyType } }));
    }
  }
});

afterAll(async () => {
  await fs.rm(shared, { recursive: true, force: true });
  await fs.rm(workDir, { recursive: true, force: true });
});

describe.each(KEY_TYPES)("ensureServerVariant (%s): what `openssl verify -CAfile <harness CA>` says", (keyType) => {
  it("valid: OK, with the requested names", async () => {
    const v = get("valid", keyType);
    expect(await verify(caFile, v.certFile)).toMatchObject({ ok: true });
    await run("openssl", ["verify", "-CAfile", caFile, "-verify_hostname", "iroco.test", v.certFile]);
    expect(v.names).toEqual(NAMES);
    expect(v.subjectCN).toBe("mx.iroco.test");
    const leaf = new X509Certificate(v.certPem);
    expect(leaf.subject).toBe("CN=mx.iroco.test");
    expect(leaf.subjectAltName).toBe("DNS:mx.iroco.test, DNS:iroco.test");
    expect(splitPem(v.certPem)).toHaveLength(1);
  });

  it("expired: 'certificate has expired', ended yesterday after 29 days", async () => {
    const v = get("expired", keyType);
    const result = await verify(caFile, v.certFile);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/certificate has expired/);
    const leaf = new X509Certificate(v.certPem);
    expect(Math.abs(new Date(leaf.validFrom).getTime() - (Date.now() - 30 * DAY))).toBeLessThan(60_000);
    expect(Math.abs(new Date(leaf.validTo).getTime() - (Date.now() - DAY))).toBeLessThan(60_000);
    // Only the date is wrong: the chain itself is sound.
    expect(leaf.verify(new X509Certificate(caCertPem).publicKey)).toBe(true);
  });

  it("not-yet-valid: 'certificate is not yet valid', starting tomorrow for a year", async () => {
    const v = get("not-yet-valid", keyType);
    const result = await verify(caFile, v.certFile);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/certificate is not yet valid/);
    const leaf = new X509Certificate(v.certPem);
    expect(Math.abs(new Date(leaf.validFrom).getTime() - (Date.now() + DAY))).toBeLessThan(60_000);
    expect(Math.abs(new Date(leaf.validTo).getTime() - (Date.now() + 365 * DAY))).toBeLessThan(60_000);
  });

  it("wrong-name: chain OK, but only wrong-name.invalid.test, never the requested names", async () => {
    const v = get("wrong-name", keyType);
    expect(await verify(caFile, v.certFile)).toMatchObject({ ok: true });
    const check = await run("openssl", ["x509", "-noout", "-checkhost", "mx.iroco.test", "-in", v.certFile]);
    expect(check.stdout).toMatch(/does NOT match certificate/);
    const leaf = new X509Certificate(v.certPem);
    for (const name of NAMES) expect(leaf.checkHost(name)).toBeUndefined();
    expect(leaf.checkHost("wrong-name.invalid.test")).toBe("wrong-name.invalid.test");
    expect(await opensslText(v.certFile)).not.toMatch(/iroco/);
    expect(v.names).toEqual(["wrong-name.invalid.test"]);
    expect(v.subjectCN).toBe("wrong-name.invalid.test");
  });

  it("self-signed: 'self-signed certificate', the requested names, no CA involved", async () => {
    const v = get("self-signed", keyType);
    const result = await verify(caFile, v.certFile);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/self-signed certificate/);
    const leaf = new X509Certificate(v.certPem);
    expect(leaf.issuer).toBe("CN=mx.iroco.test");
    expect(leaf.verify(leaf.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe("DNS:mx.iroco.test, DNS:iroco.test");
  });

  it("unknown-ca: 'unable to get local issuer certificate'; verifies against the unknown CA only", async () => {
    const v = get("unknown-ca", keyType);
    const result = await verify(caFile, v.certFile);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/unable to get local issuer certificate/);
    const unknownCaFile = path.join(shared, "unknown-ca", "cert.pem");
    expect(new X509Certificate(await fs.readFile(unknownCaFile)).subject).toBe("CN=starttls-lab unknown CA");
    expect(await verify(unknownCaFile, v.certFile)).toMatchObject({ ok: true });
  });

  it("missing-intermediate: fails alone, OK once the client has the intermediate", async () => {
    const v = get("missing-intermediate", keyType);
    expect(splitPem(v.certPem)).toHaveLength(1);
    const alone = await verify(caFile, v.certFile);
    expect(alone.ok).toBe(false);
    expect(alone.output).toMatch(/unable to get local issuer certificate/);
    const intermediate = splitPem(get("with-intermediate", keyType).certPem)[1]!;
    const untrusted = await scratch(`intermediate-${keyType}.pem`, intermediate);
    expect(await verify(caFile, v.certFile, untrusted)).toMatchObject({ ok: true });
    expect(new X509Certificate(v.certPem).issuer).toBe("CN=starttls-lab intermediate CA");
  });

  it("with-intermediate: certPem is leaf + intermediate, which verifies", async () => {
    const v = get("with-intermediate", keyType);
    const [leaf, intermediate, ...rest] = splitPem(v.certPem);
    expect(rest).toEqual([]);
    const leafFile = await scratch(`leaf-${keyType}.pem`, leaf!);
    const chainFile = await scratch(`chain-${keyType}.pem`, intermediate!);
    expect(await verify(caFile, leafFile, chainFile)).toMatchObject({ ok: true });
    expect(new X509Certificate(leaf!).checkIssued(new X509Certificate(intermediate!))).toBe(true);
    // The root stays with the clients.
    expect(v.certPem).not.toContain(caCertPem.trim());
  });
});

describe("ensureServerVariant: certificate details", () => {
  it("the intermediate is CA:TRUE, pathlen 0, signed by the harness root", async () => {
    const intermediateFile = path.join(shared, "intermediate-ca", "cert.pem");
    const text = await opensslText(intermediateFile);
    expect(text).toMatch(/Subject: CN = starttls-lab intermediate CA/);
    expect(text).toMatch(/Issuer: CN = starttls-lab test CA/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(await verify(caFile, intermediateFile)).toMatchObject({ ok: true });
  });

  it("the unknown CA sits next to the harness CA and never in caCertPem", async () => {
    const pki = await ensurePki({ cacheDir: shared, servers: {} });
    expect(pki.generated).toEqual([]);
    expect(splitPem(pki.caCertPem)).toHaveLength(1);
    const unknown = await fs.readFile(path.join(shared, "unknown-ca", "cert.pem"), "utf8");
    expect(pki.caCertPem).not.toContain(splitPem(unknown)[0]!.trim());
    expect(path.dirname(path.dirname(pki.caCertFile))).toBe(path.resolve(shared));
  });

  it("ecdsa: a P-256 key in PKCS#8, and the handshake signs with ECDSA", async () => {
    for (const variant of CERTIFICATE_VARIANTS) {
      const v = get(variant, "ecdsa");
      expect(v.keyType).toBe("ecdsa");
      expect(v.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const text = await opensslText(v.certFile);
      expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
      expect(text).toMatch(/ASN1 OID: prime256v1/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
      // A certificate's signature is made by its issuer's key: only the
      // self-signed leaf is signed with ECDSA; the harness CAs are RSA.
      expect(text).toMatch(
        variant === "self-signed" ? /Signature Algorithm: ecdsa-with-SHA256/ : /Signature Algorithm: sha256WithRSAEncryption/,
      );
    }
    // ECDHE-ECDSA suites need an ECDSA server key; the handshake signature is ecdsa-with-SHA256.
    const valid = get("valid", "ecdsa");
    const outcome = await handshake(valid, { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" });
    expect(outcome).toMatchObject({ authorized: true, cipher: "ECDHE-ECDSA-AES128-GCM-SHA256" });
  });

  it("rsa: RSA-2048 keys, everything signed with SHA-256", async () => {
    for (const variant of CERTIFICATE_VARIANTS) {
      const v = get(variant, "rsa");
      const text = await opensslText(v.certFile);
      expect(text).toMatch(/Public-Key: \(2048 bit\)/);
      expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
      expect(text).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
      expect(v.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it("certSha256 and pkeySha256 match OpenSSL's, in Postfix's format and in TLSA's", async () => {
    for (const v of issued.values()) {
      const fp = (await run("openssl", ["x509", "-noout", "-fingerprint", "-sha256", "-in", v.certFile])).stdout;
      expect(`sha256 Fingerprint=${v.certSha256.postfix}`).toBe(fp.trim());
      expect(v.certSha256.postfix).toMatch(FINGERPRINT);
      const certDer = spawnSync("openssl", ["x509", "-outform", "DER", "-in", v.certFile]).stdout;
      expect(v.certSha256.tlsa).toBe(createHash("sha256").update(certDer).digest("hex"));

      const pubkeyPem = (await run("openssl", ["x509", "-noout", "-pubkey", "-in", v.certFile])).stdout;
      const spkiDer = spawnSync("openssl", ["pkey", "-pubin", "-outform", "DER"], { input: pubkeyPem }).stdout;
      const expected = createHash("sha256").update(spkiDer).digest("hex");
      expect(v.pkeySha256.tlsa).toBe(expected);
      expect(v.pkeySha256.tlsa).toMatch(/^[0-9a-f]{64}$/);
      expect(v.pkeySha256.postfix).toBe(expected.toUpperCase().match(/../g)!.join(":"));
      expect(v.pkeySha256.postfix).toMatch(FINGERPRINT);
    }
  });

  it("each key matches its certificate, per OpenSSL; keys are 0600; files hold the returned PEMs", async () => {
    for (const v of issued.values()) {
      const fromKey = (await run("openssl", ["pkey", "-pubout", "-in", v.keyFile])).stdout;
      const fromCert = (await run("openssl", ["x509", "-noout", "-pubkey", "-in", v.certFile])).stdout;
      expect(fromKey).toBe(fromCert);
      expect(createPublicKey(v.keyPem).export({ type: "spki", format: "der" })).toEqual(
        new X509Certificate(v.certPem).publicKey.export({ type: "spki", format: "der" }),
      );
      expect((await fs.stat(v.keyFile)).mode & 0o777).toBe(0o600);
      expect(await fs.readFile(v.certFile, "utf8")).toBe(v.certPem);
      expect(await fs.readFile(v.keyFile, "utf8")).toBe(v.keyPem);
      expect(path.isAbsolute(v.certFile) && path.isAbsolute(v.keyFile)).toBe(true);
    }
    for (const ca of ["ca", "intermediate-ca", "unknown-ca"]) {
      expect((await fs.stat(path.join(shared, ca, "key.pem"))).mode & 0o777).toBe(0o600);
    }
  });
});

/** A real TLS handshake against a loopback server presenting `v`, as a client trusting the harness CA. */
async function handshake(
  v: VariantCredentials,
  options: tls.ConnectionOptions = {},
): Promise<{ authorized: boolean; error: string | null; cipher: string }> {
  const server = tls.createServer({ key: v.keyPem, cert: v.certPem }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const socket = tls.connect(
        { host: "127.0.0.1", port, servername: "mx.iroco.test", ca: caCertPem, rejectUnauthorized: false, ...options },
        () => {
          resolve({
            authorized: socket.authorized,
            error: socket.authorizationError ? String(socket.authorizationError) : null,
            cipher: socket.getCipher().name,
          });
          socket.destroy();
        },
      );
      socket.on("error", reject);
    });
  } finally {
    server.close();
  }
}

describe("ensureServerVariant: a TLS client trusting the harness CA (node:tls, OpenSSL underneath)", () => {
  const expected: [CertificateVariant, string | null][] = [
    ["valid", null],
    ["expired", "CERT_HAS_EXPIRED"],
    ["not-yet-valid", "CERT_NOT_YET_VALID"],
    ["wrong-name", "ERR_TLS_CERT_ALTNAME_INVALID"],
    ["self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT"],
    // In a handshake the server sent only the leaf: "unable to verify the first certificate".
    ["unknown-ca", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
    ["missing-intermediate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
    ["with-intermediate", null],
  ];
  it.each(KEY_TYPES.flatMap((k) => expected.map(([variant, error]) => [variant, k, error] as const)))(
    "%s (%s) → %s",
    async (variant, keyType, error) => {
      const outcome = await handshake(get(variant, keyType));
      expect(outcome).toMatchObject({ authorized: error === null, error });
    },
  );
});

describe("ensureServerVariant: cache", () => {
  let cacheDir: string;
  beforeEach(async () => {
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "starttls-lab-variants-cache-"));
  });
  afterEach(async () => {
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it("generates what the variant needs, then nothing on a warm cache", async () => {
    const spec = { names: NAMES, variant: "missing-intermediate" as const };
    const first = await ensureServerVariant({ cacheDir, spec });
    expect(first.generated).toEqual(["ca", "intermediate ca", "variant missing-intermediate rsa"]);
    expect(first.keyType).toBe("rsa");
    const second = await ensureServerVariant({ cacheDir, spec });
    expect(second).toEqual({ ...first, generated: [] });

    // Same intermediate for the chain variant; same root for ensurePki.
    const chain = await ensureServerVariant({ cacheDir, spec: { ...spec, variant: "with-intermediate", keyType: "ecdsa" } });
    expect(chain.generated).toEqual(["variant with-intermediate ecdsa"]);
    expect((await ensurePki({ cacheDir, servers: { receiver: { names: NAMES } } })).generated).toEqual(["server receiver"]);
    expect((await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "unknown-ca" } })).generated).toEqual([
      "unknown ca",
      "variant unknown-ca rsa",
    ]);
    // Self-signed needs no CA at all.
    const other = await fs.mkdtemp(path.join(os.tmpdir(), "starttls-lab-variants-cache-"));
    try {
      const selfSigned = await ensureServerVariant({ cacheDir: other, spec: { names: NAMES, variant: "self-signed" } });
      expect(selfSigned.generated).toEqual(["variant self-signed rsa"]);
    } finally {
      await fs.rm(other, { recursive: true, force: true });
    }
  });

  it("warm for every variant and key type", async () => {
    const all = CERTIFICATE_VARIANTS.flatMap((variant) => KEY_TYPES.map((keyType) => ({ names: NAMES, variant, keyType })));
    for (const spec of all) await ensureServerVariant({ cacheDir, spec });
    for (const spec of all) expect((await ensureServerVariant({ cacheDir, spec })).generated).toEqual([]);
  });

  it("keys the entry on the spec: names, key type and variant each matter", async () => {
    const base = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "valid" } });
    const renamed = await ensureServerVariant({ cacheDir, spec: { names: ["iroco.test"], variant: "valid" } });
    const ec = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "valid", keyType: "ecdsa" } });
    const expired = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "expired" } });
    const files = [base, renamed, ec, expired].map((v) => v.certFile);
    expect(new Set(files).size).toBe(4);
    expect(renamed.generated).toEqual(["variant valid rsa"]);
  });

  it("a new harness root reissues the leaves it signed", async () => {
    const first = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "with-intermediate" } });
    await fs.rm(path.join(cacheDir, "ca"), { recursive: true });
    const second = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "with-intermediate" } });
    expect(second.generated).toEqual(["ca", "intermediate ca", "variant with-intermediate rsa"]);
    expect(second.certSha256.postfix).not.toBe(first.certSha256.postfix);
    const caFileNow = path.join(cacheDir, "ca", "cert.pem");
    const [leaf, intermediate] = splitPem(second.certPem);
    const leafFile = path.join(cacheDir, "leaf.pem");
    const chainFile = path.join(cacheDir, "chain.pem");
    await fs.writeFile(leafFile, leaf!);
    await fs.writeFile(chainFile, intermediate!);
    expect(await verify(caFileNow, leafFile, chainFile)).toMatchObject({ ok: true });
  });

  it("expired and not-yet-valid stay broken relative to `now`: a new UTC day, a new certificate", async () => {
    const today = new Date();
    for (const variant of ["expired", "not-yet-valid"] as const) {
      const first = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant }, now: today });
      expect((await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant }, now: today })).generated).toEqual([]);
      for (const days of [2, 45, 400]) {
        const later = new Date(today.getTime() + days * DAY);
        const again = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant }, now: later });
        expect(again.generated).toEqual([`variant ${variant} rsa`]);
        expect(again.certFile).not.toBe(first.certFile);
        const leaf = new X509Certificate(again.certPem);
        if (variant === "expired") expect(new Date(leaf.validTo).getTime()).toBeLessThan(later.getTime());
        else expect(new Date(leaf.validFrom).getTime()).toBeGreaterThan(later.getTime());
      }
    }
  });

  it("replaces a damaged entry and tightens a loosened key", async () => {
    const first = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "self-signed", keyType: "ecdsa" } });
    await fs.chmod(first.keyFile, 0o644);
    const second = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "self-signed", keyType: "ecdsa" } });
    expect(second.generated).toEqual([]);
    expect((await fs.stat(second.keyFile)).mode & 0o777).toBe(0o600);
    await fs.writeFile(first.certFile, "garbage\n");
    const third = await ensureServerVariant({ cacheDir, spec: { names: NAMES, variant: "self-signed", keyType: "ecdsa" } });
    expect(third.generated).toEqual(["variant self-signed ecdsa"]);
    expect(await fs.readFile(third.certFile, "utf8")).toBe(third.certPem);
  });

  it("lets concurrent callers agree on one intermediate and one leaf", async () => {
    const spec = { names: NAMES, variant: "with-intermediate" as const, keyType: "ecdsa" as const };
    const results = await Promise.all(Array.from({ length: 4 }, () => ensureServerVariant({ cacheDir, spec })));
    const onDisk = await fs.readFile(results[0]!.certFile, "utf8");
    for (const r of results) expect(r.certPem).toBe(onDisk);
    expect(results.flatMap((r) => r.generated).filter((g) => g === "intermediate ca")).toHaveLength(1);
    const leftovers = (await fs.readdir(cacheDir, { recursive: true })).filter((f) => /\.tmp-|\.evicted-/.test(f));
    expect(leftovers).toEqual([]);
  });

  const bad: [string, unknown, RegExp][] = [
    ["an unknown variant", { names: NAMES, variant: "revoked" }, /unknown certificate variant "revoked"; expected one of valid, expired/],
    ["an unknown key type", { names: NAMES, variant: "valid", keyType: "dsa" }, /unknown key type "dsa"; expected one of rsa, ecdsa/],
    ["empty names", { names: [], variant: "valid" }, /variant "valid": `names` is empty/],
    ["an uppercase name", { names: ["MX.iroco.test"], variant: "expired" }, /must be lowercase: write "mx\.iroco\.test"/],
    ["no spec", undefined, /`spec` must be an object/],
  ];
  it.each(bad)("rejects %s with a clear message and writes nothing", async (_label, spec, message) => {
    await expect(ensureServerVariant({ cacheDir, spec: spec as never })).rejects.toThrow(message);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });
});

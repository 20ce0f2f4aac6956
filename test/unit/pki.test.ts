import { execFile } from "node:child_process";
import { createPublicKey, X509Certificate } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensurePki, type WorldPki } from "../../src/pki/index.js";
import { issueCertificate } from "../../src/pki/issue.js";

const run = promisify(execFile);

const SERVERS = {
  sender: { names: ["smtp.infomaniak.test", "imap.infomaniak.test", "infomaniak.test"] },
  receiver: { names: ["mx.iroco.test", "iroco.test"] },
};

let cacheDir: string;

beforeEach(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "starttls-lab-pki-"));
});

afterEach(async () => {
  await fs.rm(cacheDir, { recursive: true, force: true });
});

async function snapshot(pki: WorldPki): Promise<Record<string, string>> {
  const files = [pki.caCertFile, ...Object.values(pki.servers).flatMap((s) => [s.certFile, s.keyFile])];
  const entries = await Promise.all(files.map(async (f) => [f, await fs.readFile(f, "utf8")] as const));
  return Object.fromEntries(entries);
}

describe("ensurePki: certificates", () => {
  it("issues leaves that chain to the CA, per node:crypto", async () => {
    const pki = await ensurePki({ cacheDir, servers: SERVERS });
    expect(pki.generated).toEqual(["ca", "server sender", "server receiver"]);

    const ca = new X509Certificate(pki.caCertPem);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe("CN=starttls-lab test CA");
    expect(ca.verify(ca.publicKey)).toBe(true);

    for (const [key, server] of Object.entries(pki.servers)) {
      const leaf = new X509Certificate(server.certPem);
      expect(server.names).toEqual(SERVERS[key as keyof typeof SERVERS].names);
      expect(leaf.subject).toBe(`CN=${server.names[0]}`);
      expect(leaf.ca).toBe(false);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkIssued(ca)).toBe(true);
      for (const name of server.names) expect(leaf.checkHost(name)).toBe(name);
      expect(leaf.checkHost("other.test")).toBeUndefined();
      expect(leaf.subjectAltName).toBe(server.names.map((n) => `DNS:${n}`).join(", "));
      // Postfix sends exactly this file; the root stays with the clients.
      expect(server.certPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    }
  });

  it("signs with SHA-256 and sets the expected extensions and dates, per OpenSSL", async () => {
    const now = new Date();
    const pki = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    const server = pki.servers.receiver;

    const caText = (await run("openssl", ["x509", "-noout", "-text", "-in", pki.caCertFile])).stdout;
    expect(caText).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(caText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(caText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
    expect(caSki).toBeDefined();

    const leafText = (await run("openssl", ["x509", "-noout", "-text", "-in", server.certFile])).stdout;
    expect(leafText).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(leafText).toMatch(/Public-Key: \(2048 bit\)/);
    expect(leafText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(leafText).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(leafText).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(leafText).toMatch(/DNS:mx\.iroco\.test, DNS:iroco\.test/);
    expect(/Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(leafText)?.[1]).toBe(caSki);

    const serial = (await run("openssl", ["x509", "-noout", "-serial", "-in", server.certFile])).stdout;
    expect(serial.trim()).toMatch(/^serial=[4-7][0-9A-F]{31}$/);

    const day = 24 * 60 * 60 * 1000;
    const leaf = new X509Certificate(server.certPem);
    expect(Math.abs(new Date(leaf.validFrom).getTime() - (now.getTime() - day))).toBeLessThan(60_000);
    // As a public CA issues today: at most 200 days, counting notAfter's own second (CA/Browser Forum, March 2026).
    const lifeMs = new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime();
    expect(lifeMs + 1000).toBeLessThanOrEqual(200 * day);
    expect(lifeMs).toBe(199 * day);
    const ca = new X509Certificate(pki.caCertPem);
    expect(new Date(ca.validTo).getUTCFullYear() - new Date(ca.validFrom).getUTCFullYear()).toBe(10);
  });

  it("passes `openssl verify` and each key matches its certificate", async () => {
    const pki = await ensurePki({ cacheDir, servers: SERVERS });
    for (const server of Object.values(pki.servers)) {
      const { stdout } = await run("openssl", ["verify", "-CAfile", pki.caCertFile, server.certFile]);
      expect(stdout.trim()).toBe(`${server.certFile}: OK`);
      // Also with the hostname check OpenSSL's TLS clients perform.
      await run("openssl", ["verify", "-CAfile", pki.caCertFile, "-verify_hostname", server.names.at(-1)!, server.certFile]);

      const fromKey = createPublicKey(await fs.readFile(server.keyFile, "utf8")).export({ type: "spki", format: "der" });
      const fromCert = new X509Certificate(await fs.readFile(server.certFile)).publicKey.export({ type: "spki", format: "der" });
      expect(fromKey.equals(fromCert)).toBe(true);
    }
  });

  it("rejects a certificate for a name it does not carry", async () => {
    const pki = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    const result = run("openssl", ["verify", "-CAfile", pki.caCertFile, "-verify_hostname", "mx.other.test", pki.servers.receiver.certFile]);
    await expect(result).rejects.toThrow(/hostname mismatch/);
  });
});

describe("ensurePki: files on disk", () => {
  it("writes absolute paths matching the returned PEMs, keys with mode 0600", async () => {
    const pki = await ensurePki({ cacheDir, servers: SERVERS });
    expect(path.isAbsolute(pki.caCertFile)).toBe(true);
    expect(await fs.readFile(pki.caCertFile, "utf8")).toBe(pki.caCertPem);
    const keyFiles = [path.join(path.dirname(pki.caCertFile), "key.pem")];
    for (const server of Object.values(pki.servers)) {
      expect(path.isAbsolute(server.certFile) && path.isAbsolute(server.keyFile)).toBe(true);
      expect(await fs.readFile(server.certFile, "utf8")).toBe(server.certPem);
      expect(await fs.readFile(server.keyFile, "utf8")).toBe(server.keyPem);
      keyFiles.push(server.keyFile);
    }
    for (const keyFile of keyFiles) {
      expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600);
    }
    // No temp or evicted folders left behind.
    const leftovers = (await fs.readdir(cacheDir, { recursive: true })).filter((f) => /\.tmp-|\.evicted-/.test(f));
    expect(leftovers).toEqual([]);
  });

  it("keeps key files 0600 whatever the umask", async () => {
    const previous = process.umask(0o000);
    try {
      const pki = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
      expect((await fs.stat(pki.servers.receiver.keyFile)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it("tightens a cached key file whose mode was loosened", async () => {
    const first = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    await fs.chmod(first.servers.receiver.keyFile, 0o644);
    const second = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    expect(second.generated).toEqual([]);
    expect((await fs.stat(second.servers.receiver.keyFile)).mode & 0o777).toBe(0o600);
  });
});

describe("ensurePki: cache", () => {
  it("generates nothing on a warm cache and leaves the bytes alone", async () => {
    const first = await ensurePki({ cacheDir, servers: SERVERS });
    const before = await snapshot(first);
    const second = await ensurePki({ cacheDir, servers: SERVERS });
    expect(second.generated).toEqual([]);
    expect(second).toEqual({ ...first, generated: [] });
    expect(await snapshot(second)).toEqual(before);
  });

  it("regenerates only the server whose names changed", async () => {
    const first = await ensurePki({ cacheDir, servers: SERVERS });
    const changed = { ...SERVERS, receiver: { names: ["mx.iroco.test", "iroco.test", "other.test"] } };
    const second = await ensurePki({ cacheDir, servers: changed });
    expect(second.generated).toEqual(["server receiver"]);
    expect(second.caCertPem).toBe(first.caCertPem);
    expect(second.servers.sender).toEqual(first.servers.sender);
    expect(second.servers.receiver.certFile).not.toBe(first.servers.receiver.certFile);
    expect(new X509Certificate(second.servers.receiver.certPem).checkHost("other.test")).toBe("other.test");
    // The names' order matters too: names[0] is the CN.
    const reordered = { ...SERVERS, receiver: { names: ["iroco.test", "mx.iroco.test"] } };
    expect((await ensurePki({ cacheDir, servers: reordered })).generated).toEqual(["server receiver"]);
  });

  it("renews a leaf once a third of its life is left, well before it expires, keeping the CA", async () => {
    const day = 24 * 60 * 60 * 1000;
    const first = await ensurePki({ cacheDir, servers: SERVERS });
    const leaf = new X509Certificate(first.servers.sender.certPem);
    const [from, to] = [new Date(leaf.validFrom).getTime(), new Date(leaf.validTo).getTime()];
    const renewalDue = to - (to - from) / 3;

    const beforeDue = await ensurePki({ cacheDir, servers: SERVERS, now: new Date(renewalDue - day) });
    expect(beforeDue.generated).toEqual([]);
    const afterDue = new Date(renewalDue + day);
    const renewed = await ensurePki({ cacheDir, servers: SERVERS, now: afterDue });
    expect(renewed.generated).toEqual(["server sender", "server receiver"]);
    expect(renewed.caCertPem).toBe(first.caCertPem);
    // Renewed with more than two months to go.
    expect(to - afterDue.getTime()).toBeGreaterThan(60 * day);
    expect(new Date(new X509Certificate(renewed.servers.sender.certPem).validTo).getTime()).toBeGreaterThan(to);
  });

  it("replaces a cached leaf that lives longer than a CA issues today (the 825 days of earlier versions)", async () => {
    const day = 24 * 60 * 60 * 1000;
    const first = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    const server = first.servers.receiver;
    const caKeyPem = await fs.readFile(path.join(path.dirname(first.caCertFile), "key.pem"), "utf8");
    const now = Date.now();
    const longLived = await issueCertificate({
      subjectCN: server.names[0]!,
      keyPem: server.keyPem,
      notBefore: new Date(now - day),
      notAfter: new Date(now + 825 * day),
      profile: { kind: "leaf", names: server.names },
      issuer: { certPem: first.caCertPem, keyPem: caKeyPem },
    });
    await fs.writeFile(server.certFile, longLived);

    const second = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    expect(second.generated).toEqual(["server receiver"]);
    const leaf = new X509Certificate(second.servers.receiver.certPem);
    expect(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime()).toBe(199 * day);
  });

  it("replaces a damaged entry", async () => {
    const first = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    await fs.writeFile(first.servers.receiver.certFile, "garbage\n");
    const second = await ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } });
    expect(second.generated).toEqual(["server receiver"]);
    expect(await fs.readFile(second.servers.receiver.certFile, "utf8")).toBe(second.servers.receiver.certPem);
  });

  it("lets concurrent callers agree on one CA and one leaf", async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => ensurePki({ cacheDir, servers: { receiver: SERVERS.receiver } })),
    );
    const onDisk = await snapshot(results[0]!);
    for (const pki of results) {
      expect(pki.caCertPem).toBe(onDisk[pki.caCertFile]);
      expect(pki.servers.receiver.certPem).toBe(onDisk[pki.servers.receiver.certFile]);
      expect(pki.servers.receiver.keyPem).toBe(onDisk[pki.servers.receiver.keyFile]);
    }
    expect(results.flatMap((r) => r.generated).filter((g) => g === "ca")).toHaveLength(1);
  });
});

describe("ensurePki: input validation", () => {
  const cases: [string, unknown, RegExp][] = [
    ["empty list", [], /server "bad": `names` is empty/],
    ["uppercase", ["MX.iroco.test"], /must be lowercase: write "mx\.iroco\.test"/],
    ["empty string", [""], /names\[0\] "" is not a valid lowercase DNS name: the name is empty/],
    ["underscore", ["mx_1.iroco.test"], /label "mx_1"/],
    ["leading hyphen", ["-mx.iroco.test"], /label "-mx"/],
    ["double dot", ["mx..iroco.test"], /empty label/],
    ["trailing dot", ["mx.iroco.test."], /trailing dot/],
    ["wildcard", ["*.iroco.test"], /label "\*"/],
    ["space", ["mx iroco.test"], /label "mx iroco"/],
    ["duplicate", ["iroco.test", "iroco.test"], /names\[1\] "iroco\.test" is listed twice/],
    ["not a string", [42], /names\[0\] 42 .*expected a string/],
    ["not an array", "iroco.test", /`names` must be an array/],
  ];
  it.each(cases)("rejects %s with a clear message and writes nothing", async (_label, names, message) => {
    const servers = { good: SERVERS.receiver, bad: { names } } as unknown as Record<string, { names: string[] }>;
    await expect(ensurePki({ cacheDir, servers })).rejects.toThrow(message);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });
});

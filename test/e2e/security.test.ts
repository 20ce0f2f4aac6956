/**
 * Security properties of the test world itself (DESIGN.md, "Reliability":
 * neither provider is an open relay; submission needs AUTH over TLS), checked
 * against the real Postfix and Dovecot over the ports the world publishes on
 * 127.0.0.1. One world for the file; the scenarios at the end reset both
 * providers to their baseline.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { expect } from "vitest";
import { explainResult } from "../../src/report/explain.js";
import { runScenario, scenarioFromYaml, worldTest as test } from "../../src/vitest.js";
import type { StartedProvider as Provider } from "../../src/world/world.js";
import type { MailWorld } from "../../src/world/world.js";
import { defaultCacheDir } from "../../src/world/world.js";
import { authPlain, clientOffersVersion, ehloKeywords, handshakeOutcome, SmtpClient, tlsConnect, type HandshakeOutcome } from "./helpers/security.js";

const ROLES = ["sender", "receiver"] as const;
const HOST = "127.0.0.1";
const ALICE = "alice@infomaniak.test";

function tlsOptions(world: MailWorld, servername: string) {
  return { ca: world.caCertPem, servername };
}

/** EHLO over a fresh plain connection to port 25; the client is left open. */
async function plainEhlo(provider: Provider) {
  const { client, greeting } = await SmtpClient.plain(provider.smtpPort);
  expect(greeting.code, greeting.text).toBe(220);
  const ehlo = await client.send("EHLO security-test.invalid");
  expect(ehlo.code, ehlo.text).toBe(250);
  return { client, ehlo };
}

/** Port 25, STARTTLS, then EHLO again over TLS; the client is left open. */
async function startTlsEhlo(world: MailWorld, provider: Provider) {
  const { client, ehlo } = await plainEhlo(provider);
  expect(ehloKeywords(ehlo)).toContain("STARTTLS");
  const ready = await client.send("STARTTLS");
  expect(ready.code, ready.text).toBe(220);
  const secure = await client.upgrade(tlsOptions(world, provider.identity.smtpHost));
  expect(secure.authorized).toBe(true);
  const again = await client.send("EHLO security-test.invalid");
  expect(again.code, again.text).toBe(250);
  return { client, ehlo: again };
}

/** Implicit TLS on 465, EHLO; the client is left open. */
async function submissionsEhlo(world: MailWorld, provider: Provider) {
  const { client, tls, greeting } = await SmtpClient.implicitTls(provider.submissionsPort, {
    ...tlsOptions(world, provider.identity.smtpHost),
  });
  expect(tls.authorized).toBe(true);
  expect(greeting.code, greeting.text).toBe(220);
  const ehlo = await client.send("EHLO security-test.invalid");
  expect(ehlo.code, ehlo.text).toBe(250);
  return { client, ehlo };
}

async function expectNothingQueued(world: MailWorld): Promise<void> {
  for (const role of ROLES) {
    expect(await world.postfix(role, "this test").queueJson(), `${role} queue`).toBe("");
  }
}

// ── 1. Submission needs AUTH over TLS ────────────────────────────────────────

test("no AUTH without TLS: port 25 in plaintext offers no AUTH and refuses Alice's real credentials", async ({ world }) => {
  for (const role of ROLES) {
    const provider = world.postfix(role, "this test");
    const { client, ehlo } = await plainEhlo(provider);
    try {
      expect(ehloKeywords(ehlo), `${role} EHLO in plaintext`).not.toContain("AUTH");
      expect(ehlo.text).not.toMatch(/AUTH[ =]/i);
      const auth = await client.send(authPlain(ALICE, world.sender.password));
      expect(auth.code, `${role}: ${auth.text}`).toBeGreaterThanOrEqual(500);
      expect(auth.code, `${role}: ${auth.text}`).toBeLessThan(600);
    } finally {
      await client.close();
    }
  }
});

test("no AUTH on port 25 even after STARTTLS: submission happens on 465 only", async ({ world }) => {
  for (const role of ROLES) {
    const provider = world.postfix(role, "this test");
    const { client, ehlo } = await startTlsEhlo(world, provider);
    try {
      expect(ehloKeywords(ehlo), `${role} EHLO after STARTTLS`).not.toContain("AUTH");
      const auth = await client.send(authPlain(ALICE, world.sender.password));
      expect(auth.code, `${role}: ${auth.text}`).toBeGreaterThanOrEqual(500);
      expect(auth.code, `${role}: ${auth.text}`).toBeLessThan(600);
    } finally {
      await client.close();
    }
  }
});

test("port 465 (implicit TLS) offers AUTH, refuses a wrong password with 535 and accepts the right one", async ({ world }) => {
  for (const role of ROLES) {
    const provider = world.postfix(role, "this test");
    const user = provider.identity.mailbox;
    {
      const { client, ehlo } = await submissionsEhlo(world, provider);
      try {
        const authLine = ehlo.lines.find((line) => /^AUTH\b/i.test(line));
        expect(authLine, `${role} EHLO on 465:\n${ehlo.text}`).toBeDefined();
        expect(authLine).toMatch(/\bPLAIN\b/);
        const wrong = await client.send(authPlain(user, `${provider.password}-wrong`));
        expect(wrong.code, `${role}: ${wrong.text}`).toBe(535);
        expect(wrong.text).toMatch(/^535 5\.7\.8 /);
      } finally {
        await client.close();
      }
    }
    {
      // Control: the real password succeeds, so the 535 above is about the password.
      // (Dovecot delays logins from an address after a failure, about 4 s here; this
      // success also lifts that penalty for Alice's logins in the later tests.)
      const { client } = await submissionsEhlo(world, provider);
      try {
        const right = await client.send(authPlain(user, provider.password));
        expect(right.code, `${role}: ${right.text}`).toBe(235);
      } finally {
        await client.close();
      }
    }
  }
});

// ── 2. Neither provider is an open relay ─────────────────────────────────────

test("neither provider is an open relay: no AUTH on 465 means no recipient at all", async ({ world }) => {
  for (const role of ROLES) {
    const provider = world.postfix(role, "this test");
    for (const recipient of ["bob@iroco.test", ALICE, "carol@example.com"]) {
      const { client } = await submissionsEhlo(world, provider);
      try {
        const from = await client.send(`MAIL FROM:<${ALICE}>`);
        expect(from.code, from.text).toBe(250);
        const rcpt = await client.send(`RCPT TO:<${recipient}>`);
        expect(rcpt.text, `${role} 465 → ${recipient}`).toMatch(/^554 5\.7\.1 .*(Relay access denied|Access denied)/);
      } finally {
        await client.close();
      }
    }
  }
  await expectNothingQueued(world);
});

test("neither provider is an open relay: port 25 without AUTH refuses other domains at RCPT time", async ({ world }) => {
  const cases: Array<{ role: (typeof ROLES)[number]; recipient: string }> = [
    { role: "sender", recipient: "bob@iroco.test" },
    { role: "sender", recipient: "carol@example.com" },
    { role: "receiver", recipient: "carol@infomaniak.test" },
    { role: "receiver", recipient: "carol@example.com" },
    // Source-routed form: Postfix strips the route, the recipient is still foreign.
    { role: "receiver", recipient: "@mx.iroco.test:carol@example.com" },
  ];
  for (const { role, recipient } of cases) {
    const { client } = await plainEhlo(world.postfix(role, "this test"));
    try {
      const from = await client.send("MAIL FROM:<mallory@iroco.test>");
      expect(from.code, from.text).toBe(250);
      const rcpt = await client.send(`RCPT TO:<${recipient}>`);
      expect(rcpt.text, `${role} 25 → ${recipient}`).toMatch(/^554 5\.7\.1 .*Relay access denied/);
    } finally {
      await client.close();
    }
  }
  await expectNothingQueued(world);
});

test("port 25 refuses relay tricks that hide a foreign domain behind a local one", async ({ world }) => {
  // The percent hack and a bang path aimed at the receiver's own domain: Postfix
  // must not turn them into relaying (they are unknown local users at worst).
  for (const recipient of ["carol%example.com@iroco.test", "example.com!carol@iroco.test"]) {
    const { client } = await plainEhlo(world.receiver);
    try {
      expect((await client.send("MAIL FROM:<mallory@iroco.test>")).code).toBe(250);
      const rcpt = await client.send(`RCPT TO:<${recipient}>`);
      expect(rcpt.code, `${recipient}: ${rcpt.text}`).toBeGreaterThanOrEqual(500);
      expect(rcpt.code, `${recipient}: ${rcpt.text}`).toBeLessThan(600);
    } finally {
      await client.close();
    }
  }
  // Control: the receiver does accept its own user on port 25 (that is its job);
  // the session ends before DATA so nothing is queued.
  const { client } = await plainEhlo(world.receiver);
  try {
    expect((await client.send("MAIL FROM:<mallory@iroco.test>")).code).toBe(250);
    const rcpt = await client.send("RCPT TO:<bob@iroco.test>");
    expect(rcpt.code, rcpt.text).toBe(250);
  } finally {
    await client.close();
  }
  await expectNothingQueued(world);
});

// ── 3. Old TLS refused by default ────────────────────────────────────────────

const OLD = ["TLSv1", "TLSv1.1"] as const;
const CURRENT = ["TLSv1.2", "TLSv1.3"] as const;
type Version = (typeof OLD)[number] | (typeof CURRENT)[number];

function versionOptions(version: Version) {
  // OpenSSL 3's default security level forbids TLS 1.0/1.1 in the client itself;
  // level 0 makes Node offer them, so the refusal comes from the server.
  return { minVersion: version, maxVersion: version, ciphers: "DEFAULT@SECLEVEL=0" } as const;
}

interface Endpoint {
  name: string;
  provider: Provider;
  attempt: (version: Version) => Promise<HandshakeOutcome>;
  /** The server's own log line for a refused protocol version (OpenSSL 3: 0A000102 "unsupported protocol"). */
  refusal: RegExp;
}

function endpoints(world: MailWorld): Endpoint[] {
  return ROLES.flatMap((role): Endpoint[] => {
    const provider = world.postfix(role, "this test");
    const { smtpHost, imapHost } = provider.identity;
    return [
      {
        name: `${role} 465 (SMTPS)`,
        provider,
        refusal: /postfix\/submissions\/smtpd\[\d+\]: warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol/,
        attempt: (version) =>
          handshakeOutcome(tlsConnect({ host: HOST, port: provider.submissionsPort, ...tlsOptions(world, smtpHost), ...versionOptions(version) })),
      },
      {
        name: `${role} 993 (IMAPS)`,
        provider,
        refusal: /imap-login: .*SSL_accept\(\) failed: error:0A000102:SSL routines::unsupported protocol/,
        attempt: (version) =>
          handshakeOutcome(tlsConnect({ host: HOST, port: provider.imapsPort, ...tlsOptions(world, imapHost), ...versionOptions(version) })),
      },
      {
        name: `${role} 25 (STARTTLS)`,
        provider,
        refusal: /postfix\/smtpd\[\d+\]: warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol/,
        attempt: async (version) => {
          const { client, ehlo } = await plainEhlo(provider);
          expect(ehloKeywords(ehlo)).toContain("STARTTLS");
          const ready = await client.send("STARTTLS");
          expect(ready.code, ready.text).toBe(220);
          const outcome = await handshakeOutcome(client.upgrade({ ...tlsOptions(world, smtpHost), ...versionOptions(version) }));
          await client.close();
          return outcome;
        },
      },
    ];
  });
}

test("the client used for the old-TLS checks really offers TLS 1.0 and 1.1 (in-memory control)", async ({ world }) => {
  for (const version of [...OLD, ...CURRENT]) {
    const outcome = await clientOffersVersion(versionOptions(version), world.sender.credentials);
    expect(outcome, version).toEqual({ ok: true, protocol: version });
  }
});

test("TLS 1.0 and 1.1 are refused on 465, 993 and STARTTLS on 25 of both providers", async ({ world }) => {
  for (const endpoint of endpoints(world)) {
    // Whether this endpoint's Dovecot (2.3) drops the protocol_version alert that 2.4 sends: asked once.
    const dovecot23 = /^2\.3\./.test((await endpoint.provider.run(["dovecot", "--version"])).stdout.trim());
    for (const version of OLD) {
      const cursor = endpoint.provider.log.cursor;
      const outcome = await endpoint.attempt(version);
      expect(outcome.ok, `${endpoint.name} ${version}`).toBe(false);
      if (outcome.ok) continue;
      // Postfix answers the ClientHello with a protocol_version alert (70);
      // Dovecot 2.3 closes the connection without flushing that alert, 2.4 sends it.
      expect(outcome.code, `${endpoint.name} ${version}: ${outcome.message}`).toBe(
        endpoint.name.includes("993") && dovecot23 ? "ECONNRESET" : "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
      );
      // Either way the server says why: OpenSSL refused the protocol version.
      await endpoint.provider.log.waitFor((line) => endpoint.refusal.test(line), {
        from: cursor,
        timeoutMs: 10_000,
        what: `the ${endpoint.name} refusal of ${version}`,
      });
    }
  }
});

test("TLS 1.2 and 1.3 are accepted (certificate verified) on 465, 993 and STARTTLS on 25 of both providers", async ({ world }) => {
  for (const endpoint of endpoints(world)) {
    for (const version of CURRENT) {
      const outcome = await endpoint.attempt(version);
      expect(outcome, `${endpoint.name} ${version}`).toEqual({ ok: true, protocol: version });
    }
  }
});

// ── 4. Keys and containers ───────────────────────────────────────────────────

/** The harness's cache of certificates and keys, as this world used it: keyFile is <pki>/variants/<hash>/key.pem. */
function pkiRootOf(world: MailWorld): string {
  return path.dirname(path.dirname(path.dirname(world.sender.credentials.keyFile)));
}

/** The base64 body of a PEM block, to look for the key itself rather than its header. */
function pemBody(pem: string): string {
  return pem
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("-----"))
    .join("");
}

test("inside each container the private keys are mode 600 and no CA key is among them", async ({ world }) => {
  // Keys of the harness's authorities (<pki>/ca, unknown-ca, intermediate-ca…): they sign, servers never hold them.
  const pkiRoot = pkiRootOf(world);
  const authorityKeys: string[] = [];
  for (const entry of await fs.readdir(pkiRoot, { withFileTypes: true })) {
    if (!entry.isDirectory() || !/(^|-)ca$/.test(entry.name)) continue;
    const keyFile = path.join(pkiRoot, entry.name, "key.pem");
    authorityKeys.push(pemBody(await fs.readFile(keyFile, "utf8").catch(() => "")));
  }
  expect(authorityKeys.filter((body) => body !== "").length, "the root CA key in the cache").toBeGreaterThan(0);

  for (const role of ROLES) {
    const provider = world.postfix(role, "this test");
    const stat = await provider.exec(["stat", "-c", "%a %U", "/etc/starttls-lab/tls/server.key"]);
    expect(stat.exitCode, stat.output).toBe(0);
    expect(stat.stdout.trim(), role).toBe("600 root");

    const found = await provider.exec(["grep", "-rl", "PRIVATE KEY", "/etc/starttls-lab", "/etc/postfix", "/etc/dovecot"]);
    const keyFiles = found.stdout.trim().split("\n").filter((line) => line !== "");
    expect(keyFiles, role).toContain("/etc/starttls-lab/tls/server.key");
    for (const file of keyFiles) {
      expect(file, `${role}: a private key outside a .key file`).toMatch(/\.key$/);
      const mode = await provider.exec(["stat", "-c", "%a %U", file]);
      expect(mode.stdout.trim(), `${role} ${file}`).toBe("600 root");
      const content = await provider.exec(["cat", file]);
      const body = pemBody(content.stdout);
      expect(body.length, `${role} ${file}`).toBeGreaterThan(100);
      for (const authority of authorityKeys.filter((key) => key !== "")) {
        expect(body === authority, `${role} ${file} holds a CA's private key`).toBe(false);
      }
    }
  }
});

async function keyFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await keyFilesUnder(full)));
    else if (entry.name.endsWith(".key") || entry.name === "key.pem") found.push(full);
  }
  return found;
}

test("the harness's cached private keys are mode 0600", async ({ world }) => {
  const pkiRoot = pkiRootOf(world);
  expect(pkiRoot).toBe(path.resolve(defaultCacheDir(), "pki"));
  const keys = await keyFilesUnder(pkiRoot);
  expect(keys).toContain(path.join(pkiRoot, "ca", "key.pem"));
  expect(keys).toContain(world.sender.credentials.keyFile);
  expect(keys).toContain(world.receiver.credentials.keyFile);
  for (const file of keys) {
    const mode = (await fs.stat(file)).mode & 0o777;
    expect(mode.toString(8), file).toBe("600");
  }
  expect(((await fs.stat(pkiRoot)).mode & 0o077).toString(8), `${pkiRoot} is open to group/others`).toBe("0");
});

test("containers are unprivileged, mount nothing from the host, publish on 127.0.0.1 only and sit on the world's network only", async ({ world }) => {
  const docker = new Docker();
  for (const role of ROLES) {
    const info = await docker.getContainer(world.postfix(role, "this test").getId()).inspect();
    const host = info.HostConfig;
    expect(host.Privileged, role).toBe(false);
    expect(host.Binds ?? [], role).toEqual([]);
    expect(info.Mounts.filter((mount) => mount.Type === "bind"), role).toEqual([]);
    expect(info.Mounts, role).toEqual([]);
    expect(host.CapAdd ?? [], role).toEqual([]);
    expect(host.NetworkMode, role).toBe(world.networkName);
    expect(host.PidMode ?? "", role).not.toBe("host");
    expect(host.IpcMode ?? "", role).not.toBe("host");

    const published = Object.entries(info.NetworkSettings.Ports ?? {}).flatMap(([port, bindings]) =>
      (bindings ?? []).map((binding) => ({ port, hostIp: binding.HostIp })),
    );
    expect(published.map((p) => p.port).sort(), role).toEqual(expect.arrayContaining(["25/tcp", "465/tcp", "993/tcp"]));
    for (const binding of published) expect(binding.hostIp, `${role} ${binding.port}`).toBe("127.0.0.1");
    for (const bindings of Object.values(host.PortBindings ?? {}) as Array<Array<{ HostIp?: string }>>) {
      for (const binding of bindings) expect(binding.HostIp, role).toBe("127.0.0.1");
    }

    expect(Object.keys(info.NetworkSettings.Networks), role).toEqual([world.networkName]);
  }
});

// ── 5. Nothing leaves the world ──────────────────────────────────────────────

test("nothing leaves the world: mail to example.com is refused with the error transport's text", async ({ world }) => {
  const result = await runScenario(
    world,
    scenarioFromYaml(`
      name: Mail to a domain outside the test world never leaves it
      message:
        to: carol@example.com
      expect:
        outcome: rejected
        reason: "550 5.1.2 <carol@example.com>: Recipient address rejected: starttls-lab: only the test world's domains are reachable"
    `),
  );
  expect(result.error).toBeUndefined();
  expect(result.observation?.outcome).toBe("rejected");
  expect(result.observation?.reason).toContain("starttls-lab: only the test world's domains are reachable");
  expect(result.verdict.passed).toBe(true);
  await expectNothingQueued(world);

  for (const role of ROLES) {
    const table = await world.postfix(role, "this test").exec(["cat", "/etc/starttls-lab/transport"]);
    expect(table.exitCode, table.output).toBe(0);
    expect(table.stdout, role).toMatch(/^\*\terror:5\.1\.2 starttls-lab: only the test world's domains are reachable$/m);
    // Besides the catch-all, only the world's own domains, each to Dovecot or over SMTP to its MX host (looked up in DNS).
    const routes = table.stdout.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#") && !line.startsWith("*"));
    expect(routes.length, role).toBeGreaterThanOrEqual(2);
    for (const route of routes) {
      expect(route, role).toMatch(/^[a-z]+\.test\t(lmtp:unix:private\/dovecot-lmtp|smtp:)$/);
    }
  }
  const transport = await world.sender.exec(["postconf", "-h", "transport_maps"]);
  expect(transport.stdout.trim()).toBe("texthash:/etc/starttls-lab/transport");
});

// ── 6. Private keys are never printed ────────────────────────────────────────

test("private keys are never printed: not in the providers' logs, not in an explain run", async ({ world }) => {
  const result = await runScenario(
    world,
    scenarioFromYaml(`
      name: Alice writes to Bob over TLS
      sender: { postconf: { smtp_tls_security_level: verify } }
      expect: { outcome: delivered, transport: tls, tls: { trust: verified } }
    `),
  );
  expect(result.error).toBeUndefined();
  expect(result.verdict.passed).toBe(true);
  const explained = explainResult(result);
  expect(explained).toContain("TLS connection established");
  expect(explained).not.toContain("PRIVATE KEY");
  expect(JSON.stringify(result)).not.toContain("PRIVATE KEY");
  for (const role of ROLES) {
    const lines = world.postfix(role, "this test").log.since(0);
    expect(lines.length, role).toBeGreaterThan(0);
    expect(lines.join("\n"), role).not.toContain("PRIVATE KEY");
    expect(lines.join("\n"), role).not.toContain(world.postfix(role, "this test").credentials.keyPem.split("\n")[1]!);
  }
});

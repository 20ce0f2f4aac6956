/**
 * The world's DNS against real Postfix: mail is routed by MX lookup through
 * the validating resolver, which answers for the test world only.
 */
import { expect } from "vitest";
import { runScenario, scenarioFromYaml } from "../../src/vitest.js";
import { pooledWorldTest as test } from "./helpers/worldPool.js";

test("Alice's provider finds Bob's by MX lookup: no route in its transport table names a host", async ({ world }) => {
  const transport = await world.sender.exec(["cat", "/etc/starttls-lab/transport"]);
  expect(transport.output).toMatch(/^iroco\.test\tsmtp:$/m);
  expect(transport.output).not.toMatch(/\[mx\./);

  const result = await runScenario(world, scenarioFromYaml(`
    name: routed by MX
    expect: { outcome: delivered, transport: tls }
  `));
  expect(result.verdict.passed).toBe(true);
  const evidence = result.observation!.evidence;
  const dns = evidence.filter((item) => item.source === "dns-log").map((item) => item.line);
  expect(dns).toContain("dns: Alice's provider asked iroco.test. MX: NOERROR");
  expect(dns).toContain("dns: Alice's provider asked mx.iroco.test. A: NOERROR");
  const senderLog = evidence.filter((item) => item.source === "sender-log").map((item) => item.line);
  expect(senderLog.join("\n")).toContain(`relay=mx.iroco.test[${world.addresses.wire}]:25`);
});

test("the providers' resolver answers for *.test only, with DNSSEC", async ({ world }) => {
  const resolvConf = await world.sender.exec(["cat", "/etc/resolv.conf"]);
  expect(resolvConf.output).toBe(`nameserver ${world.dns.address}\noptions trust-ad\n`);
  const inWorld = await world.sender.exec(["getent", "hosts", "mx.iroco.test"]);
  expect(inWorld.output).toContain(world.addresses.wire);
  const outside = await world.sender.exec(["getent", "hosts", "example.com"]);
  expect(outside.exitCode).not.toBe(0);
  expect(outside.output).toBe("");
});

test("a TLSA record is published for the key Bob's provider presents, and follows its certificate", async ({ world }) => {
  const tlsaOf = async () => (await world.dns.exec(["kdig", "@127.0.0.1", "+short", "_25._tcp.mx.iroco.test", "TLSA"])).output.replace(/\s+/g, "").toLowerCase();
  const dane = (certificate: string) => scenarioFromYaml(`
    name: dane with ${certificate}
    sender: { postconf: { smtp_tls_security_level: dane } }
    receiver: { certificate: ${certificate}, certificateKey: ecdsa }
    expect: { outcome: delivered, transport: tls, tls: { trust: verified } }
  `);
  const first = await runScenario(world, dane("valid"));
  expect(first.verdict.passed).toBe(true);
  const pkey = world.receiver.presentedCertificate.pkeySha256.tlsa;
  expect(await tlsaOf()).toBe(`311${pkey}`);
  // An expired certificate with its own key: DANE-EE ignores dates, the new key is published.
  const second = await runScenario(world, dane("expired"));
  expect(second.verdict.passed).toBe(true);
  const expiredKey = world.receiver.presentedCertificate.pkeySha256.tlsa;
  expect(await tlsaOf()).toBe(`311${expiredKey}`);
});

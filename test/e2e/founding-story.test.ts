/**
 * The founding story against real Postfix: what happens to Alice's message
 * to Bob for the levels the support case was about. One world for the file.
 */
import { expect } from "vitest";
import { isLogEvidence } from "../../src/observe/evidence.js";
import { normalizeKeyExchange } from "../../src/observe/keyExchange.js";
import { runScenario, scenarioFromYaml } from "../../src/vitest.js";
import { pooledWorldTest as test } from "./helpers/worldPool.js";

test("sender may, receiver may: delivered over TLS, certificate trusted (chain checked, name not)", async ({ world }) => {
  const result = await runScenario(
    world,
    scenarioFromYaml(`
      name: may to may
      sender: { postconf: { smtp_tls_security_level: may } }
      receiver: { postconf: { smtpd_tls_security_level: may } }
      expect: { outcome: delivered, transport: tls, tls: { trust: trusted } }
    `),
  );
  expect(result.error).toBeUndefined();
  expect(result.observation).toMatchObject({ outcome: "delivered", transport: "tls", tls: { trust: "trusted", peerName: "mx.iroco.test" } });
  // Whatever OpenSSL negotiated, the log line it came from is in the evidence.
  const { version, cipher } = result.observation!.tls!;
  expect(version).toMatch(/^TLSv1\.[23]$/);
  const judged = result.observation!.evidence.find((item) => isLogEvidence(item) && item.event?.kind === "tlsEstablished");
  expect(judged?.source).toBe("sender-log");
  expect(judged?.line).toContain(`Trusted TLS connection established to mx.iroco.test`);
  expect(judged?.line).toContain(`${version} with cipher ${cipher}`);
  // Two witnesses of the key exchange: the sender's log and the ServerHello the wire read.
  const logged = result.observation!.tls!.keyExchange;
  const seen = result.observation!.wire?.keyExchange;
  expect(logged, "the sender's log names the key exchange of a TLS 1.3 session").toBeDefined();
  expect(seen, "the wire read the key exchange off the handshake").toBeDefined();
  expect(normalizeKeyExchange(logged!)).toBe(normalizeKeyExchange(seen!));
  expect(judged?.line).toContain(`key-exchange ${logged}`);
  expect(result.verdict.passed).toBe(true);
});

test("sender may, receiver none: delivered in plaintext (no STARTTLS on offer, may falls back)", async ({ world }) => {
  const result = await runScenario(
    world,
    scenarioFromYaml(`
      name: may to none
      sender: { postconf: { smtp_tls_security_level: may } }
      receiver: { postconf: { smtpd_tls_security_level: none } }
      expect: { outcome: delivered, transport: plaintext }
    `),
  );
  expect(result.error).toBeUndefined();
  expect(result.observation).toMatchObject({ outcome: "delivered", transport: "plaintext" });
  expect(result.observation!.tls).toBeUndefined();
  const inbox = result.observation!.evidence.filter((item) => item.source === "mailbox").map((item) => item.line);
  expect(inbox.join("\n")).toMatch(/by mx\.iroco\.test with ESMTP$/m);
  expect(result.verdict.passed).toBe(true);
});

test("the support case: sender encrypt, receiver none → deferred, held in Alice's provider's queue", async ({ world }) => {
  const result = await runScenario(
    world,
    scenarioFromYaml(`
      name: encrypt to none
      sender: { postconf: { smtp_tls_security_level: encrypt } }
      receiver: { postconf: { smtpd_tls_security_level: none } }
      expect: { outcome: deferred, reason: "TLS is required, but was not offered by host" }
    `),
  );
  expect(result.error).toBeUndefined();
  expect(result.observation?.outcome).toBe("deferred");
  expect(result.observation?.reason).toMatch(/^TLS is required, but was not offered by host mx\.iroco\.test\[/);
  expect(result.observation!.evidence.find((item) => item.source === "queue")?.line).toMatch(/^sender queue: \w+ in deferred/);
  expect(result.verdict.passed).toBe(true);
});

test("the fix: same strict sender, receiver now offers STARTTLS → delivered over TLS", async ({ world }) => {
  const result = await runScenario(
    world,
    scenarioFromYaml(`
      name: encrypt to may
      sender: { postconf: { smtp_tls_security_level: encrypt } }
      receiver: { postconf: { smtpd_tls_security_level: may } }
      expect: { outcome: delivered, transport: tls }
    `),
  );
  expect(result.error).toBeUndefined();
  expect(result.observation).toMatchObject({ outcome: "delivered", transport: "tls" });
  expect(result.verdict.passed).toBe(true);
});

test("a deferred message does not leak into the next scenario: the queue starts empty", async ({ world }) => {
  await runScenario(
    world,
    scenarioFromYaml(`
      name: leave one deferred
      sender: { postconf: { smtp_tls_security_level: encrypt } }
      receiver: { postconf: { smtpd_tls_security_level: none } }
      expect: { outcome: deferred }
    `),
  );
  expect(await world.postfix("sender", "this test").queueJson()).not.toBe("");
  const next = await runScenario(
    world,
    scenarioFromYaml(`
      name: next one delivers
      sender: { postconf: { smtp_tls_security_level: may } }
      receiver: { postconf: { smtpd_tls_security_level: may } }
      expect: { outcome: delivered, transport: tls }
    `),
  );
  expect(next.verdict.passed).toBe(true);
  expect(await world.postfix("sender", "this test").queueJson()).toBe("");
});

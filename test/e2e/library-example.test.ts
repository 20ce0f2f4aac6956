/**
 * The example from README "In your own vitest tests", as a user writes it:
 * imports come from the package name only. One world serves the whole file.
 */
import { expect } from "vitest";
import { runScenario, scenarioFromYaml, worldTest as test } from "starttls-lab/vitest";

test("our relay still uses TLS to Bob's provider", async ({ world }) => {
  const result = await runScenario(world, scenarioFromYaml(`
    name: may to may
    sender:   { postconf: { smtp_tls_security_level: may } }
    receiver: { postconf: { smtpd_tls_security_level: may } }
    expect:   { outcome: delivered, transport: tls }
  `));
  expect(result.verdict.passed).toBe(true);
  expect(result.observation?.tls?.version).toBe("TLSv1.3");
});

test("a strict sender defers rather than send in the clear", async ({ world }) => {
  const result = await runScenario(world, scenarioFromYaml(`
    name: encrypt to none
    sender:   { postconf: { smtp_tls_security_level: encrypt } }
    receiver: { postconf: { smtpd_tls_security_level: none } }
    expect:   { outcome: deferred, reason: "TLS is required, but was not offered" }
  `));
  expect(result.verdict.passed).toBe(true);
  expect(result.observation?.outcome).toBe("deferred");
});

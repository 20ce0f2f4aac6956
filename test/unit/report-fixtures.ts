/** Hand-built run results shared by the report tests (not a test file itself). */
import type { RunResult, ScenarioResult } from "../../src/core/result.js";
import { logEvidence, statement } from "../../src/observe/evidence.js";
import type { Expectation, Scenario } from "../../src/scenario/types.js";

export function scenario(name: string, file: string, expect: Expectation, line = 1): Scenario {
  return {
    name,
    source: { file, line },
    sender: { postconf: { smtp_tls_security_level: "may" }, certificate: "valid", certificateKey: "rsa" },
    receiver: { postconf: { smtpd_tls_security_level: "may" }, certificate: "valid", certificateKey: "rsa" },
    wire: "pass",
    attempts: 1,
    dns: { zone: "signed", tlsa: "auto", mtaSts: { mode: "none" } },
    message: {
      from: "alice@infomaniak.test",
      to: "bob@iroco.test",
      subject: "Hello Bob",
      via: { provider: "sender", port: 465, auth: true },
    },
    expect,
  };
}

export const DEFERRAL =
  "TLS is required, but was not offered by host mx.iroco.test[172.18.0.3]";

/** Passes: delivered over TLS 1.3, trusted. */
export const passing: ScenarioResult = {
  scenario: scenario("may to may delivers over TLS", "scenarios/basic.yaml", {
    outcome: "delivered",
    transport: "tls",
    tls: { version: "TLSv1.3", trust: "trusted" },
  }, 1),
  observation: {
    outcome: "delivered",
    transport: "tls",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "trusted", peerName: "mx.iroco.test", keyExchange: "X25519" },
    evidence: [
      logEvidence(
        "sender",
        "postfix/smtp[101]: Trusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
      ),
      statement("mailbox", "Received: from smtp.infomaniak.test by mx.iroco.test with ESMTPS id <abc@x> for <bob@iroco.test>"),
    ],
  },
  verdict: { passed: true, differences: [] },
  durationMs: 412.4,
};

/** Fails: expected TLS delivery, the message was deferred. Its name needs XML escaping. */
export const failing: ScenarioResult = {
  scenario: scenario(`encrypt <&"none"> 'quoted'`, "scenarios/basic.yaml", {
    outcome: "delivered",
    transport: "tls",
  }, 12),
  observation: {
    outcome: "deferred",
    reason: DEFERRAL,
    evidence: [
      logEvidence("sender", `postfix/smtp[102]: 4F2A: to=<bob@iroco.test>, status=deferred (${DEFERRAL})`),
      logEvidence("sender", "bell \u0007 and escape \u001b[31mred\u001b[39m"),
    ],
  },
  verdict: {
    passed: false,
    differences: [
      { field: "outcome", expected: "delivered", observed: "deferred" },
      { field: "transport", expected: "tls", observed: "(none)" },
    ],
  },
  durationMs: 30_012,
};

/** A harness error: nothing observed. */
export const erroring: ScenarioResult = {
  scenario: scenario("receiver container died", "scenarios/errors.yaml", {
    outcome: "rejected",
    reason: { kind: "regex", source: "5\\.7\\.1", flags: "i" },
  }, 3),
  verdict: { passed: false, differences: [] },
  error: "timed out after 30 s waiting for the message\nlast log line: \u0000nothing",
  durationMs: 30_500,
};

export const run: RunResult = { results: [passing, failing, erroring], durationMs: 41_300 };

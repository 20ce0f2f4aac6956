import { describe, expect, it } from "vitest";
import {
  describeExpectation,
  describeObservation,
  formatDuration,
  formatMatcher,
  truncate,
} from "../../src/report/describe.js";
import { DEFERRAL, failing, passing } from "./report-fixtures.js";

describe("describeExpectation", () => {
  it("describes deliveries", () => {
    expect(describeExpectation({ outcome: "delivered", transport: "tls", tls: { version: "TLSv1.3", trust: "trusted" } })).toBe(
      "delivered over TLS (TLSv1.3, trusted)",
    );
    expect(describeExpectation({ outcome: "delivered", transport: "tls" })).toBe("delivered over TLS");
    expect(describeExpectation({ outcome: "delivered", transport: "plaintext" })).toBe("delivered in plaintext");
    expect(
      describeExpectation({
        outcome: "delivered",
        transport: "tls",
        tls: { peerName: "mx.iroco.test", cipher: { kind: "regex", source: "AES", flags: "" } },
      }),
    ).toBe("delivered over TLS (certificate mx.iroco.test, cipher /AES/)");
    expect(describeExpectation({ outcome: "delivered", transport: "tls", tls: { version: "TLSv1.3", keyExchange: "X25519MLKEM768" } })).toBe(
      "delivered over TLS (TLSv1.3, key exchange X25519MLKEM768)",
    );
  });

  it("describes failures with their reason as written", () => {
    expect(describeExpectation({ outcome: "deferred", reason: { kind: "substring", text: "TLS is required" } })).toBe(
      "deferred: “TLS is required”",
    );
    expect(describeExpectation({ outcome: "bounced" })).toBe("bounced");
    expect(describeExpectation({ outcome: "rejected", reason: { kind: "regex", source: "5\\.7\\.1", flags: "" } })).toBe(
      "rejected: /5\\.7\\.1/",
    );
  });
});

describe("describeObservation", () => {
  it("describes what happened", () => {
    expect(describeObservation(passing.observation!)).toBe("delivered over TLS (TLSv1.3, trusted, certificate mx.iroco.test, key exchange X25519)");
    expect(describeObservation({ outcome: "delivered", transport: "plaintext", evidence: [] })).toBe("delivered in plaintext");
    expect(describeObservation(failing.observation!)).toBe(`deferred: ${DEFERRAL}`);
    expect(describeObservation({ outcome: "bounced", evidence: [] })).toBe("bounced");
  });

  it("says the trust is unknown when no sending MTA judged the certificate, rather than a bare word", () => {
    const straightToTheReceiver = {
      outcome: "delivered" as const,
      transport: "tls" as const,
      tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "unknown" as const },
      evidence: [],
    };
    expect(describeObservation(straightToTheReceiver)).toBe("delivered over TLS (TLSv1.3, trust unknown)");
  });

  it("keeps long reasons whole but on one line", () => {
    const reason = "host mx.iroco.test[172.18.0.3] said:\n  530 5.7.0 Must issue a STARTTLS command first ".repeat(3);
    const text = describeObservation({ outcome: "bounced", reason, evidence: [] });
    expect(text).not.toContain("\n");
    expect(text.length).toBeGreaterThan(200);
  });
});

describe("helpers", () => {
  it("formats matchers, durations and truncation", () => {
    expect(formatMatcher({ kind: "substring", text: "TLS is required" })).toBe("TLS is required");
    expect(formatMatcher({ kind: "regex", source: "5\\.7\\.1", flags: "i" })).toBe("/5\\.7\\.1/i");
    expect(formatDuration(412.4)).toBe("412 ms");
    expect(formatDuration(41_300)).toBe("41.3 s");
    expect(formatDuration(125_000)).toBe("2 min 05 s");
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abc", 4)).toBe("abc");
  });
});

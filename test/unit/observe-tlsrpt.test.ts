import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { judge } from "../../src/judge/judge.js";
import { collectorDatagram, combineWitnesses, describeTlsrptEvent, parseTlsrptDatagram, parseTlsrptLogLine, type TlsrptLogLine } from "../../src/observe/tlsrpt.js";
import type { Observation, TlsrptEvent } from "../../src/observe/types.js";
import { dnsPlan } from "../../src/world/zones.js";
import { DEFAULT_DNS_SETTINGS } from "../../src/scenario/dnsDefaults.js";
import { scenarioTextLoader } from "./helpers/scenarioText.js";

// The sender's log of six real scenarios on Postfix 3.10.13 (see the file's header).
const CAPTURED = readFileSync(new URL("../fixtures/tlsrpt/sender-3.10.13.log", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line !== "" && !line.startsWith("#"));
const datagrams = CAPTURED.flatMap((line) => collectorDatagram(line) ?? []);
const logged = CAPTURED.map(parseTlsrptLogLine).filter((line): line is TlsrptLogLine => line !== undefined);
const events = combineWitnesses(datagrams.flatMap(parseTlsrptDatagram), logged);

describe("the collector's datagrams and Postfix's TLSRPT lines, captured from a real 3.10 sender", () => {
  it("finds one datagram and one Postfix line per handshake, and not the collector's own notice", () => {
    expect(datagrams).toHaveLength(6);
    expect(logged).toHaveLength(6);
    expect(collectorDatagram("starttls-lab tlsrpt: collector listening on /var/spool/postfix/run/tlsrpt/tlsrpt.sock")).toBeUndefined();
  });

  it("reads policy type, result and RFC 8460 result-type of each, in order", () => {
    expect(events.map(({ policyType, result, failureType }) => [policyType, result, failureType])).toEqual([
      ["sts", "success", undefined],
      ["sts", "failure", "certificate-host-mismatch"],
      ["tlsa", "success", undefined],
      ["tlsa", "failure", "certificate-not-trusted"],
      ["sts", "failure", "starttls-not-supported"],
      ["no-policy-found", "success", undefined],
    ]);
  });

  it("keeps what Bob's provider's report would carry: policy domain, policy lines, mx patterns, where to report", () => {
    const [stsSuccess, stsMismatch, daneSuccess] = events;
    expect(stsSuccess).toMatchObject({
      domain: "iroco.test",
      policyDomain: "iroco.test",
      reportPolicy: "v=TLSRPTv1; rua=mailto:tlsrpt@iroco.test",
      policyStrings: ["version: STSv1", "mode: enforce", "mx: mx.iroco.test", "max_age: 86400"],
      mxHosts: ["mx.iroco.test"],
    });
    expect(stsMismatch?.mxHosts).toEqual(["mx.elsewhere.test"]);
    // DANE's policy domain is the MX host whose TLSA records were used.
    expect(daneSuccess?.policyDomain).toBe("mx.iroco.test");
    expect(daneSuccess?.policyStrings?.[0]).toMatch(/^3 1 1 [0-9A-F]{64}$/);
  });

  it("takes the MX host from Postfix's line (a success's datagram does not name it) and a failure's EHLO reply from the datagram", () => {
    expect(events.every((event) => event.receivingMx === "mx.iroco.test")).toBe(true);
    const stripped = events[4]!;
    expect(stripped.receivingMxHelo).toContain("250-mx.iroco.test\r\n");
    expect(stripped.receivingMxHelo).not.toContain("STARTTLS");
    expect(events[1]!.receivingMxHelo).toContain("250-STARTTLS");
  });

  it("refuses witnesses that disagree, or a datagram Postfix did not log", () => {
    const failure = logged[1]!;
    expect(() => combineWitnesses(parseTlsrptDatagram(datagrams[0]!), [failure])).toThrow(/disagree.*result success ≠ status=failure/s);
    expect(() => combineWitnesses(parseTlsrptDatagram(datagrams[0]!), [])).toThrow("Postfix logged 0 TLSRPT event(s), its TLSRPT library sent 1 datagram(s)");
  });

  it("refuses what libtlsrpt would not send", () => {
    expect(() => parseTlsrptDatagram("{not json")).toThrow(/not JSON/);
    expect(() => parseTlsrptDatagram('{"d":"iroco.test","pr":"v=TLSRPTv1;","policies":[{"policy-type":7,"t":0,"f":0}]}')).toThrow("unknown policy type 7");
  });

  it("reads Postfix's failure_reason and turns its underscores into RFC 8460's hyphens", () => {
    expect(
      parseTlsrptLogLine(
        "Dec 01 18:00:00 smtp postfix/smtp[1]: TLSRPT: status=failure, domain=example.net, receiving_mx=mail.example.net[192.0.2.1], failure_type=validation_failure, failure_reason=self-signed_certificate",
      ),
    ).toMatchObject({ result: "failure", domain: "example.net", receivingMx: "mail.example.net", receivingIp: "192.0.2.1", failureType: "validation-failure", failureReason: "self-signed_certificate" });
  });

  it("says in one line what the report would get", () => {
    expect(describeTlsrptEvent(events[4]!)).toBe(
      "tlsrpt: failure starttls-not-supported with mx.iroco.test (sts policy of iroco.test), reported for iroco.test to rua=mailto:tlsrpt@iroco.test",
    );
  });
});

describe("judge: expect.tlsrpt", () => {
  const deferredWith = (tlsrpt: TlsrptEvent[] | undefined): Observation => ({ outcome: "deferred", reason: "TLS is required", evidence: [], ...(tlsrpt && { tlsrpt }) });
  const stripped = events[4]!;

  it("passes when every event for the recipient's domain has the expected policy, result and failure", () => {
    const verdict = judge({ outcome: "deferred", tlsrpt: { policy: "sts", result: "failure", failure: "starttls-not-supported" } }, deferredWith([stripped]), { recipientDomain: "iroco.test" });
    expect(verdict).toEqual({ passed: true, differences: [] });
  });

  it("fails on the field tlsrpt, naming what was reported", () => {
    const verdict = judge({ outcome: "deferred", tlsrpt: { policy: "tlsa", result: "failure" } }, deferredWith([stripped]), { recipientDomain: "iroco.test" });
    expect(verdict.differences).toEqual([{ field: "tlsrpt", expected: "tlsa failure", observed: "sts failure starttls-not-supported" }]);
  });

  it("fails when nothing was reported for the recipient's domain, or the sender has no TLSRPT", () => {
    const expectation = { outcome: "deferred" as const, tlsrpt: { policy: "sts" as const, result: "failure" as const } };
    expect(judge(expectation, deferredWith([stripped]), { recipientDomain: "lutins.test" }).differences).toEqual([
      { field: "tlsrpt", expected: "sts failure", observed: "no TLSRPT event for lutins.test" },
    ]);
    expect(judge(expectation, deferredWith(undefined)).differences).toEqual([
      { field: "tlsrpt", expected: "sts failure", observed: "none: the sender's Postfix has no TLSRPT" },
    ]);
  });
});

describe("dns.tlsrpt and expect.tlsrpt in scenario files", () => {
  const { load, errorOf } = scenarioTextLoader("tlsrpt.yaml");

  it("publishes _smtp._tls for each of Bob's provider's domains only when asked", () => {
    const addresses = { dns: "10.0.0.2", sender: "10.0.0.3", receiver: "10.0.0.4", wire: "10.0.0.5" };
    const digests = { presentedKey: { "iroco.test": "aa", "lutins.test": "bb", "ecole.test": "cc" }, otherKey: "dd", caCertificate: "ee" };
    const published = dnsPlan({ ...DEFAULT_DNS_SETTINGS, tlsrpt: true }, addresses, digests).zones.filter((zone) => zone.text.includes("_smtp._tls"));
    expect(published.map((zone) => zone.name)).toEqual(["iroco.test", "lutins.test", "ecole.test"]);
    expect(published[0]!.text).toContain('_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@iroco.test"');
    expect(dnsPlan(DEFAULT_DNS_SETTINGS, addresses, digests).zones.some((zone) => zone.text.includes("_smtp._tls"))).toBe(false);
  });

  it("reads both, defaulting dns.tlsrpt to false", () => {
    const [published, silent] = load(`
name: a
sender: { postfix: "3.10" }
dns: { tlsrpt: true }
expect: { outcome: deferred, tlsrpt: { policy: sts, result: failure, failure: starttls-not-supported } }
---
name: b
expect: { outcome: deferred }
`);
    expect(published?.dns.tlsrpt).toBe(true);
    expect(published?.expect.tlsrpt).toEqual({ policy: "sts", result: "failure", failure: "starttls-not-supported" });
    expect(silent?.dns.tlsrpt).toBe(false);
  });

  it("refuses an unknown result-type, a failure type on a success, and a sender pinned to a release without TLSRPT", () => {
    expect(errorOf(`name: a\nexpect: { outcome: deferred, tlsrpt: { policy: sts, result: failure, failure: starttls-stripped } }\n`)).toMatch(/expect\.tlsrpt\.failure/);
    expect(errorOf(`name: a\nexpect: { outcome: deferred, tlsrpt: { policy: sts, result: success, failure: validation-failure } }\n`)).toContain(
      "only a failure has a result-type (result is success)",
    );
    expect(errorOf(`name: a\nsender: { postfix: "3.7" }\nexpect: { outcome: deferred, tlsrpt: { policy: sts, result: failure } }\n`)).toContain(
      'tlsrpt.yaml:1: expect.tlsrpt: the sender runs Postfix 3.7, which has no TLSRPT (smtp_tlsrpt_enable came with 3.10): pin sender.postfix to "3.10" or later',
    );
  });
});

import { describe, expect, it } from "vitest";
import { dnsEvidence } from "../../src/observe/dnsLog.js";

// Lines as the dns container logged them in a real run (unbound 1.17, lab-dns-policy-server).
const LOG = [
  "[1795830040] unbound[1038:0] info: 127.0.0.1 iroco.test. SOA IN NOERROR 0.001518 0 195",
  "[1795830040] unbound[1038:0] info: 172.20.0.3 iroco.test. MX IN",
  "[1795830040] unbound[1038:0] info: 172.20.0.3 iroco.test. MX IN NOERROR 0.000500 0 164",
  "[1795830040] unbound[1038:0] info: 172.20.0.3 1.0.20.172.in-addr.arpa. PTR IN NXDOMAIN 0.000000 1 100",
  "[1795830040] unbound[1038:0] info: 127.0.0.1 _mta-sts.iroco.test. TXT IN NOERROR 0.001368 0 73",
  'mta-sts-policy: 172.20.0.2 sni=mta-sts.iroco.test host=mta-sts.iroco.test "GET /.well-known/mta-sts.txt HTTP/1.1" 200 -',
  "[1795830041] unbound[1038:0] info: failed to prime trust anchor -- DNSKEY rrset is not secure iroco.test. DNSKEY IN",
  "[1795830041] unbound[1038:0] info: failed to prime trust anchor -- DNSKEY rrset is not secure iroco.test. DNSKEY IN",
  "[1795830041] unbound[1038:0] info: 172.20.0.3 iroco.test. MX IN SERVFAIL 0.000000 0 29",
  "[1795830041] unbound[1038:0] info: 172.20.0.4 5.0.20.172.in-addr.arpa. PTR IN NXDOMAIN 0.000000 1 100",
];

describe("dnsEvidence", () => {
  it("keeps the sender's lookups and answers, the MTA-STS fetches and validation failures, once each", () => {
    expect(dnsEvidence(LOG, "172.20.0.3").map((item) => item.line)).toEqual([
      "dns: Alice's provider asked iroco.test. MX: NOERROR",
      "dns: MTA-STS resolver asked _mta-sts.iroco.test. TXT: NOERROR",
      "dns: MTA-STS policy fetched from https://mta-sts.iroco.test/.well-known/mta-sts.txt: HTTP 200",
      "dns: failed to prime trust anchor -- DNSKEY rrset is not secure iroco.test. DNSKEY IN",
      "dns: Alice's provider asked iroco.test. MX: SERVFAIL",
    ]);
  });

  it("keeps what it read from each line as the record's event", () => {
    expect(dnsEvidence(LOG, "172.20.0.3")).toEqual([
      expect.objectContaining({ source: "dns-log", event: { kind: "answer", asker: "sender", name: "iroco.test.", type: "MX", rcode: "NOERROR" } }),
      expect.objectContaining({ event: { kind: "answer", asker: "mtaStsResolver", name: "_mta-sts.iroco.test.", type: "TXT", rcode: "NOERROR" } }),
      expect.objectContaining({ event: { kind: "policyFetch", url: "https://mta-sts.iroco.test/.well-known/mta-sts.txt", status: 200 } }),
      expect.objectContaining({
        event: { kind: "validationFailure", message: "failed to prime trust anchor -- DNSKEY rrset is not secure iroco.test. DNSKEY IN" },
      }),
      expect.objectContaining({ event: { kind: "answer", asker: "sender", name: "iroco.test.", type: "MX", rcode: "SERVFAIL" } }),
    ]);
  });

  it("leaves out the harness's own checks and other clients", () => {
    expect(dnsEvidence(LOG.slice(0, 1), "172.20.0.3")).toEqual([]);
    expect(dnsEvidence(LOG.slice(-1), "172.20.0.3")).toEqual([]);
  });
});

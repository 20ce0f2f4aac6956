/**
 * The DNS lane of the sequence diagram: what Alice's provider asked the
 * world's DNS, drawn from the dns container's own log lines (captured in a
 * real run), in its own lifeline before the port-25 hop.
 */
import { describe, expect, it } from "vitest";
import { dnsEvidence } from "../../src/observe/dnsLog.js";
import { sequenceDiagram } from "../../src/report/sequenceDiagram.js";
import { passing } from "./report-fixtures.js";

const LOG = [
  "[1795830040] unbound[1038:0] info: 172.20.0.3 iroco.test. MX IN NOERROR 0.000500 0 164",
  "[1795830040] unbound[1038:0] info: 172.20.0.3 _25._tcp.mx.iroco.test. TLSA IN NOERROR 0.000500 0 164",
  "[1795830040] unbound[1038:0] info: 127.0.0.1 _mta-sts.iroco.test. TXT IN NOERROR 0.001368 0 73",
  'mta-sts-policy: 172.20.0.2 sni=mta-sts.iroco.test host=mta-sts.iroco.test "GET /.well-known/mta-sts.txt HTTP/1.1" 200 -',
  "[1795830041] unbound[1038:0] info: failed to prime trust anchor -- DNSKEY rrset is not secure iroco.test. DNSKEY IN",
];

describe("the DNS lane", () => {
  const withDns = { ...passing, observation: { ...passing.observation!, evidence: [...passing.observation!.evidence, ...dnsEvidence(LOG, "172.20.0.3")] } };
  const svg = sequenceDiagram(withDns);

  it("has a lifeline of its own between Alice and Infomaniak", () => {
    const heads = [...svg.matchAll(/class="head lifeline-label"[^>]*>([^<]+)</g)].map((match) => match[1]);
    expect(heads).toEqual(["Alice", "DNS", "Infomaniak", "wire", "Iroco", "Bob"]);
  });

  it("draws each of the sender's lookups as a question and its answer, in the order the resolver logged them", () => {
    const titles = [...svg.matchAll(/<title>(DNS: [^<]+)<\/title>/g)].map((match) => match[1]);
    expect(titles).toEqual(["DNS: MX iroco.test? NOERROR", "DNS: TLSA _25._tcp.mx.iroco.test? NOERROR"]);
  });

  it("shows the MTA-STS resolver's lookup, the policy fetch and a validation failure as notes on the lane", () => {
    expect(svg).toContain("MTA-STS resolver: TXT _mta-sts.iroco.test?");
    expect(svg).toContain("MTA-STS policy over HTTPS");
    expect(svg).toContain("HTTP 200");
    expect(svg).toContain("DNSSEC validation failed");
  });

  it("draws no lookup when the dns container logged none", () => {
    expect(sequenceDiagram(passing)).not.toContain("DNS: ");
  });
});

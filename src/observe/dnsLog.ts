/**
 * The DNS side of a scenario, from the dns container's log: what Alice's
 * provider asked the resolver and what it answered, DNSSEC validation
 * failures, and MTA-STS policy fetches. Pure: lines in, evidence lines out.
 */

/** unbound with log-replies: "[1795830040] unbound[1038:0] info: 172.20.0.3 iroco.test. MX IN NOERROR 0.000500 0 164". */
const REPLY = /unbound\[[\d:]+\] info: (\S+) (\S+) (\S+) IN ([A-Z]+) [\d.]+ \d+ \d+$/;
const VALIDATION = /unbound\[[\d:]+\] info: ((?:validation failure|failed to prime trust anchor).*)$/;
/** lab-dns-policy-server: "mta-sts-policy: 172.20.0.2 sni=… host=mta-sts.iroco.test "GET /.well-known/mta-sts.txt HTTP/1.1" 200 -". */
const POLICY_FETCH = /^mta-sts-policy: \S+ sni=\S* host=(\S+) "GET (\S+) [^"]*" (\d{3})/;

export function dnsEvidence(lines: readonly string[], senderAddress: string): string[] {
  const evidence: string[] = [];
  const seen = new Set<string>();
  const add = (line: string) => {
    if (seen.has(line)) return;
    seen.add(line);
    evidence.push(line);
  };
  for (const line of lines) {
    const reply = REPLY.exec(line);
    if (reply) {
      const [, client, name, type, rcode] = reply;
      // Alice's provider's own lookups, and the MTA-STS resolver's (it runs beside the resolver).
      const fromSender = client === senderAddress;
      const fromMtaSts = client === "127.0.0.1" && name!.startsWith("_mta-sts.");
      if ((fromSender && !name!.endsWith(".in-addr.arpa.")) || fromMtaSts) {
        add(`dns: ${fromSender ? "Alice's provider" : "MTA-STS resolver"} asked ${name} ${type}: ${rcode}`);
      }
      continue;
    }
    const failure = VALIDATION.exec(line);
    if (failure) {
      add(`dns: ${failure[1]}`);
      continue;
    }
    const fetch = POLICY_FETCH.exec(line);
    if (fetch) add(`dns: MTA-STS policy fetched from https://${fetch[1]}${fetch[2]}: HTTP ${fetch[3]}`);
  }
  return evidence;
}

/** The world's DNS container: authoritative zones, a validating resolver, and MTA-STS (policy server and resolver daemon). */
import { Wait } from "testcontainers";
import { WorldContainer } from "./worldContainer.js";

export const MTA_STS_RESOLVER_PORT = 8461;

export class DnsContainer extends WorldContainer {
  constructor(image: string) {
    super(image);
    this.withWaitStrategy(Wait.forLogMessage(/^lab-dns: ready/m))
      .withStartupTimeout(60_000)
      .withLabels({ "starttls-lab.role": "dns" });
  }

  /** The CA the MTA-STS resolver trusts, and the policy server's certificate (for mta-sts.<domain>). */
  withTls(caPem: string, policyCertPem: string, policyKeyPem: string): this {
    return this.withCopyContentToContainer([
      { content: caPem, target: "/etc/lab-dns/tls/ca.pem", mode: 0o644 },
      { content: policyCertPem, target: "/etc/lab-dns/tls/policy.pem", mode: 0o644 },
      { content: policyKeyPem, target: "/etc/lab-dns/tls/policy.key", mode: 0o600 },
    ]);
  }
}

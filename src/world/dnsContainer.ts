/**
 * The world's DNS container: authoritative zones, a validating resolver, and
 * MTA-STS (policy server and resolver daemon). Started, it publishes a
 * scenario's zones and MTA-STS policies (lab-dns-apply signs and serves
 * them), and only when they differ from what is already published.
 */
import { randomUUID } from "node:crypto";
import { Wait, type StartedTestContainer } from "testcontainers";
import type { ServerCredentials } from "../pki/types.js";
import type { WorldDns } from "./providers.js";
import { LABEL_ROLE } from "./runLabels.js";
import { StartedWorldContainer, WorldContainer } from "./worldContainer.js";
import type { DnsPlan } from "./zones.js";

export const MTA_STS_RESOLVER_PORT = 8461;

/** Where each plan is written, in a directory of its own that lab-dns-apply consumes. */
const PLANS_DIR = "/etc/lab-dns/plans";

export const DNS_TITLE = { log: "dns", container: "the dns container" } as const;

export class DnsContainer extends WorldContainer<StartedDnsContainer> {
  constructor(image: string) {
    super(image, DNS_TITLE);
    this.withWaitStrategy(Wait.forLogMessage(/^lab-dns: ready/m))
      .withStartupTimeout(60_000)
      .withLabels({ [LABEL_ROLE]: "dns" });
  }

  /** The CA the MTA-STS resolver trusts, and the policy server's certificate (for mta-sts.<domain>). */
  withTls(caPem: string, policyServer: ServerCredentials): this {
    return this.withCopyContentToContainer([
      { content: caPem, target: "/etc/lab-dns/tls/ca.pem", mode: 0o644 },
      { content: policyServer.certPem, target: "/etc/lab-dns/tls/policy.pem", mode: 0o644 },
      { content: policyServer.keyPem, target: "/etc/lab-dns/tls/policy.key", mode: 0o600 },
    ]);
  }

  protected override started(container: StartedTestContainer, address: string): StartedDnsContainer {
    return new StartedDnsContainer(container, this.log, this.title, address);
  }
}

export class StartedDnsContainer extends StartedWorldContainer {
  private published: string | undefined;
  private resolverAnswers = true;

  /** Whether the world's resolver (unbound) runs: false from resolverDown() to resolverUp(). */
  get resolverRunning(): boolean {
    return this.resolverAnswers;
  }

  /**
   * A resolver outage: unbound stops and its port closes, so every lookup
   * of the providers fails at once (not after a timeout); knot, MTA-STS
   * and the container stay. publish() meanwhile only prepares what the
   * resolver reads when it starts.
   */
  async resolverDown(): Promise<void> {
    await this.run(["lab-dns-resolver", "down"]);
    this.resolverAnswers = false;
  }

  /**
   * Starts the resolver again, with an empty cache; resolves once every
   * published zone answers as its DNSSEC mode says (signed ones validated).
   */
  async resolverUp(): Promise<void> {
    await this.run(["lab-dns-resolver", "up"]);
    this.resolverAnswers = true;
  }

  /** How the providers reach it: the resolver's address, and the MTA-STS resolver's socketmap port. */
  get forProviders(): WorldDns {
    return { resolver: this.address, mtaStsPort: MTA_STS_RESOLVER_PORT };
  }

  async publish(plan: DnsPlan): Promise<void> {
    const wanted = JSON.stringify(plan);
    if (wanted === this.published) return;
    // The complete desired state, in a directory no earlier plan used (whichever process wrote that one), so one exec applies it.
    const dir = `${PLANS_DIR}/${randomUUID()}`;
    await this.copyContentToContainer([
      { content: plan.zones.map((zone) => `${zone.name} ${zone.signing}\n`).join(""), target: `${dir}/zones` },
      ...plan.zones.map((zone) => ({ content: zone.text, target: `${dir}/${zone.name}.zone` })),
      ...Object.entries(plan.mtaStsPolicies).map(([domain, policy]) => ({ content: policy, target: `${dir}/mta-sts/${domain}.txt` })),
    ]);
    this.published = undefined;
    await this.run(["lab-dns-apply", dir]);
    this.published = wanted;
  }
}

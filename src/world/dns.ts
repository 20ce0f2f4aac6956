/**
 * The harness's handle on the dns container: publishes a scenario's zones
 * and MTA-STS policies (lab-dns-apply signs and serves them), and only when
 * they differ from what is already published.
 */
import type { StartedTestContainer } from "testcontainers";
import { howContainerStopped } from "./docker.js";
import type { LogBook } from "./logBook.js";
import type { DnsPlan } from "./zones.js";

const PLAN_DIR = "/etc/lab-dns/plan";

export class Dns {
  private published: string | undefined;

  constructor(
    readonly container: StartedTestContainer,
    readonly log: LogBook,
    /** The resolver's address on the world's network (the providers' nameserver). */
    readonly address: string,
  ) {}

  async publish(plan: DnsPlan): Promise<void> {
    const wanted = JSON.stringify(plan);
    if (wanted === this.published) return;
    // plan/ is the complete desired state: rewritten whole every time.
    await this.exec(["rm", "-rf", PLAN_DIR]);
    await this.container.copyContentToContainer([
      { content: plan.zones.map((zone) => `${zone.name} ${zone.signing}\n`).join(""), target: `${PLAN_DIR}/zones` },
      ...plan.zones.map((zone) => ({ content: zone.text, target: `${PLAN_DIR}/${zone.name}.zone` })),
      ...Object.entries(plan.mtaStsPolicies).map(([domain, policy]) => ({ content: policy, target: `${PLAN_DIR}/mta-sts/${domain}.txt` })),
    ]);
    this.published = undefined;
    await this.exec(["lab-dns-apply"]);
    this.published = wanted;
  }

  private async exec(command: string[]): Promise<void> {
    const result = await this.container.exec(command);
    if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed in the dns container (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  /** Undefined while the container runs; otherwise what stopped it, with its last log lines. */
  async deathNotice(): Promise<string | undefined> {
    const how = await howContainerStopped(this.container.getId());
    if (how === undefined) return undefined;
    return `the dns container stopped (${how}); its last log lines:\n    ${this.log.tail(12).join("\n    ")}`;
  }
}

/**
 * The harness's handle on the dns container: publishes a scenario's zones
 * and MTA-STS policies (lab-dns-apply signs and serves them), and only when
 * they differ from what is already published.
 */
import type { StartedTestContainer } from "testcontainers";
import { deathNotice, execChecked } from "./docker.js";
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
    await execChecked(this.container, command, "in the dns container");
  }

  /** Undefined while the container runs; otherwise what stopped it, with its last log lines. */
  deathNotice(): Promise<string | undefined> {
    return deathNotice("the dns container", this.container, this.log);
  }
}

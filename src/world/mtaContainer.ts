/** One mail provider's container (Postfix + Dovecot), either role. */
import { Wait } from "testcontainers";
import type { Role } from "../scenario/types.js";
import { WorldContainer } from "./worldContainer.js";

export const SMTP_PORT = 25;
export const SUBMISSIONS_PORT = 465;
export const IMAPS_PORT = 993;

function holdsPrivateKey(name: string): boolean {
  return name.endsWith(".key");
}

export class MtaContainer extends WorldContainer {
  constructor(image: string) {
    super(image);
    this.withExposedPorts(SMTP_PORT, SUBMISSIONS_PORT, IMAPS_PORT)
      .withWaitStrategy(
        Wait.forAll([Wait.forLogMessage(/postfix\/master\[\d+\]: daemon started/), Wait.forLogMessage(/Dovecot v[\d.]+ .*starting up/)]),
      )
      .withStartupTimeout(60_000);
  }

  withRole(role: Role, networkName: string, aliases: string[]): this {
    return this.withWorldNetwork(networkName, aliases).withLabels({ "starttls-lab.role": role });
  }

  /** Role files for /etc/starttls-lab; anything holding a private key gets mode 0600. */
  withLabFiles(files: Record<string, string>): this {
    return this.withCopyContentToContainer(
      Object.entries(files).map(([name, content]) => ({
        content,
        target: `/etc/starttls-lab/${name}`,
        mode: holdsPrivateKey(name) ? 0o600 : 0o644,
      })),
    );
  }
}

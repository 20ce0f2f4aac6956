/**
 * One mail provider's container, in the style of testcontainers' modules: a
 * GenericContainer subclass with a fluent builder. Two things differ from the
 * defaults: ports are published on 127.0.0.1 only, and the container joins
 * the run's private network directly (with its DNS aliases) instead of
 * testcontainers' "default bridge first, then connect" route, so it is never
 * on any network but its world's.
 */
import { GenericContainer, Wait } from "testcontainers";
import type { Role } from "../scenario/types.js";
import type { LogBook } from "./logBook.js";

export const SMTP_PORT = 25;
export const SUBMISSIONS_PORT = 465;
export const IMAPS_PORT = 993;

function holdsPrivateKey(name: string): boolean {
  return name.endsWith(".key");
}

export class MtaContainer extends GenericContainer {
  private aliases: string[] = [];

  constructor(image: string) {
    super(image);
    this.withExposedPorts(SMTP_PORT, SUBMISSIONS_PORT, IMAPS_PORT)
      .withWaitStrategy(
        Wait.forAll([Wait.forLogMessage(/postfix\/master\[\d+\]: daemon started/), Wait.forLogMessage(/Dovecot v[\d.]+ .*starting up/)]),
      )
      .withStartupTimeout(60_000);
  }

  withRole(role: Role, networkName: string, aliases: string[]): this {
    this.aliases = aliases;
    return this.withNetworkMode(networkName).withLabels({ "starttls-lab.role": role });
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

  withLogBook(logBook: LogBook): this {
    return this.withLogConsumer((stream) => logBook.attach(stream));
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const bindings = this.hostConfig.PortBindings as Record<string, Array<{ HostPort?: string; HostIp?: string }>> | undefined;
    for (const binding of Object.values(bindings ?? {})) {
      for (const entry of binding) entry.HostIp = "127.0.0.1";
    }
    if (this.networkMode) {
      this.createOpts.NetworkingConfig = { EndpointsConfig: { [this.networkMode]: { Aliases: this.aliases } } };
    }
  }
}

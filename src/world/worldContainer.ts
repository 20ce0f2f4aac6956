/**
 * What every container of a test world has in common, in the style of
 * testcontainers' modules (a GenericContainer subclass with a fluent
 * builder). Two things differ from the defaults: ports are published on
 * 127.0.0.1 only, and the container joins the run's private network directly
 * (with its DNS aliases) instead of testcontainers' "default bridge first,
 * then connect" route, so it is never on any network but its world's.
 */
import { GenericContainer } from "testcontainers";
import type { LogBook } from "./logBook.js";

export class WorldContainer extends GenericContainer {
  private aliases: string[] = [];

  /** Join the world's network under these names (what the other containers resolve). */
  withWorldNetwork(networkName: string, aliases: string[]): this {
    this.aliases = aliases;
    return this.withNetworkMode(networkName);
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

/**
 * WorldContainer rewrites testcontainers' protected create options
 * (hostConfig.PortBindings, createOpts.NetworkingConfig, networkMode) in its
 * beforeContainerCreated hook. These are internals, not API: this file fails
 * when a testcontainers upgrade renames them, fills them later, or stops
 * sending them to Docker as they are. (test/e2e/security.test.ts checks the
 * outcome on real containers: published on 127.0.0.1 only, on the world's
 * network only.)
 */
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { describe, expect, it } from "vitest";
import { StartedWorldContainer, WorldContainer, type WorldNetwork } from "../../src/world/worldContainer.js";

const NETWORK: WorldNetwork = { runId: "20261201000000-abcdef", name: "starttls-lab-20261201000000-abcdef", labels: { "starttls-lab.run": "20261201000000-abcdef" } };

/** A world container that shows what testcontainers would send to Docker's create call once the hook has run. */
class ProbeContainer extends WorldContainer<StartedWorldContainer> {
  constructor() {
    super("starttls-lab/probe:none", { log: "probe", container: "the probe container" });
  }

  protected override started(container: StartedTestContainer, address: string): StartedWorldContainer {
    return new StartedWorldContainer(container, this.log, this.title, address);
  }

  async createRequest() {
    await this.beforeContainerCreated();
    return { createOpts: this.createOpts, hostConfig: this.hostConfig, networkMode: this.networkMode, networkAliases: this.networkAliases };
  }
}

describe("WorldContainer on testcontainers' protected create options", () => {
  it("publishes every exposed port on 127.0.0.1 and joins the world's network under its aliases at creation", async () => {
    const request = await new ProbeContainer().withExposedPorts(25, 8025).inWorld(NETWORK, "probe", ["mx.iroco.test", "mx.lutins.test"]).createRequest();

    expect(request.hostConfig.PortBindings).toEqual({
      "25/tcp": [{ HostPort: "0", HostIp: "127.0.0.1" }],
      "8025/tcp": [{ HostPort: "0", HostIp: "127.0.0.1" }],
    });
    expect(request.createOpts.NetworkingConfig).toEqual({ EndpointsConfig: { [NETWORK.name]: { Aliases: ["mx.iroco.test", "mx.lutins.test"] } } });
    expect(request.networkMode).toBe(NETWORK.name);
    // testcontainers' own aliases stay empty: they would make it create the container on the default bridge and connect it later.
    expect(request.networkAliases).toEqual([]);
    expect(request.createOpts.name).toBe(`starttls-lab-${NETWORK.runId}-probe`);
    expect(request.createOpts.Labels).toMatchObject(NETWORK.labels);
  });

  it("refuses to create a container that was not put in a world", async () => {
    await expect(new ProbeContainer().withExposedPorts(25).createRequest()).rejects.toThrow("the probe container: call inWorld() before start()");
  });

  it("relies on GenericContainer calling the hook before it creates the container from createOpts and hostConfig", () => {
    const start = GenericContainer.prototype.start.toString();
    expect(start.indexOf("beforeContainerCreated()")).toBeGreaterThan(-1);
    expect(start.indexOf("beforeContainerCreated()")).toBeLessThan(start.indexOf("startContainer("));
    // Without testcontainers' aliases, the network mode we set is the one Docker gets.
    expect(start).toMatch(/this\.hostConfig\.NetworkMode = this\.networkAliases\.length > 0 \? undefined : this\.networkMode/);
    const create = (GenericContainer.prototype as unknown as { startContainer: () => unknown }).startContainer.toString();
    expect(create).toMatch(/container\.create\(\{ \.\.\.this\.createOpts, HostConfig: this\.hostConfig \}\)/);
  });
});

/**
 * Re-attaching to the containers of a world another process started (`up`
 * returns, later commands act on the same world). testcontainers has no
 * re-attach, but its started container is a thin wrapper around a dockerode
 * container plus its inspect result and bound ports: built from those, the
 * world's Started…Container classes work on it unchanged, so there is one
 * model of a started container whichever process started it.
 */
import { BoundPorts, getContainerRuntimeClient, Wait, type StartedTestContainer } from "testcontainers";
// Not re-exported by the package index; the class every GenericContainer.start() returns.
import { StartedGenericContainer } from "testcontainers/build/generic-container/started-generic-container.js";
import { dockerClient } from "./docker.js";
import { LogBook } from "./logBook.js";
import { LABEL_ROLE, LABEL_RUN } from "./runLabels.js";
import type { ContainerTitle } from "./worldContainer.js";

/** A container of the world named by its role, with its log followed from now on and its address on the world's network. */
export interface AttachedContainer {
  container: StartedTestContainer;
  log: LogBook;
  address: string;
}

/** A container a running world should have is not running any more. */
export class WorldGoneError extends Error {
  override name = "WorldGoneError";
}

export async function attachContainer(runId: string, role: string, networkName: string, title: ContainerTitle): Promise<AttachedContainer> {
  const docker = dockerClient();
  const [info] = await docker.listContainers({ filters: { label: [`${LABEL_RUN}=${runId}`, `${LABEL_ROLE}=${role}`], status: ["running"] } });
  if (!info) throw new WorldGoneError(`${title.container} of world ${runId} is not running`);
  const dockerode = docker.getContainer(info.Id);
  const inspect = await dockerode.inspect();
  const ports = new BoundPorts();
  for (const [containerPort, bindings] of Object.entries(inspect.NetworkSettings.Ports ?? {})) {
    const hostPort = bindings?.find((binding) => binding.HostPort)?.HostPort;
    if (hostPort) ports.setBinding(containerPort, Number(hostPort));
  }
  const runtime = await getContainerRuntimeClient();
  // The wait strategy is only used by restart(), which the harness never calls on a world's container.
  const container = new StartedGenericContainer(dockerode, runtime.info.containerRuntime.host, inspect, ports, inspect.Name.replace(/^\//, ""), Wait.forListeningPorts(), false);
  const log = new LogBook(title.log);
  // From this second on: what happened before belongs to earlier commands, and a cursor taken now sees everything after it.
  log.attach(await container.logs({ since: Math.floor(Date.now() / 1000) }));
  return { container, log, address: container.getIpAddress(networkName) };
}

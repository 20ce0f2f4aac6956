/**
 * What starttls-lab left in Docker, seen through dockerode: the containers and
 * networks whose `starttls-lab.pid` label names a given process.
 */
import Docker from "dockerode";

export const LABEL_RUN = "starttls-lab.run";
export const LABEL_PID = "starttls-lab.pid";

const docker = new Docker();

export interface Owned {
  containers: { id: string; name: string }[];
  networks: { id: string; name: string }[];
}

/** Containers (running or not) and networks labelled as belonging to process `pid`. */
export async function ownedBy(pid: number): Promise<Owned> {
  const label = [`${LABEL_PID}=${pid}`];
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters: { label } }),
    docker.listNetworks({ filters: { label } }),
  ]);
  return {
    containers: containers.map((info) => ({ id: info.Id, name: info.Names[0]?.replace(/^\//, "") ?? info.Id.slice(0, 12) })),
    networks: networks.map((info) => ({ id: info.Id, name: info.Name })),
  };
}

/** Force-removes whatever process `pid` left behind; for afterEach, so a failed test leaves nothing. */
export async function removeOwnedBy(pid: number): Promise<void> {
  const owned = await ownedBy(pid);
  await Promise.all(owned.containers.map((c) => docker.getContainer(c.id).remove({ force: true, v: true }).catch(() => undefined)));
  await Promise.all(owned.networks.map((n) => docker.getNetwork(n.id).remove().catch(() => undefined)));
}

/**
 * Docker's record of containers created with label `starttls-lab.pid=<pid>`
 * between two moments (ms since epoch). Catches containers that were created
 * and removed again, which a listing afterwards would miss.
 */
export async function containersCreatedBy(pid: number, sinceMs: number, untilMs: number): Promise<string[]> {
  const stream = (await docker.getEvents({
    // Fractional seconds: Docker accepts them, and an `until` already past returns at once.
    since: (sinceMs - 1000) / 1000,
    until: (untilMs + 50) / 1000,
    filters: { type: ["container"], event: ["create"], label: [`${LABEL_PID}=${pid}`] },
  })) as unknown as NodeJS.ReadableStream;
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => (JSON.parse(line) as { Actor: { Attributes: { name?: string } } }).Actor.Attributes.name ?? "?");
}

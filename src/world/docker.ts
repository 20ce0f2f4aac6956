/** The one Docker client the harness uses for what testcontainers does not do (builds, clean-up). */
import Docker from "dockerode";

let client: Docker | undefined;

export function dockerClient(): Docker {
  client ??= new Docker();
  return client;
}

/** Raised when no Docker engine answers; the CLI turns it into exit 2 with the fix. */
export class DockerUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      "No Docker engine answers (" +
        (cause instanceof Error ? cause.message : String(cause)) +
        ").\n  Fix: run `sudo bash docker/setup.sh` (installs docker.io if needed and starts dockerd), or start your engine.",
    );
    this.name = "DockerUnavailableError";
  }
}

export async function assertDockerAvailable(): Promise<void> {
  try {
    await dockerClient().ping();
  } catch (error) {
    throw new DockerUnavailableError(error);
  }
}

/** Undefined while the container runs; otherwise how it stopped ("exit code 137, out of memory", "removed"). */
export async function howContainerStopped(containerId: string): Promise<string | undefined> {
  const state = await dockerClient()
    .getContainer(containerId)
    .inspect()
    .then((info) => info.State)
    .catch(() => undefined);
  if (state?.Running) return undefined;
  return state ? `exit code ${state.ExitCode}${state.OOMKilled ? ", out of memory" : ""}` : "removed";
}

/**
 * The one Docker client the harness uses for what testcontainers does not do
 * (builds, clean-up, how a container died).
 */
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

/**
 * The one Docker client the harness uses for what testcontainers does not do
 * (builds, clean-up), and what it does with any started container of its
 * world: run a command that must succeed, and tell how the container died.
 */
import Docker from "dockerode";
import type { StartedTestContainer } from "testcontainers";
import type { LogBook } from "./logBook.js";

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

/**
 * Undefined while the container runs; otherwise which one stopped, how
 * ("exit code 137, out of memory", "removed") and its last log lines.
 */
export async function deathNotice(name: string, container: StartedTestContainer, log: LogBook): Promise<string | undefined> {
  const state = await dockerClient()
    .getContainer(container.getId())
    .inspect()
    .then((info) => info.State)
    .catch(() => undefined);
  if (state?.Running) return undefined;
  const how = state ? `exit code ${state.ExitCode}${state.OOMKilled ? ", out of memory" : ""}` : "removed";
  return `${name} stopped (${how}); its last log lines:\n    ${log.tail(12).join("\n    ")}`;
}

/** Runs a command in a container of the world; a non-zero exit is an error naming `where`, with the command's output. */
export async function execChecked(container: StartedTestContainer, command: string[], where: string): Promise<string> {
  const result = await container.exec(command);
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed ${where} (exit ${result.exitCode}): ${result.output.trim()}`);
  return result.output;
}

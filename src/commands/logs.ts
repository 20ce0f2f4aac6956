/**
 * `starttls-lab logs [sender|receiver|wire|dns] [--follow] [--name N]`: the
 * containers' own logs (Postfix, Dovecot, the wire, the resolver), as
 * `docker logs` would print them, each line prefixed with its container when
 * more than one is shown.
 */
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import { dockerClient } from "../world/docker.js";
import { LABEL_ROLE, LABEL_RUN } from "../world/runLabels.js";
import { EXIT, UsageError, type CommandInput } from "./shared.js";
import { requireWorldState, worldName } from "./worldState.js";

const ROLES = ["dns", "sender", "receiver", "wire"] as const;

export async function logs({ values, positionals }: CommandInput): Promise<number> {
  const unknown = positionals.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) throw new UsageError(`logs takes ${ROLES.join(", ")}, not ${unknown.join(", ")}`);
  const roles = positionals.length > 0 ? positionals : [...ROLES];
  const state = await requireWorldState(worldName(values.name));
  const docker = dockerClient();
  const follow = values.follow === true;
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${state.memory.runId}`] } });
  const show = async (role: string): Promise<void> => {
    const info = containers.find((container) => container.Labels[LABEL_ROLE] === role);
    if (!info) throw new UsageError(`world "${state.name}" has no ${role} container any more`);
    const prefix = roles.length > 1 ? `${role.padEnd(8)} | ` : "";
    const lines = new PassThrough();
    const reader = createInterface({ input: lines }).on("line", (line) => process.stdout.write(`${prefix}${line}\n`));
    const closed = new Promise((resolve) => reader.on("close", resolve));
    const container = docker.getContainer(info.Id);
    // Docker multiplexes stdout and stderr in one stream; demuxStream splits them back (both go to our stdout).
    const stream = follow ? await container.logs({ follow: true, stdout: true, stderr: true }) : new PassThrough().end(await container.logs({ follow: false, stdout: true, stderr: true }));
    docker.modem.demuxStream(stream, lines, lines);
    stream.on("end", () => lines.end());
    await closed;
  };
  // Followed logs interleave as they come; past logs are shown one container after the other.
  if (follow) await Promise.all(roles.map(show));
  else for (const role of roles) await show(role);
  return EXIT.passed;
}

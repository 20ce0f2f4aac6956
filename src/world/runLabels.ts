/**
 * Every container and network of a run carries these labels, so that a run
 * that died (SIGKILL, power cut) can be recognised and removed by the next
 * one: its owner process no longer exists on this host.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { dockerClient } from "./docker.js";

export const LABEL_RUN = "starttls-lab.run";
export const LABEL_PID = "starttls-lab.pid";
export const LABEL_HOST = "starttls-lab.host";

export function newRunId(): string {
  return `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${randomBytes(3).toString("hex")}`;
}

export function runLabels(runId: string): Record<string, string> {
  return { [LABEL_RUN]: runId, [LABEL_PID]: String(process.pid), [LABEL_HOST]: os.hostname() };
}

function ownerIsAlive(labels: Record<string, string>): boolean {
  if (labels[LABEL_HOST] !== os.hostname()) return true; // not ours to judge
  const pid = Number(labels[LABEL_PID]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Remove one run's containers and network, whoever owns it. */
export async function removeRun(runId: string): Promise<CleanReport> {
  return removeMatching((labels) => labels[LABEL_RUN] === runId);
}

export interface CleanReport {
  containers: string[];
  networks: string[];
}

/**
 * Remove the containers and networks of runs whose owner process is gone
 * (or of every run, with `all`, except `keepRunId`).
 */
export async function removeLeftovers(options: { all?: boolean; keepRunId?: string } = {}): Promise<CleanReport> {
  return removeMatching((labels) => labels[LABEL_RUN] !== options.keepRunId && (options.all === true || !ownerIsAlive(labels)));
}

/**
 * Worlds of one process start side by side and each sweeps first: they share
 * one sweep, so two never remove the same dead run's network while the
 * other is still removing its containers ("network has active endpoints").
 */
let sweeping: Promise<CleanReport> | undefined;

/** The dead runs' containers and networks, removed once for every world starting now. */
export function sweepDeadRuns(): Promise<CleanReport> {
  sweeping ??= removeLeftovers().finally(() => {
    sweeping = undefined;
  });
  return sweeping;
}

async function removeMatching(isDoomed: (labels: Record<string, string>) => boolean): Promise<CleanReport> {
  const docker = dockerClient();
  const report: CleanReport = { containers: [], networks: [] };
  const doomed = (labels: Record<string, string> | undefined): boolean =>
    labels !== undefined && labels[LABEL_RUN] !== undefined && isDoomed(labels);

  const containers = await docker.listContainers({ all: true, filters: { label: [LABEL_RUN] } });
  await Promise.all(
    containers
      .filter((info) => doomed(info.Labels))
      .map(async (info) => {
        await docker.getContainer(info.Id).remove({ force: true, v: true }).catch(ignoreMissing);
        report.containers.push(info.Names[0]?.replace(/^\//, "") ?? info.Id.slice(0, 12));
      }),
  );
  const networks = await docker.listNetworks({ filters: { label: [LABEL_RUN] } });
  for (const info of networks.filter((network) => doomed(network.Labels))) {
    await docker.getNetwork(info.Id).remove().catch(ignoreMissingOrBusy);
    report.networks.push(info.Name);
  }
  return report;
}

function ignoreMissing(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 404 || status === 409) return;
  throw error;
}

/**
 * Another process's sweep may still be removing this network's containers:
 * Docker then refuses (403, "active endpoints"), and that sweep removes the
 * network once they are gone.
 */
function ignoreMissingOrBusy(error: unknown): void {
  const { statusCode, message } = error as { statusCode?: number; message?: string };
  if (statusCode === 403 && /active endpoints/i.test(message ?? "")) return;
  ignoreMissing(error);
}

/**
 * Every container and network of a run carries these labels, so that a run
 * that died (SIGKILL, power cut) can be recognised and removed by the next
 * one: its owner process no longer exists on this host. A world started by
 * `starttls-lab up` outlives its process on purpose: it is labelled kept,
 * and only `down` or `clean --all` removes it.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { processAlive } from "./buildLock.js";
import { dockerClient } from "./docker.js";

export const LABEL_RUN = "starttls-lab.run";
export const LABEL_PID = "starttls-lab.pid";
export const LABEL_HOST = "starttls-lab.host";
/** Which container of the world it is: dns, sender, receiver or wire. */
export const LABEL_ROLE = "starttls-lab.role";
/** The name of the world that stays up (`up --name`): its owner process exits once the world is ready. */
export const LABEL_KEPT = "starttls-lab.kept";

export function newRunId(): string {
  return `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${randomBytes(3).toString("hex")}`;
}

/**
 * A kept world names init (pid 1) as its owner: it lives as long as the
 * machine, not as the process that started it, and so even a harness that
 * predates the kept label (another checkout on the same machine) leaves it
 * alone.
 */
const KEPT_OWNER_PID = 1;

export function runLabels(runId: string, keptAs?: string): Record<string, string> {
  const owner = keptAs === undefined ? process.pid : KEPT_OWNER_PID;
  return { [LABEL_RUN]: runId, [LABEL_PID]: String(owner), [LABEL_HOST]: os.hostname(), ...(keptAs !== undefined ? { [LABEL_KEPT]: keptAs } : {}) };
}

function ownerIsAlive(labels: Record<string, string>): boolean {
  if (labels[LABEL_HOST] !== os.hostname()) return true; // not ours to judge
  const pid = Number(labels[LABEL_PID]);
  return Number.isInteger(pid) && pid > 0 && processAlive(pid);
}

/** Remove one run's containers and network, whoever owns it. */
export async function removeRun(runId: string): Promise<CleanReport> {
  return removeMatching((labels) => labels[LABEL_RUN] === runId);
}

/** Remove the world kept under this name (`starttls-lab down`), found by its label even when its state file is lost. */
export async function removeKeptWorld(name: string): Promise<CleanReport> {
  return removeMatching((labels) => labels[LABEL_KEPT] === name);
}

export interface CleanReport {
  containers: string[];
  networks: string[];
}

/**
 * Remove the containers and networks of runs whose owner process is gone,
 * except kept worlds (or of every run, with `all`, except `keepRunId`).
 */
export async function removeLeftovers(options: { all?: boolean; keepRunId?: string } = {}): Promise<CleanReport> {
  return removeMatching(
    (labels) => labels[LABEL_RUN] !== options.keepRunId && (options.all === true || (labels[LABEL_KEPT] === undefined && !ownerIsAlive(labels))),
  );
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

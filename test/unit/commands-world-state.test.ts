/** The state file a world that stays up leaves for later commands: where it goes, who may read it, what names it takes. */
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { UsageError } from "../../src/commands/shared.js";
import { mayToMay } from "../../src/commands/up.js";
import { caPath, forgetWorld, readWorldState, statePath, worldName, writeWorldState, type WorldState } from "../../src/commands/worldState.js";
import { LABEL_KEPT, LABEL_PID, runLabels } from "../../src/world/runLabels.js";

let cache: string;
const before = process.env.STARTTLS_LAB_CACHE;

beforeEach(async () => {
  cache = await mkdtemp(path.join(os.tmpdir(), "world-state-"));
  process.env.STARTTLS_LAB_CACHE = cache;
});

afterEach(async () => {
  if (before === undefined) delete process.env.STARTTLS_LAB_CACHE;
  else process.env.STARTTLS_LAB_CACHE = before;
  await rm(cache, { recursive: true, force: true });
});

function stateNamed(name: string): WorldState {
  const presented = { variant: "valid", key: "rsa", certSha256: { hex: "aa", postfix: "AA", tlsa: "aa" }, pkeySha256: { hex: "bb", postfix: "BB", tlsa: "bb" }, subjectCN: "mx.iroco.test", chainWithCa: false } as const;
  return {
    name,
    startedAt: "2026-12-01T16:00:00.000Z",
    memory: {
      runId: "20261201160000-abcdef",
      networkName: "starttls-lab-20261201160000-abcdef",
      postfix: { sender: "3.10", receiver: "3.10" },
      providers: { sender: { password: "alice-secret", presented, ownFiles: [] }, receiver: { password: "bob-secret", presented, ownFiles: ["/etc/postfix/sni"] } },
    },
    applied: mayToMay(),
    caFile: caPath(name),
  };
}

describe("the state file", () => {
  test("lives under the cache's worlds/, holds the passwords readable by its owner only, and reads back whole", async () => {
    const state = stateNamed("lab");
    await writeWorldState(state, "-----BEGIN CERTIFICATE-----\n");
    expect(statePath("lab")).toBe(path.join(cache, "worlds", "lab.json"));
    expect((await stat(statePath("lab"))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(cache, "worlds"))).mode & 0o777).toBe(0o700);
    expect(await readWorldState("lab")).toEqual(state);
  });

  test("forgetting a world removes its state and its CA file; an unknown world reads as none", async () => {
    await writeWorldState(stateNamed("lab"), "ca");
    await forgetWorld("lab");
    expect(await readWorldState("lab")).toBeUndefined();
    await expect(stat(caPath("lab"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("world names", () => {
  test.each(["default", "e2e-1234", "class-3b"])("%s is accepted", (name) => expect(worldName(name)).toBe(name));
  test.each(["../etc", "Upper", "", "a b", "x".repeat(32)])("%j is refused as bad usage", (name) => expect(() => worldName(name)).toThrow(UsageError));
  test("no --name means the default world", () => expect(worldName(undefined)).toBe("default"));
});

describe("labels", () => {
  test("a kept world is labelled with its name and owned by init, a run by its process", () => {
    expect(runLabels("r", "lab")).toMatchObject({ [LABEL_KEPT]: "lab", [LABEL_PID]: "1" });
    const run = runLabels("r");
    expect(run[LABEL_PID]).toBe(String(process.pid));
    expect(run).not.toHaveProperty(LABEL_KEPT);
  });
});

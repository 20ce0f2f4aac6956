/**
 * Faults provoked for real: no engine, a broken image, a container that
 * dies mid-run, a stray copy of a message, and a corpus of broken scenario
 * files. Each must end in a clear message, the right exit code, and nothing
 * left behind. (SIGINT and SIGKILL are in cleanup.test.ts.)
 */
import { cp, mkdtemp, mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chosenPostfixRelease, DEBIAN_RELEASE_OF } from "../../src/core/releases.js";
import { runScenario, runScenarios } from "../../src/runner.js";
import { scenarioFromYaml } from "../../src/scenario/inline.js";
import { DnsContainer } from "../../src/world/dnsContainer.js";
import { dockerClient } from "../../src/world/docker.js";
import { baseImageOf, ensureImage } from "../../src/world/images.js";
import { newRunId, removeRun, runLabels } from "../../src/world/runLabels.js";
import { defaultCacheDir, MailWorld } from "../../src/world/world.js";
import { ContainerStartError, type WorldNetwork } from "../../src/world/worldContainer.js";
import { childEnv, runCli } from "./helpers/cli.js";
import { containersCreatedBy, ownedBy } from "./helpers/docker.js";

describe("the command line when the environment is broken", () => {
  test("no Docker engine: exit 2, and the message says how to start one", async () => {
    const result = await runCli(["run", "test/fixtures/scenarios/cli/passes.yaml"], {
      env: { ...childEnv(), DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("No Docker engine answers");
    expect(result.stderr).toContain("Fix: run `sudo bash docker/setup.sh`");
  });

  test("an image that fails to build: exit 2 with the tail of the build log, and no build container left", async () => {
    const dockerDir = await mkdtemp(path.join(os.tmpdir(), "broken-docker-"));
    await mkdir(path.join(dockerDir, "mta"));
    // A fork's docker/ folder: the wire, the dns and Dovecot's configuration as shipped, a broken mta.
    for (const image of ["wire", "dns", "dovecot"]) await cp(path.join("docker", image), path.join(dockerDir, image), { recursive: true });
    await writeFile(
      path.join(dockerDir, "mta", "Dockerfile"),
      `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo "E: Unable to locate package postfixx (${path.basename(dockerDir)})" && exit 100\n`,
    );
    const result = await runCli(["run", "test/fixtures/scenarios/cli/passes.yaml"], { env: { ...childEnv(), STARTTLS_LAB_DOCKER_DIR: dockerDir } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Building image starttls-lab\/mta-[\d.]+:\S+ failed/);
    expect(result.stderr).toContain("last lines of the build log");
    expect(result.stderr).toContain("E: Unable to locate package postfixx");
    expect(await ownedBy(result.pid)).toEqual({ containers: [], networks: [] });
    // The failed RUN step ran in a container made from the base image; the
    // engine keeps it, stopped, unless the build asked for its removal.
    // The folder's name in its command tells it from other builds' containers.
    const baseImage = baseImageOf(DEBIAN_RELEASE_OF[chosenPostfixRelease()].suite);
    const fromBase = await new Docker().listContainers({ all: true, filters: { ancestor: [baseImage] } });
    expect(fromBase.filter((container) => container.Command.includes(path.basename(dockerDir)))).toEqual([]);
  }, 120_000);

  test("the whole corpus of broken scenario files: exit 2, every file named with its line, nothing started", async () => {
    const huge = path.join(await mkdtemp(path.join(os.tmpdir(), "huge-")), "huge.yaml");
    await writeFile(huge, `name: huge\nstory: "${"x".repeat(1_100_000)}"\nexpect: { outcome: delivered, transport: tls }\n`);
    const started = Date.now();
    const result = await runCli(["run", "test/fixtures/scenarios/broken", huge]);
    expect(result.code).toBe(2);
    for (const file of ["auth-on-port-25", "bad-enum", "bad-regex", "binary", "delivered-with-reason", "duplicate-names", "empty",
      "matrix-bad-axis-value", "matrix-missing-cell", "matrix-overlap", "matrix-unknown-value", "plaintext-with-tls", "unknown-key",
      "wrong-type", "yaml-syntax"]) {
      expect(result.stderr).toMatch(new RegExp(`broken/${file}\\.yaml:\\d+`));
    }
    expect(result.stderr).toMatch(/huge\.yaml: .*(large|big|MiB)/i);
    expect(await containersCreatedBy(result.pid, started, Date.now())).toEqual([]);
  });
});

describe("a container that dies mid-run", () => {
  let world: MailWorld;
  beforeAll(async () => {
    world = await MailWorld.start();
  }, 300_000);
  afterAll(() => world?.stop());

  test("fails the scenario with the container's last log lines, reports the rest as not run, and stops cleanly", async () => {
    const passing = scenarioFromYaml(`
      name: before the crash
      expect: { outcome: delivered, transport: tls }
    `);
    const first = await runScenario(world, passing);
    expect(first.verdict.passed).toBe(true);

    await new Docker().getContainer(world.receiver.getId()).kill();
    const after = [1, 2].map((n) =>
      scenarioFromYaml(`
        name: after the crash ${n}
        expect: { outcome: delivered, transport: tls }
      `),
    );
    const run = await runScenarios(after, { world });

    expect(run.results).toHaveLength(2);
    const [broken, skipped] = run.results;
    expect(broken!.error).toMatch(/the receiver container \(mx\.iroco\.test\) stopped \(exit code 137\); its last log lines:/);
    expect(broken!.error).toMatch(/postfix\/\w+\[\d+\]/);
    expect(skipped!.error).toBe('not run: a container of the world died during "after the crash 1"');
  }, 120_000);
});

describe("a container that never says it is ready", () => {
  test("the error names the container and carries its last log lines, testcontainers' own message as the reason", async () => {
    const runId = newRunId();
    const network: WorldNetwork = { runId, name: `starttls-lab-${runId}`, labels: runLabels(runId) };
    await dockerClient().createNetwork({ Name: network.name, Driver: "bridge", Labels: network.labels });
    try {
      const image = await ensureImage("dns", path.join(defaultCacheDir(), "locks"));
      // The dns image, told to log a complaint and idle instead of starting knot and unbound.
      const failed = await new DnsContainer(image.tag)
        .inWorld(network, "dns")
        .withEntrypoint(["sh", "-c", "echo 'knotd: error: config, file /etc/knot/knot.conf, line 3: invalid item'; exec sleep 600"])
        .withStartupTimeout(3_000)
        .start()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failed).toBeInstanceOf(ContainerStartError);
      const message = (failed as Error).message;
      expect(message).toMatch(/^the dns container did not start: Log message .*lab-dns: ready.* not received after 3000ms\n/);
      expect(message).toContain("\n  its last log lines:\n    knotd: error: config, file /etc/knot/knot.conf, line 3: invalid item");
    } finally {
      const removed = await removeRun(runId);
      expect(removed.networks).toEqual([network.name]);
    }
  });
});

describe("a wire that dies mid-run", () => {
  let world: MailWorld;
  beforeAll(async () => {
    world = await MailWorld.start();
  }, 300_000);
  afterAll(() => world?.stop());

  test("fails the scenario with the wire's last log lines, not with a confusing deferral", async () => {
    await new Docker().getContainer(world.wire.getId()).kill();
    const run = await runScenarios([scenarioFromYaml(`
      name: after the wire died
      expect: { outcome: delivered, transport: tls }
    `)], { world });
    const [broken] = run.results;
    expect(broken!.verdict.passed).toBe(false);
    expect(broken!.error).toMatch(/the wire container stopped \(exit code 137\); its last log lines:\n\s+wire: listening on port 25/);
  }, 120_000);
});

describe("a dns container that dies mid-run", () => {
  let world: MailWorld;
  beforeAll(async () => {
    world = await MailWorld.start();
  }, 300_000);
  afterAll(() => world?.stop());

  test("fails the scenario with the dns container's last log lines", async () => {
    await new Docker().getContainer(world.dns.getId()).kill();
    const run = await runScenarios([scenarioFromYaml(`
      name: after the dns died
      dns: { tlsa: none }
      expect: { outcome: delivered, transport: tls }
    `)], { world });
    const [broken] = run.results;
    expect(broken!.verdict.passed).toBe(false);
    expect(broken!.error).toMatch(/the dns container stopped \(exit code 137\); its last log lines:/);
  }, 120_000);
});

describe("accounting", () => {
  let world: MailWorld;
  beforeAll(async () => {
    world = await MailWorld.start();
  }, 300_000);
  afterAll(() => world?.stop());

  test("a stray copy in another mailbox fails the scenario even though Bob got his", async () => {
    // always_bcc makes Alice's provider keep a copy for Alice: a real stray delivery.
    const result = await runScenario(
      world,
      scenarioFromYaml(`
        name: stray copy
        sender: { postconf: { always_bcc: alice@infomaniak.test } }
        expect: { outcome: delivered, transport: tls }
      `),
    );
    expect(result.verdict.passed).toBe(false);
    expect(result.error).toMatch(/is not accounted for exactly once: alice@infomaniak\.test's inbox holds 1 copies, expected 0/);
  });

  test("without the stray copy, the same message is accounted for", async () => {
    const result = await runScenario(
      world,
      scenarioFromYaml(`
        name: no stray copy
        expect: { outcome: delivered, transport: tls }
      `),
    );
    expect(result.error).toBeUndefined();
    expect(result.observation!.evidence.at(-1)).toEqual({
      source: "harness",
      line: "accounted for: alice@infomaniak.test holds 0, bob@iroco.test holds 1, carol@lutins.test holds 0, dan@ecole.test holds 0",
    });
  });
});

/**
 * What every container of a test world has in common, in the shape of
 * testcontainers' modules: a GenericContainer subclass (the builder) whose
 * start() returns a started container with typed getters and operations
 * (AbstractStartedContainer, as PostgreSqlContainer → StartedPostgreSqlContainer).
 *
 * Two things differ from testcontainers' defaults: ports are published on
 * 127.0.0.1 only, and the container joins the run's private network directly
 * (with its DNS aliases) instead of testcontainers' "default bridge first,
 * then connect" route, so it is never on any network but its world's. Both
 * rewrite testcontainers' protected create options in beforeContainerCreated;
 * test/unit/world-container.test.ts fails if an upgrade changes them.
 */
import { AbstractStartedContainer, GenericContainer, type ExecResult, type StartedTestContainer } from "testcontainers";
import { dockerClient } from "./docker.js";
import { LogBook } from "./logBook.js";

/** The run a container belongs to: its private network, and the labels that let a later run clean up after a dead one. */
export interface WorldNetwork {
  runId: string;
  name: string;
  labels: Record<string, string>;
}

/** How a container of the world is named in logs, errors and death notices. */
export interface ContainerTitle {
  /** The LogBook's name, e.g. "sender (Alice's provider)". */
  log: string;
  /** e.g. "the sender container (smtp.infomaniak.test)". */
  container: string;
}

/** How many of its last log lines a container that failed to start shows. */
const START_LOG_LINES = 20;

/**
 * A container that did not start, or did not say it was ready in time
 * (testcontainers' wait strategy). testcontainers' own error names neither
 * the container nor what it logged, which is what tells a slow start from a
 * broken one; this one names both, the original as its cause.
 */
export class ContainerStartError extends Error {
  constructor(container: string, cause: unknown, lastLogLines: string[]) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `${container} did not start: ${reason}` +
        (lastLogLines.length > 0 ? `\n  its last log lines:\n    ${lastLogLines.join("\n    ")}` : "\n  it logged nothing"),
      { cause },
    );
    this.name = "ContainerStartError";
  }
}

export abstract class WorldContainer<Started extends StartedWorldContainer> extends GenericContainer {
  private aliases: string[] = [];
  private network?: WorldNetwork;
  protected readonly log: LogBook;

  constructor(
    image: string,
    protected readonly title: ContainerTitle,
  ) {
    super(image);
    this.log = new LogBook(title.log);
    this.withLogConsumer((stream) => this.log.attach(stream));
  }

  /** Join the world's network under these names (what the other containers resolve), named and labelled as its run's. */
  inWorld(network: WorldNetwork, nameSuffix: string, aliases: string[] = []): this {
    this.aliases = aliases;
    this.network = network;
    return this.withNetworkMode(network.name).withName(`starttls-lab-${network.runId}-${nameSuffix}`).withLabels(network.labels);
  }

  override async start(): Promise<Started> {
    const network = this.worldNetwork();
    let container: StartedTestContainer;
    try {
      container = await super.start();
    } catch (error) {
      throw new ContainerStartError(this.title.container, error, this.log.tail(START_LOG_LINES));
    }
    return this.started(container, container.getIpAddress(network.name));
  }

  private worldNetwork(): WorldNetwork {
    if (!this.network) throw new Error(`${this.title.container}: call inWorld() before start()`);
    return this.network;
  }

  /** Wraps testcontainers' started container into this module's own. */
  protected abstract started(container: StartedTestContainer, address: string): Started;

  protected override async beforeContainerCreated(): Promise<void> {
    const network = this.worldNetwork();
    const bindings = this.hostConfig.PortBindings as Record<string, Array<{ HostPort?: string; HostIp?: string }>> | undefined;
    for (const binding of Object.values(bindings ?? {})) {
      for (const entry of binding) entry.HostIp = "127.0.0.1";
    }
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network.name]: { Aliases: this.aliases } } };
  }
}

/** A started container of the world: its log, its address on the world's network, one checked exec, and how it died. */
export class StartedWorldContainer extends AbstractStartedContainer {
  constructor(
    container: StartedTestContainer,
    readonly log: LogBook,
    protected readonly title: ContainerTitle,
    /** Its IPv4 address on the world's network. */
    readonly address: string,
  ) {
    super(container);
  }

  /** Runs a command that must succeed: a non-zero exit is an error naming the container, with the command's output. */
  async run(command: string[]): Promise<ExecResult> {
    const result = await this.exec(command);
    if (result.exitCode !== 0) {
      throw new Error(`${command.join(" ")} failed in ${this.title.container} (exit ${result.exitCode}): ${result.output.trim()}`);
    }
    return result;
  }

  /**
   * Undefined while the container runs; otherwise which one stopped, how
   * ("exit code 137, out of memory", "removed") and its last log lines.
   */
  async deathNotice(): Promise<string | undefined> {
    const state = await dockerClient()
      .getContainer(this.getId())
      .inspect()
      .then((info) => info.State)
      .catch(() => undefined);
    if (state?.Running) return undefined;
    const how = state ? `exit code ${state.ExitCode}${state.OOMKilled ? ", out of memory" : ""}` : "removed";
    return `${this.title.container} stopped (${how}); its last log lines:\n    ${this.log.tail(12).join("\n    ")}`;
  }
}

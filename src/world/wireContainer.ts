/**
 * The wire's container: the Node.js proxy on the port-25 hop, with its
 * control port. Started, it takes a scenario's mode and the marker to look
 * for, and gives the transcripts of the scenario's connections once they have
 * all closed; spoken over the control port, published on 127.0.0.1.
 */
import { Wait, type StartedTestContainer } from "testcontainers";
import type { ServerCredentials } from "../pki/types.js";
import type { WireMode, WireTranscript } from "../wire/transcript.js";
import type { WireProgram } from "./wireProgram.js";
import { LABEL_ROLE } from "./runLabels.js";
import { StartedWorldContainer, WorldContainer } from "./worldContainer.js";

export const WIRE_SMTP_PORT = 25;
export const WIRE_CONTROL_PORT = 8025;

const MITM_CERT = "/etc/wire/mitm.pem";
const MITM_KEY = "/etc/wire/mitm.key";

/** How long the scenario's connections may take to close after the message settled. */
const SETTLE_TIMEOUT_MS = 15_000;

export interface WireHops {
  hops: WireTranscript[];
  /** Connections still open when the wait ended (0 unless something hung). */
  open: number;
}

/** The scenario's connections as the wire has recorded them so far, and the version of that record. */
export interface LiveHops {
  version: number;
  hops: WireTranscript[];
}

export const WIRE_TITLE = { log: "wire", container: "the wire container" } as const;

export class WireContainer extends WorldContainer<StartedWireContainer> {
  constructor(image: string) {
    super(image, WIRE_TITLE);
    // Port 25 on 127.0.0.1 too: an admin's swaks or openssl reaches the receiver the way the sender does, through the wire.
    this.withExposedPorts(WIRE_CONTROL_PORT, WIRE_SMTP_PORT)
      .withWaitStrategy(Wait.forLogMessage(/^wire: listening on port 25/))
      .withStartupTimeout(30_000)
      .withLabels({ [LABEL_ROLE]: "wire" });
  }

  /** The real server the wire relays to (the receiver's name on the world's network). */
  withUpstream(host: string, port: number): this {
    return this.withEnvironment({ WIRE_UPSTREAM: `${host}:${port}` });
  }

  withProgram(program: WireProgram): this {
    return this.withCopyContentToContainer(
      Object.entries(program).map(([name, content]) => ({ content, target: `/opt/wire/${name}`, mode: 0o644 })),
    );
  }

  /** The certificate the wire presents when it plays the man in the middle. */
  withMitmCertificate(attacker: ServerCredentials): this {
    return this.withEnvironment({ WIRE_MITM_CERT: MITM_CERT, WIRE_MITM_KEY: MITM_KEY }).withCopyContentToContainer([
      { content: attacker.certPem, target: MITM_CERT, mode: 0o644 },
      { content: attacker.keyPem, target: MITM_KEY, mode: 0o600 },
    ]);
  }

  protected override started(container: StartedTestContainer, address: string): StartedWireContainer {
    return new StartedWireContainer(container, this.log, this.title, address);
  }
}

export class StartedWireContainer extends StartedWorldContainer {
  /** The receiver's port 25 as the sender meets it (through the wire), on 127.0.0.1. */
  get smtpPort(): number {
    return this.getMappedPort(WIRE_SMTP_PORT);
  }

  private url(path: string): string {
    return `http://127.0.0.1:${this.getMappedPort(WIRE_CONTROL_PORT)}${path}`;
  }

  /** From the next connection on: this mode, and this marker to look for in the body. */
  async prepare(mode: WireMode, marker: string): Promise<void> {
    const response = await fetch(this.url("/scenario"), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode, marker }),
    });
    if (!response.ok) throw new Error(`the wire refused mode ${mode}: ${response.status} ${await response.text()}`);
  }

  /** From the next connection on: this mode, within the same scenario (its connections so far are kept). */
  async changeMode(mode: WireMode): Promise<void> {
    const response = await fetch(this.url("/mode"), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode }),
    });
    if (!response.ok) throw new Error(`the wire refused mode ${mode}: ${response.status} ${await response.text()}`);
  }

  /**
   * What the wire recorded of the scenario's connections so far, the open
   * ones too, once something changed after `since` (or after timeoutMs):
   * a long poll, so a live view redraws when bytes move, not on a timer.
   */
  async live(since: number, timeoutMs: number): Promise<LiveHops> {
    const response = await fetch(this.url(`/live?since=${since}&timeoutMs=${timeoutMs}`));
    if (!response.ok) throw new Error(`the wire did not give its live record: ${response.status} ${await response.text()}`);
    return (await response.json()) as LiveHops;
  }

  /** The scenario's connections, once none is open any more (waits on the wire, not on a clock). */
  async hops(timeoutMs = SETTLE_TIMEOUT_MS): Promise<WireHops> {
    const response = await fetch(this.url(`/hops?timeoutMs=${timeoutMs}`));
    if (!response.ok) throw new Error(`the wire did not give its transcripts: ${response.status} ${await response.text()}`);
    return (await response.json()) as WireHops;
  }
}

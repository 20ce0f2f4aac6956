/**
 * The harness's handle on the wire container: sets its mode and the marker
 * to look for before a scenario, and fetches the transcripts of the
 * scenario's connections once they have all closed. Spoken over the wire's
 * control port, published on 127.0.0.1.
 */
import type { StartedTestContainer } from "testcontainers";
import { deathNotice } from "./docker.js";
import type { LogBook } from "./logBook.js";
import type { WireMode, WireTranscript } from "../wire/transcript.js";
import { WIRE_CONTROL_PORT } from "./wireContainer.js";

/** How long the scenario's connections may take to close after the message settled. */
const SETTLE_TIMEOUT_MS = 15_000;

export interface WireHops {
  hops: WireTranscript[];
  /** Connections still open when the wait ended (0 unless something hung). */
  open: number;
}

export class Wire {
  constructor(
    readonly container: StartedTestContainer,
    readonly log: LogBook,
  ) {}

  private url(path: string): string {
    return `http://127.0.0.1:${this.container.getMappedPort(WIRE_CONTROL_PORT)}${path}`;
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

  /** The scenario's connections, once none is open any more (waits on the wire, not on a clock). */
  async hops(timeoutMs = SETTLE_TIMEOUT_MS): Promise<WireHops> {
    const response = await fetch(this.url(`/hops?timeoutMs=${timeoutMs}`));
    if (!response.ok) throw new Error(`the wire did not give its transcripts: ${response.status} ${await response.text()}`);
    return (await response.json()) as WireHops;
  }

  /** Undefined while the container runs; otherwise what stopped it, with its last log lines. */
  deathNotice(): Promise<string | undefined> {
    return deathNotice("the wire container", this.container, this.log);
  }
}

/**
 * Reads the wire's side of a scenario once the message settled: the
 * transcripts of every connection on the port-25 hop, and for the inject mode
 * the receiver's own account of what it did with the injected command.
 */
import { observeWire, wireEvidence } from "../observe/wire.js";
import type { Evidence } from "../observe/evidence.js";
import type { WireObservation } from "../observe/types.js";
import type { WireMode } from "../scenario/types.js";
import type { MailWorld } from "../world/world.js";
import type { LogCursors } from "./follow.js";

const DISCONNECT_TIMEOUT_MS = 10_000;

export async function readWire(world: MailWorld, mode: WireMode, cursors: LogCursors): Promise<{ wire: WireObservation; evidence: Evidence[] }> {
  const { hops, open } = await world.wire.hops();
  if (hops.some((hop) => hop.transcript.injected !== undefined)) {
    // smtpd logs what it made of the injected bytes before its session ends;
    // the log stream may trail the wire's answer, so wait for that end.
    await world.receiver.log.waitFor((line) => /postfix\/smtpd\[\d+\]: disconnect from/.test(line), {
      from: cursors.receiver,
      timeoutMs: DISCONNECT_TIMEOUT_MS,
      what: "the receiver's smtpd to end the session the wire injected into",
    });
  }
  const wire = observeWire(mode, hops, world.receiver.log.since(cursors.receiver));
  return { wire, evidence: wireEvidence(wire, open) };
}

/**
 * The wire's part of the observation: what crossed the port-25 hop over all
 * of the scenario's connections, and — when the wire injected a command
 * after STARTTLS — whether the receiving Postfix threw it away, from its log.
 */
import type { TlsHandshakeEvent, WireMode, WireTranscript } from "../wire/transcript.js";
import { statement, type Evidence } from "./evidence.js";
import type { WireObservation } from "./types.js";

/** smtpd's end-of-session line, which counts every command it executed, e.g. "ehlo=2 starttls=1 … commands=7". */
const SESSION_END = /postfix\/smtpd\[\d+\]: disconnect from \S+ (.*\bcommands=\d+.*)$/;

/**
 * Did the receiver execute the command the wire injected after STARTTLS?
 * Postfix discards such bytes silently; what shows it is smtpd's own count
 * of the commands it executed, logged when the session ends: the sending
 * Postfix never sends the injected command itself (no connection cache in
 * this world), so any count of it there means it was executed.
 */
function injectionVerdict(command: string, receiverLog: readonly string[]): { discarded: boolean; evidence?: string } {
  const counted = new RegExp(`\\b${command.toLowerCase()}=\\d`);
  const sessions = receiverLog.filter((line) => SESSION_END.test(line));
  if (sessions.length === 0) return { discarded: false };
  const executed = sessions.find((line) => counted.test(line));
  if (executed) return { discarded: false, evidence: `${executed}\n  (the receiver executed the injected ${command})` };
  const counts = SESSION_END.exec(sessions[0]!)?.[1] ?? "";
  return { discarded: true, evidence: `receiver's smtpd executed ${counts}: no ${command.toLowerCase()}, the injected ${command} was discarded` };
}

/** The last handshake event of the hop that named the server's key exchange group. */
function keyExchangeEvent(hop: WireTranscript): TlsHandshakeEvent | undefined {
  return hop.transcript.events.findLast(
    (event): event is TlsHandshakeEvent => event.kind === "tls-handshake" && event.from === "server" && event.keyExchange !== undefined,
  );
}

/** The connection that ran the final TLS session: the last one whose handshake named a group. */
function lastKeyExchange(hops: readonly WireTranscript[]): { hop: WireTranscript; event: TlsHandshakeEvent } | undefined {
  for (const hop of [...hops].reverse()) {
    const event = keyExchangeEvent(hop);
    if (event) return { hop, event };
  }
  return undefined;
}

export function observeWire(mode: WireMode, hops: readonly WireTranscript[], receiverLog: readonly string[]): WireObservation {
  const observation: WireObservation = {
    mode,
    plaintextBody: hops.some((hop) => hop.transcript.plaintextBody),
    attackerReadBody: hops.some((hop) => hop.transcript.attackerReadBody === true),
    hops: [...hops],
  };
  const injected = hops.find((hop) => hop.transcript.injected !== undefined)?.transcript.injected;
  if (injected !== undefined) observation.injection = { command: injected, ...injectionVerdict(injected, receiverLog) };
  const keyExchange = lastKeyExchange(hops)?.event.keyExchange;
  if (keyExchange !== undefined) observation.keyExchange = keyExchange;
  return observation;
}

/** The wire's evidence: how many connections, whether the body was readable, what the attacker did. */
export function wireEvidence(observation: WireObservation, stillOpen: number): Evidence[] {
  const count = observation.hops.length;
  const evidence: Evidence[] = [];
  const say = (line: string) => evidence.push(statement("wire", line));
  say(
    `wire (${observation.mode}): ${count} connection${count === 1 ? "" : "s"} on the port-25 hop; ` +
      `message readable by an eavesdropper: ${observation.plaintextBody ? "yes" : "no"}` +
      (observation.attackerReadBody ? "; read by the wire itself after terminating TLS" : ""),
  );
  for (const hop of observation.hops) {
    // Bob's server was down: the wire reset the sender's connection rather than answer for it.
    if (hop.transcript.upstreamUnreachable !== undefined) say(`wire: connection ${hop.id}: Bob's server unreachable (${hop.transcript.upstreamUnreachable}); the sender's connection was reset`);
    for (const event of hop.transcript.events) {
      if (event.kind === "tampered") say(`wire: connection ${hop.id}: ${event.what}`);
    }
  }
  const keyExchange = lastKeyExchange(observation.hops);
  if (keyExchange) {
    // TLS 1.2 may carry its ServerKeyExchange in the ServerHello's own record.
    const where = keyExchange.event.messages?.includes("ServerKeyExchange") ? "the ServerKeyExchange" : "the ServerHello's key_share";
    say(`wire: connection ${keyExchange.hop.id}: key exchange ${keyExchange.event.keyExchange} (${where})`);
  }
  if (observation.injection) {
    // The verdict on the injected command comes from the receiver's log, read in injectionVerdict.
    if (observation.injection.evidence !== undefined) evidence.push({ source: "receiver-log", line: observation.injection.evidence });
    else say(`wire: the receiver logged no end of session, so whether it executed the injected ${observation.injection.command} is unknown`);
  }
  if (stillOpen > 0) say(`wire: ${stillOpen} connection(s) still open when the transcripts were read`);
  return evidence;
}

/**
 * Reads what Alice's provider reported to TLSRPT during one scenario, once
 * the message settled. Postfix logs its "TLSRPT: status=…" line before the
 * delivery's status line, so by then every event of the scenario is in the
 * sender's log; the collector's datagrams travel another way (a socket, a
 * second process) and are waited for, one per logged event.
 */
import { logEvidence, type Evidence } from "../observe/evidence.js";
import { collectorDatagram, combineWitnesses, parseTlsrptDatagram, parseTlsrptLogLine, type TlsrptLogLine } from "../observe/tlsrpt.js";
import type { TlsrptEvent } from "../observe/types.js";
import { MTA_NAMES } from "../scenario/levels.js";
import type { StartedProvider as Provider } from "../world/world.js";

const DATAGRAM_TIMEOUT_MS = 10_000;

/** What the scenario asks of TLSRPT. */
export interface TlsrptInterest {
  /** Bob's provider publishes _smtp._tls (dns.tlsrpt): an empty list then says "nothing reported". */
  published: boolean;
  /** The scenario expects a report: a sender without TLSRPT is then an error, not an absent observation. */
  expected: boolean;
}

/**
 * The events, or no `tlsrpt` at all when the sender has no TLSRPT (another
 * MTA than Postfix, or no collector runs) or when the scenario neither published a TLSRPT policy nor
 * got a report: Postfix reports only to domains that publish one.
 */
export async function readTlsrpt(sender: Provider, from: number, interest: TlsrptInterest): Promise<{ tlsrpt?: TlsrptEvent[]; evidence: Evidence[] }> {
  if (sender.mta !== "postfix") {
    if (interest.expected) throw new Error(`expect.tlsrpt: the sender runs ${MTA_NAMES[sender.mta]}, and the harness reads TLSRPT only from Postfix`);
    return { evidence: [] };
  }
  if (!(await sender.hasTlsrptCollector())) {
    if (interest.expected) {
      throw new Error(`expect.tlsrpt: the sender's Postfix is built without TLSRPT (it came with Postfix 3.10): nothing reports; pin sender.postfix to "3.10" or later`);
    }
    return { evidence: [] };
  }
  const logged = sender.log
    .since(from)
    .map(parseTlsrptLogLine)
    .filter((line): line is TlsrptLogLine => line !== undefined);
  if (logged.length === 0 && !interest.published && !interest.expected) return { evidence: [] };
  if (logged.length > 0) {
    let datagrams = 0;
    await sender.log.waitFor((line) => collectorDatagram(line) !== undefined && ++datagrams === logged.length, {
      from,
      timeoutMs: DATAGRAM_TIMEOUT_MS,
      what: `the collector's ${logged.length} TLSRPT datagram(s) (Postfix logged ${logged.length} TLSRPT event(s))`,
    });
  }
  // The first datagrams are this delivery's: a retry after the status line may already have sent more.
  const datagrams = sender.log
    .since(from)
    .flatMap((line) => collectorDatagram(line) ?? [])
    .slice(0, logged.length);
  // Equal counts (combineWitnesses checks) mean one event per datagram: Postfix reports one policy per handshake.
  const tlsrpt = combineWitnesses(datagrams.flatMap(parseTlsrptDatagram), logged);
  const evidence: Evidence[] = tlsrpt.flatMap((event, index) => [
    logEvidence("sender", logged[index]!.line),
    { source: "tlsrpt" as const, line: datagrams[index]!, event },
  ]);
  return { tlsrpt, evidence };
}

/**
 * Parses `smtpctl show queue` (OpenSMTPD 7.6): one line per envelope, i.e.
 * per message and recipient, as smtpctl.c show_queue_envelope() prints it:
 *   evpid|source|agent|flags|sender|recipient|destination|created|expires|lasttry|retries|runstate|seconds|error
 * e.g. `0b7d4b3a5e1f2c44|inet4|mta|auth|alice@infomaniak.test|bob@iroco.test|bob@iroco.test|1796171257|1796435257|1796171260|1|pending|42|TLS required but not supported by remote host`
 * The error text comes last and may itself hold "|".
 */

/** What the scheduler is doing with an envelope: waiting for its next try, being delivered now, or neither. */
export type EnvelopeRunState = "pending" | "inflight" | "invalid" | "offline";

export interface OpensmtpdEnvelope {
  /** 16 hex digits; the first 8 are the message id. */
  envelopeId: string;
  messageId: string;
  /** "inet4", "inet6" or "local": how the message came in. */
  source: string;
  /** "mta" (relay), "mda" (local delivery) or "bounce". */
  agent: string;
  /** e.g. ["auth"], ["bounce"]; empty for none. */
  flags: string[];
  /** "" for a bounce (<>). */
  sender: string;
  recipient: string;
  /** The address after expansion (aliases, virtual tables). */
  destination: string;
  /** Seconds since the epoch. */
  createdAt: number;
  expiresAt: number;
  /** 0 before the first try. */
  lastTryAt: number;
  retries: number;
  runState: EnvelopeRunState;
  /** Seconds until the next try (pending) or since this one started (inflight). */
  runStateSeconds?: number;
  /** The last try's error, e.g. the remote reply; "" before any. */
  error: string;
}

const RUN_STATES: readonly string[] = ["pending", "inflight", "invalid", "offline"];

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`smtpctl show queue output, line ${lineNo}: ${why}: ${line}`);
}

/** "@" is how smtpctl prints the empty address (its user and domain are both empty). */
function address(printed: string): string {
  return printed === "@" ? "" : printed;
}

function integer(value: string, what: string, lineNo: number, line: string): number {
  if (!/^\d+$/.test(value)) fail(lineNo, line, `${what} is not a number`);
  return Number(value);
}

/** An empty output is an empty queue. Throws on a line that is not an envelope. */
export function parseSmtpctlQueue(output: string): OpensmtpdEnvelope[] {
  const envelopes: OpensmtpdEnvelope[] = [];
  output.split(/\r?\n/).forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === "") return;
    const fields = line.split("|");
    if (fields.length < 14) fail(lineNo, line, `${fields.length} fields, expected at least 14`);
    const [envelopeId, source, agent, flags, sender, recipient, destination, created, expires, lastTry, retries, runState, seconds] = fields as [
      string, string, string, string, string, string, string, string, string, string, string, string, string,
    ];
    if (!/^[0-9a-f]{16}$/.test(envelopeId)) fail(lineNo, line, "the envelope id is not 16 hex digits");
    if (!RUN_STATES.includes(runState)) fail(lineNo, line, `unknown run state "${runState}"`);
    envelopes.push({
      envelopeId,
      messageId: envelopeId.slice(0, 8),
      source,
      agent,
      flags: flags === "" ? [] : flags.split(","),
      sender: address(sender),
      recipient: address(recipient),
      destination: address(destination),
      createdAt: integer(created, "the creation time", lineNo, line),
      expiresAt: integer(expires, "the expiry time", lineNo, line),
      lastTryAt: integer(lastTry, "the last try's time", lineNo, line),
      retries: integer(retries, "the retry count", lineNo, line),
      runState: runState as EnvelopeRunState,
      ...(seconds !== "" && { runStateSeconds: Number(seconds) }),
      error: fields.slice(13).join("|"),
    });
  });
  return envelopes;
}

/**
 * The routes `smtpctl show routes` lists as disabled (flag D), by id: after
 * a failed session OpenSMTPD makes no new connection on the route for a
 * while (mta.c mta_route_disable), so a message scheduled now would fail at
 * once with "No valid route". Each line, as mta.c prints it:
 *   1. [] <-> 192.168.16.5 (192.168.16.5) -D-- nconn=0 nerror=1 penalty=0 timeout=13s
 */
export function disabledRouteIds(output: string): string[] {
  const ids: string[] = [];
  output.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    const match = /^(\d+)\. .+ [N-]([D-])[Q-][K-] nconn=\d+ /.exec(line);
    if (!match) throw new Error(`smtpctl show routes output, line ${index + 1}: not a route: ${line}`);
    if (match[2] === "D") ids.push(match[1]!);
  });
  return ids;
}

/**
 * Header fields a scenario adds to Alice's message (`message.headers`) and
 * expects on the stored copy (`expect.headers`). Names compare
 * case-insensitively, as in RFC 5322; the fields the harness writes itself
 * (its markers, the envelope's addresses, the body's MIME structure) and the
 * ones it reads as evidence cannot be set by a scenario.
 */

/** The header that carries the scenario's name on every message the harness sends. */
export const SCENARIO_MARKER_HEADER = "X-Starttls-Lab-Scenario";

/** RFC 8689 section 5: the sender waives its TLS requirements for this message. */
export const TLS_REQUIRED_HEADER = "TLS-Required";

/** RFC 5322 field-name: printable US-ASCII except the colon. */
export const headerNamePattern = /^[\x21-\x39\x3b-\x7e]+$/;

/** Why the harness keeps each of these for itself (lower-case name → reason). */
const HARNESS_HEADERS: ReadonlyMap<string, string> = new Map([
  ["message-id", "the harness writes it: it carries the marker that finds this message in logs and mailboxes"],
  [SCENARIO_MARKER_HEADER.toLowerCase(), "the harness writes it: it names the scenario on the message"],
  ["from", "write the sender as message.from"],
  ["to", "write the recipient as message.to"],
  ["subject", "write it as message.subject"],
  ["received", "the harness reads the Received headers as the witness of each hop; a written one would forge it"],
  ["mime-version", "the harness writes the body and its MIME structure"],
  ["content-type", "the harness writes the body and its MIME structure"],
  ["content-transfer-encoding", "the harness writes the body and its MIME structure"],
]);

/** Why a scenario may not write header `name`, or undefined when it may. */
export function reservedHeaderReason(name: string): string | undefined {
  return HARNESS_HEADERS.get(name.toLowerCase());
}

/** Why `value` cannot be sent as written, or undefined when it can. */
export function headerValueProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return "a header value must fit on one line (no CR or LF)";
  // Anything else would be encoded (RFC 2047) on the way, and the stored copy would no longer read as written.
  if (!/^[\t\x20-\x7e]*$/.test(value)) return "a header value is printable US-ASCII here (the harness does not encode it)";
  return undefined;
}

/** The names of `names` written more than once, ignoring case, each with the spelling it was first written in. */
export function caseInsensitiveRepeats(names: readonly string[]): Array<{ name: string; first: string }> {
  const seen = new Map<string, string>();
  const repeats: Array<{ name: string; first: string }> = [];
  for (const name of names) {
    const first = seen.get(name.toLowerCase());
    if (first === undefined) seen.set(name.toLowerCase(), name);
    else repeats.push({ name, first });
  }
  return repeats;
}

/** Each name once (ignoring case), in the spelling it was first given. */
export function distinctHeaderNames(names: readonly string[]): string[] {
  return names.filter((name, index) => names.findIndex((other) => other.toLowerCase() === name.toLowerCase()) === index);
}

/** The value of header `name` in `headers`, whatever the case of either spelling. */
export function headerNamed(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(headers).find(([written]) => written.toLowerCase() === wanted)?.[1];
}

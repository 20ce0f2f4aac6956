/**
 * Compares what a scenario expected with what the harness observed.
 *
 * - The outcome must be equal. When it is not, that is the only difference
 *   reported (its observed text carries the observed reason): the other
 *   fields would only repeat it.
 * - delivered: the transport must be equal; when TLS was expected, each
 *   given tls field must be equal (version exact, trust exact, peerName
 *   case-insensitive) and the cipher must match its TextMatcher. A missing
 *   observed value is reported as "none"; a trust no sending MTA judged
 *   (the message was not relayed) never matches an expected one.
 * - deferred, bounced, rejected: the reason, when given, must match its
 *   TextMatcher.
 * - wire: a message Alice's provider relayed to Bob's crossed the wire (it
 *   holds Bob's MX names), so the wire must have seen that connection: with
 *   none, it cannot vouch for anything and that is the only wire difference.
 *   Otherwise each given field must be equal, and for such a relayed
 *   delivery whose expectation does not name plaintextBody and whose
 *   transport is as expected, the wire must agree with that transport
 *   (tls → the body never crossed readable, plaintext → it did): that is
 *   what makes "encrypted" mean encrypted.
 */
import type { Observation } from "../observe/types.js";
import type { Expectation, TlsExpectation, WireExpectation } from "../scenario/types.js";
import type { Difference, Verdict } from "./types.js";
import { describeMatcher, matchText } from "./matchText.js";

const NONE = "none";
const TRUST_NOT_JUDGED = "unknown (no sending MTA judged the certificate: the message was not relayed)";

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function tlsDifferences(expected: TlsExpectation, observed: Observation): Difference[] {
  const differences: Difference[] = [];
  const tls = observed.tls;
  if (expected.version !== undefined && tls?.version !== expected.version) {
    differences.push({ field: "tls.version", expected: expected.version, observed: tls?.version ?? NONE });
  }
  if (expected.trust !== undefined && tls?.trust !== expected.trust) {
    differences.push({ field: "tls.trust", expected: expected.trust, observed: tls?.trust === "unknown" ? TRUST_NOT_JUDGED : (tls?.trust ?? NONE) });
  }
  if (
    expected.peerName !== undefined &&
    (tls?.peerName === undefined || tls.peerName.toLowerCase() !== expected.peerName.toLowerCase())
  ) {
    differences.push({ field: "tls.peerName", expected: expected.peerName, observed: tls?.peerName ?? NONE });
  }
  if (expected.cipher !== undefined && (tls === undefined || !matchText(expected.cipher, tls.cipher))) {
    differences.push({ field: "tls.cipher", expected: describeMatcher(expected.cipher), observed: tls?.cipher ?? NONE });
  }
  return differences;
}

/** Alice's provider relayed the message to Bob's: the hop the wire stands on. */
function crossedTheWire(observed: Observation): boolean {
  return observed.outcome === "delivered" && observed.relayedBy === "sender";
}

/** The wire fields to check: the scenario's own, plus plaintextBody derived from the transport. */
function wireExpectation(expect: Expectation, observed: Observation): WireExpectation {
  const wire = { ...expect.wire };
  // Only when the transport itself agrees: otherwise its own difference already says it all.
  if (wire.plaintextBody === undefined && expect.outcome === "delivered" && crossedTheWire(observed) && observed.transport === expect.transport) {
    wire.plaintextBody = expect.transport === "plaintext";
  }
  return wire;
}

function wireDifferences(expected: WireExpectation, observed: Observation): Difference[] {
  const differences: Difference[] = [];
  const wire = observed.wire;
  const compare = (field: string, want: boolean | undefined, seen: boolean | undefined) => {
    if (want !== undefined && seen !== want) differences.push({ field: `wire.${field}`, expected: String(want), observed: seen === undefined ? NONE : String(seen) });
  };
  compare("plaintextBody", expected.plaintextBody, wire?.plaintextBody);
  compare("attackerReadBody", expected.attackerReadBody, wire?.attackerReadBody);
  compare("injectionDiscarded", expected.injectionDiscarded, wire?.injection?.discarded);
  return differences;
}

/** Judges one observation against one expectation. */
export function judge(expect: Expectation, observed: Observation): Verdict {
  const differences: Difference[] = [];

  if (observed.outcome !== expect.outcome) {
    const reason = observed.reason === undefined ? "" : oneLine(observed.reason);
    differences.push({
      field: "outcome",
      expected: expect.outcome,
      observed: reason === "" ? observed.outcome : `${observed.outcome}: ${reason}`,
    });
    return { passed: false, differences };
  }

  if (expect.outcome === "delivered") {
    if (observed.transport !== expect.transport) {
      differences.push({ field: "transport", expected: expect.transport, observed: observed.transport ?? NONE });
    }
    if (expect.transport === "tls" && expect.tls) differences.push(...tlsDifferences(expect.tls, observed));
  } else if (expect.reason) {
    if (observed.reason === undefined || !matchText(expect.reason, observed.reason)) {
      differences.push({
        field: "reason",
        expected: describeMatcher(expect.reason),
        observed: observed.reason ?? NONE,
      });
    }
  }
  if (crossedTheWire(observed) && (observed.wire?.hops.length ?? 0) === 0) {
    differences.push({ field: "wire.connections", expected: "the relayed connection", observed: "none: the wire cannot vouch for the transport" });
  } else {
    differences.push(...wireDifferences(wireExpectation(expect, observed), observed));
  }

  return { passed: differences.length === 0, differences };
}

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
 *   keyExchange compares names in one normalised form (X25519 ≡ x25519,
 *   prime256v1 ≡ P-256 ≡ secp256r1); when the log names no group (TLS 1.2)
 *   the wire's reading stands in.
 * - Whatever was expected: when the sending Postfix's log and the wire both
 *   name the key exchange of the relay hop, they must agree; a disagreement
 *   is a difference on tls.keyExchange naming both witnesses.
 * - deferred, bounced, rejected: the reason, when given, must match its
 *   TextMatcher.
 * - headers: each expected header field (name in any case) must be on the
 *   copy that was read (stored, or returned in a bounce) and its value must
 *   match the TextMatcher; one that is not there is observed as "none".
 *   The difference's field is "headers.<name as the scenario wrote it>".
 * - wire: a message Alice's provider relayed to Bob's crossed the wire (it
 *   holds Bob's MX names), so the wire must have seen that connection: with
 *   none, it cannot vouch for anything and that is the only wire difference.
 *   Otherwise each given field must be equal, and for such a relayed
 *   delivery whose expectation does not name plaintextBody and whose
 *   transport is as expected, the wire must agree with that transport
 *   (tls → the body never crossed readable, plaintext → it did): that is
 *   what makes "encrypted" mean encrypted.
 * - requireTls: each given field (requested, receiverAnnounced, tlsField)
 *   must equal the sending Postfix's tls= field reading; with no such field
 *   (before 3.11) that is the one difference.
  * - tlsrpt (whatever the outcome): the TLSRPT events the sender reported for
 *   the recipient's domain must exist and each must have the expected policy
 *   type and result, and the failure's result-type when one is given.
 * - attempts: the sender made exactly as many attempts as listed (otherwise
 *   the count is the one difference), each with the listed status, and with
 *   text matching its reason when one is given ("attempts.<n>.status").
  */
import type { Observation, TlsrptEvent } from "../observe/types.js";
import { headerNamed } from "../scenario/messageHeaders.js";
import type { AttemptExpectation, Expectation, HeaderExpectation, RequireTlsExpectation, TlsExpectation, TlsrptExpectation, WireExpectation } from "../scenario/types.js";
import type { Difference, Verdict } from "./types.js";
import { describeMatcher, matchText } from "./matchText.js";
import { sameKeyExchange } from "../observe/keyExchange.js";

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
  if (expected.keyExchange !== undefined) {
    // Postfix logs the group of TLS 1.3 sessions only; for older ones the wire's reading is the witness.
    const wireOnly = tls !== undefined && tls.keyExchange === undefined ? observed.wire?.keyExchange : undefined;
    const seen = tls?.keyExchange ?? wireOnly;
    if (seen === undefined || !sameKeyExchange(expected.keyExchange, seen)) {
      const observedText = seen === undefined ? NONE : wireOnly !== undefined ? `${wireOnly} (read by the wire; the sender's log names no group)` : seen;
      differences.push({ field: "tls.keyExchange", expected: expected.keyExchange, observed: observedText });
    }
  }
  return differences;
}

/** The two witnesses of the key exchange, the sender's log and the wire, must name the same group. */
function keyExchangeWitnessDifferences(observed: Observation): Difference[] {
  const logged = observed.tls?.keyExchange;
  const seen = observed.wire?.keyExchange;
  if (logged === undefined || seen === undefined || sameKeyExchange(logged, seen)) return [];
  return [
    {
      field: "tls.keyExchange",
      expected: "the sender's log and the wire to name the same group",
      observed: `the sender's log says ${logged}, the wire's handshake shows ${seen}`,
    },
  ];
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

function headerDifferences(expected: HeaderExpectation, observed: Observation): Difference[] {
  return Object.entries(expected).flatMap(([name, matcher]) => {
    const value = observed.headers === undefined ? undefined : headerNamed(observed.headers, name);
    if (value !== undefined && matchText(matcher, value)) return [];
    return [{ field: `headers.${name}`, expected: describeMatcher(matcher), observed: value ?? NONE }];
  });
}

/**
 * REQUIRETLS: each given field must equal what the sender's tls= field
 * says. A sender whose status line carries no tls= field (before Postfix
 * 3.11) cannot show any of them: one difference says so.
 */
function requireTlsDifferences(expected: RequireTlsExpectation, observed: Observation): Difference[] {
  const seen = observed.requireTls;
  if (seen === undefined) {
    return [{ field: "requireTls", expected: describeRequireTls(expected), observed: "none: the sender's status line has no tls= field (Postfix 3.11 writes it)" }];
  }
  const differences: Difference[] = [];
  const compare = (field: keyof RequireTlsExpectation, want: boolean | string | undefined, got: boolean | string | undefined) => {
    if (want !== undefined && got !== want) {
      differences.push({ field: `requireTls.${field}`, expected: String(want), observed: got === undefined ? `${NONE} (tls=${seen.tlsField})` : `${String(got)} (tls=${seen.tlsField})` });
    }
  };
  compare("requested", expected.requested, seen.requested);
  compare("receiverAnnounced", expected.receiverAnnounced, seen.receiverAnnounced);
  compare("tlsField", expected.tlsField, seen.tlsField);
  return differences;
}

function describeRequireTls(expected: RequireTlsExpectation): string {
  return Object.entries(expected).map(([field, value]) => `${field}: ${String(value)}`).join(", ");
}

function describeTlsrpt(expected: TlsrptExpectation): string {
  return `${expected.policy} ${expected.result}${expected.failure ? ` ${expected.failure}` : ""}`;
}

function tlsrptDifferences(expected: TlsrptExpectation, observed: Observation, recipientDomain: string | undefined): Difference[] {
  if (observed.tlsrpt === undefined) {
    return [{ field: "tlsrpt", expected: describeTlsrpt(expected), observed: "none: the sender's Postfix has no TLSRPT" }];
  }
  const events = observed.tlsrpt.filter((event) => recipientDomain === undefined || event.domain === recipientDomain);
  const seen = events.map((event) => `${event.policyType} ${event.result}${event.failureType ? ` ${event.failureType}` : ""}`);
  const matches = (event: TlsrptEvent) =>
    event.policyType === expected.policy && event.result === expected.result && (expected.failure === undefined || event.failureType === expected.failure);
  if (events.length > 0 && events.every(matches)) return [];
  const where = recipientDomain ? ` for ${recipientDomain}` : "";
  return [{ field: "tlsrpt", expected: describeTlsrpt(expected), observed: events.length === 0 ? `no TLSRPT event${where}` : seen.join(", ") }];
}

/** What the judge needs to know of the scenario beyond its expectation. */
export interface JudgeContext {
  /** The domain of the message's recipient: TLSRPT events are judged for it. */
  recipientDomain?: string;
}

function describeAttempts(statuses: readonly string[]): string {
  return `${statuses.length} attempt${statuses.length === 1 ? "" : "s"}: ${statuses.join(", ")}`;
}

/** The attempts, one by one when there are as many as expected; otherwise their count is the one difference. */
function attemptDifferences(expected: readonly AttemptExpectation[], observed: Observation): Difference[] {
  const seen = observed.attempts;
  if (!seen) {
    const none = observed.outcome === "rejected" ? "none: the message was refused before any attempt" : "not followed: the scenario follows one attempt (set attempts, or events)";
    return [{ field: "attempts", expected: describeAttempts(expected.map((attempt) => attempt.status)), observed: none }];
  }
  if (seen.length !== expected.length) {
    return [{ field: "attempts", expected: describeAttempts(expected.map((attempt) => attempt.status)), observed: describeAttempts(seen.map((attempt) => attempt.status)) }];
  }
  return expected.flatMap((want, index): Difference[] => {
    const got = seen[index]!;
    const differences: Difference[] = [];
    if (got.status !== want.status) differences.push({ field: `attempts.${got.number}.status`, expected: want.status, observed: `${got.status}: ${oneLine(got.detail)}` });
    else if (want.reason && !matchText(want.reason, got.detail)) differences.push({ field: `attempts.${got.number}.reason`, expected: describeMatcher(want.reason), observed: got.detail });
    return differences;
  });
}

/** Judges one observation against one expectation. */
export function judge(expect: Expectation, observed: Observation, context: JudgeContext = {}): Verdict {
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
  if (expect.headers) differences.push(...headerDifferences(expect.headers, observed));
  if (crossedTheWire(observed) && (observed.wire?.hops.length ?? 0) === 0) {
    differences.push({ field: "wire.connections", expected: "the relayed connection", observed: "none: the wire cannot vouch for the transport" });
  } else {
    differences.push(...wireDifferences(wireExpectation(expect, observed), observed));
  }
  differences.push(...keyExchangeWitnessDifferences(observed));
  if (expect.requireTls) differences.push(...requireTlsDifferences(expect.requireTls, observed));
  if (expect.tlsrpt) differences.push(...tlsrptDifferences(expect.tlsrpt, observed, context.recipientDomain));
  if (expect.attempts) differences.push(...attemptDifferences(expect.attempts, observed));

  return { passed: differences.length === 0, differences };
}

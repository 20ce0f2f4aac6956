/**
 * Events between delivery attempts (issue #19) on real Postfix: the shipped
 * transitions hold, each attempt seen by the sender's log and by witnesses
 * the harness does not control (the receiver's own log, the wire, Bob's
 * mailbox); and expectations that would hold only if an event changed
 * nothing fail, each on exactly its field.
 */
import path from "node:path";
import { expect, test } from "vitest";
import { lines, named, runShippedAndWrong } from "./helpers/results.js";

const SHIPPED = path.join("scenarios", "events.yaml");
const WRONG = path.join("test", "fixtures", "scenarios", "wrong", "events.yaml");


test("the world changes while mail waits: every transition holds, and wrong expectations about events fail on their field", async () => {
  const { results, wrongResults } = await runShippedAndWrong(SHIPPED, WRONG, { shipped: 9, wrong: 8 });

  for (const result of results) {
    const attempts = result.observation!.attempts!;
    // Every attempt is the sender's own status line, and every change shows before the attempt it preceded.
    for (const attempt of attempts) expect(attempt.line, result.scenario.name).toMatch(/postfix\/(smtp|error)\[\d+\]: [0-9A-F]+: to=<[^>]+>.* status=(sent|deferred|bounced) /);
    expect(attempts.slice(1).every((attempt) => attempt.after.length > 0), result.scenario.name).toBe(true);
    // One copy, counted in every mailbox of the world by the harness's accounting.
    expect(lines(result.observation!.evidence, "harness").some((line) => line.startsWith("accounted for: ")), result.scenario.name).toBe(true);
  }

  // The founding story, live: the receiver's own log shows one delivery to Bob's mailbox, after a session with TLS.
  const founding = named(results, "The founding story, live");
  const receiverLines = lines(founding.observation!.evidence, "receiver-log");
  expect(receiverLines.filter((line) => /status=sent .*(lmtp|dovecot)/i.test(line) || /postfix\/lmtp\[\d+\]: .* status=sent/.test(line))).toHaveLength(1);
  // The wire saw both attempts: the first offered no STARTTLS, the second carried the message inside TLS.
  expect(founding.observation!.wire!.hops.length).toBeGreaterThanOrEqual(2);
  expect(founding.observation!.wire!.plaintextBody).toBe(false);

  // Bob's provider down: the wire, a witness of its own, found Bob's port 25 closed on the first attempt's connection.
  const outage = named(results, "Bob's provider down, then back up");
  expect(lines(outage.observation!.evidence, "wire").filter((line) => line.includes("Bob's server unreachable (connect ECONNREFUSED"))).toHaveLength(1);
  expect(outage.observation!.wire!.hops.at(-1)!.transcript.upstreamUnreachable).toBeUndefined();

  // STARTTLS turned off while the message waited: out in clear, and flagged.
  const silent = named(results, "silently turns STARTTLS off");
  expect(silent.observation!.wire!.plaintextBody).toBe(true);
  expect(silent.flags?.some((flag) => flag.includes("crossed in clear text"))).toBe(true);

  // The attacker's stripping shows on the wire's first connection only.
  const attacker = named(results, "An attacker strips STARTTLS, then leaves");
  const modes = attacker.observation!.wire!.hops.map((hop) => hop.mode);
  expect(modes[0]).toBe("strip-starttls");
  expect(modes.at(-1)).toBe("pass");

  // Each wrong expectation failed on exactly its field (runShippedAndWrong), showing what the real server did instead.
  expect(named(wrongResults, "resolver outage").verdict.differences[0]!.observed).toMatch(/^Host or domain name not found\. Name service error for name=iroco\.test type=MX/);
  expect(named(wrongResults, "renewed certificate").verdict.differences[0]!.observed).toMatch(/^sent: 250 2\.0\.0 Ok: queued as /);
}, 900_000);

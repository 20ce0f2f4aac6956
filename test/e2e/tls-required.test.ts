/**
 * TLS-Required: No (RFC 8689 section 5) on real Postfix: the shipped
 * scenarios hold on the releases they pin (3.10 honours the header, 3.7
 * does not), with the witnesses their stories name; and expectations about
 * header fields that are wrong fail, each on exactly its own field.
 */
import path from "node:path";
import { expect, test } from "vitest";
import { lines, named, runShippedAndWrong } from "./helpers/results.js";

const SHIPPED = path.join("scenarios", "tls-required.yaml");
const WRONG = path.join("test", "fixtures", "scenarios", "wrong", "tlsreq.yaml");


// One run for both files: the scenarios pin four world shapes, and the wrong ones reuse the 3.10 ↔ 3.10 world.
test("TLS-Required: No is honoured by Postfix 3.10 only, and wrong header expectations fail on their field", async () => {
  const { results, wrongResults } = await runShippedAndWrong(SHIPPED, WRONG, { shipped: 11, wrong: 3 });

  // Each release read from its container, not assumed from the pin.
  for (const result of results) {
    for (const role of ["sender", "receiver"] as const) {
      expect(result.world?.[role].version, `${result.scenario.name}: ${role}`).toMatch(new RegExp(`^${result.scenario[role].postfix!.replace(".", "\\.")}\\.`));
    }
  }

  // Only the sender's release decides; the stored copy carries the header as Alice's client spelled it.
  const matrix = results.filter((result) => result.scenario.name.includes("[sender="));
  expect(matrix.map((result) => [result.world?.sender.version.split(".").slice(0, 2).join("."), result.observation?.outcome, result.observation?.transport ?? null])).toEqual([
    ["3.7", "deferred", null],
    ["3.7", "deferred", null],
    ["3.10", "delivered", "plaintext"],
    ["3.10", "delivered", "plaintext"],
  ]);
  for (const result of matrix.filter((result) => result.observation?.outcome === "delivered")) {
    expect(result.observation?.headers).toEqual({ "TLS-Required": "No" });
    expect(lines(result.observation!.evidence, "mailbox")).toContain("bob@iroco.test's inbox: Tls-Required: No");
    expect(result.observation?.wire?.plaintextBody).toBe(true);
  }
  // A message that was not stored has no headers to read back.
  for (const result of matrix.filter((result) => result.observation?.outcome === "deferred")) expect(result.observation).not.toHaveProperty("headers");

  // The control differs from the waived 3.10 message by the header alone, and waits in the queue.
  expect(named(results, "the control").observation?.reason).toMatch(/^TLS is required, but was not offered by host mx\.iroco\.test\[/);

  // With the header the sender asks for no TLSA record and no MTA-STS policy: the dns log shows only MX and A questions,
  // where the same sender without the header (the control) has its policy looked up.
  expect(lines(named(results, "the control").observation!.evidence, "dns-log").filter((line) => line.includes("_mta-sts.iroco.test"))).not.toEqual([]);
  for (const part of ["skips DANE", "skips MTA-STS"]) {
    const questions = lines(named(results, part).observation!.evidence, "dns-log");
    expect(questions.length, part).toBeGreaterThan(0);
    expect(questions.filter((line) => /TLSA|_mta-sts/.test(line)), part).toEqual([]);
  }

  // 3.10 marks its own non-delivery report "TLS-Required: no" when the returned message carried the header.
  const bounce = named(results, "travels back with the bounce");
  expect(bounce.observation?.headers).toEqual({ "TLS-Required": "No" });
  expect(lines(bounce.observation!.evidence, "mailbox")).toContain("alice@infomaniak.test's inbox, the report itself: TLS-Required: no");

  // Each wrong expectation failed on exactly its field (runShippedAndWrong).
  expect(wrongResults.map((result) => result.verdict.differences[0]?.observed)).toEqual(["No", "none", "none"]);
  // A bounce of a message without the header is not marked: the mark follows Alice's header, not the bounce.
  const unmarked = wrongResults[2]!.observation!.evidence;
  expect(lines(unmarked, "mailbox").filter((line) => /TLS-Required/i.test(line))).toEqual([
    "alice@infomaniak.test's inbox, the message the report returns: no TLS-Required header",
  ]);
}, 900_000);

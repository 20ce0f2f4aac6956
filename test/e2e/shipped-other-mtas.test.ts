/**
 * Every shipped scenario where Alice's or Bob's provider runs Exim or
 * OpenSMTPD holds against the real MTAs, through the same code path as
 * `starttls-lab run` (Postfix on the other side at its pinned release, or
 * 3.10). Runs beside shipped-postfix.test.ts: the two parts share no world.
 */
import { expect, test } from "vitest";
import { expectSuitePasses, shippedScenarios } from "./helpers/shippedSuite.js";

test("every shipped scenario with Exim or OpenSMTPD passes", async () => {
  const scenarios = await shippedScenarios("other-mtas");
  expect(scenarios.length).toBeGreaterThan(50);
  await expectSuitePasses(scenarios, 30);
}, 900_000);

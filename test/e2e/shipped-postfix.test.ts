/**
 * Every shipped scenario where both providers run Postfix holds against real
 * Postfix, through the same code path as `starttls-lab run`: each on the
 * release it pins, the others on the default (3.10). The scenarios with Exim
 * or OpenSMTPD are shipped-other-mtas.test.ts's, which runs beside this file;
 * every unpinned scenario on 3.7, and shuffled orders, are the flake check's
 * (scripts/five-in-a-row.sh).
 */
import { expect, test } from "vitest";
import { expectSuitePasses, shippedScenarios } from "./helpers/shippedSuite.js";

test("every shipped Postfix-to-Postfix scenario passes, each on its release (3.10 where it pins none)", async () => {
  const scenarios = await shippedScenarios("postfix");
  expect(scenarios.length).toBeGreaterThan(100);
  await expectSuitePasses(scenarios, 60);
}, 900_000);

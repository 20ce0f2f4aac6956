/**
 * Every shipped scenario where Alice's or Bob's provider runs Exim or
 * OpenSMTPD holds against the real MTAs, through the same code path as
 * `starttls-lab run` (Postfix on the other side at its pinned release, or
 * 3.10), and expecting what they do not do fails. Runs beside
 * shipped-postfix.test.ts: the two parts share no world.
 */
import path from "node:path";
import { expect, test } from "vitest";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import { expectSuitePasses, shippedScenarios } from "./helpers/shippedSuite.js";

/** Expectations the real Exim and OpenSMTPD do not meet: each reader (their logs, Exim's Received header) must be able to say no. */
const WRONG = path.join("test", "fixtures", "scenarios", "wrong", "other-mtas.yaml");

test("every shipped scenario with Exim or OpenSMTPD passes, and wrong expectations about them fail on their own field", async () => {
  const scenarios = await shippedScenarios("other-mtas");
  expect(scenarios.length).toBeGreaterThan(50);
  const wrong = await loadScenarioFiles([WRONG]);
  expect(wrong.length).toBe(10);
  // The wrong ones run in the same worlds as the shipped ones: no world of their own.
  await expectSuitePasses(scenarios, 30, wrong);
}, 900_000);

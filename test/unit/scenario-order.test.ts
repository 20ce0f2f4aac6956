import { describe, expect, it } from "vitest";
import { loadScenarioText } from "../../src/scenario/load.js";
import { orderByState, shuffled } from "../../src/scenario/order.js";

describe("shuffled scenario order", () => {
  const names = Array.from({ length: 22 }, (_, i) => `scenario ${i}`);

  it("is a permutation: every scenario once, none lost or repeated", () => {
    expect([...shuffled(names, 7)].sort()).toEqual([...names].sort());
  });

  it("is the same order for the same seed, so a failing order can be replayed", () => {
    expect(shuffled(names, 42)).toEqual(shuffled(names, 42));
  });

  it("differs between seeds and from the file order", () => {
    expect(shuffled(names, 1)).not.toEqual(shuffled(names, 2));
    expect(shuffled(names, 1)).not.toEqual(names);
  });

  it("leaves the input untouched", () => {
    const copy = [...names];
    shuffled(names, 3);
    expect(names).toEqual(copy);
  });
});

describe("nearest-state order with other MTAs", () => {
  it("keeps an MTA's scenarios of one level together, so it reloads once per level", () => {
    const scenarios = loadScenarioText(
      [
        "name: Exim levels",
        "sender: { mta: exim }",
        "matrix:",
        "  axes:",
        "    sender: { set: sender.level, values: [may, encrypt] }",
        "    receiver: { set: receiver.level, values: [none, may, encrypt] }",
        "  cells:",
        "    - when: { sender: [may, encrypt], receiver: [none, may, encrypt] }",
        "      expect: { outcome: deferred }",
        "",
      ].join("\n"),
      "order.yaml",
    );
    const levels = orderByState(scenarios).map((scenario) => scenario.sender.level);
    // Each change of the sender's level rewrites Exim's configuration (checked with exim -bV); the receiver's (Postfix) is a postconf.
    const changes = levels.filter((level, index) => index > 0 && level !== levels[index - 1]).length;
    expect(changes).toBe(1);
  });
});

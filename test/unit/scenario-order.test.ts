import { describe, expect, it } from "vitest";
import { shuffled } from "../../src/scenario/order.js";

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

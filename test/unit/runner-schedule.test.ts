/**
 * Which world a free slot of the runner starts next: every shape gets one
 * before any gets a second, and a second only when enough of its scenarios
 * are left to pay for the start.
 */
import { describe, expect, it } from "vitest";
import { nextShape, SCENARIOS_WORTH_ANOTHER_WORLD, type ShapeWork } from "../../src/runner.js";

const shape = (sender: "3.7" | "3.10" | "3.11", receiver: "3.7" | "3.10" | "3.11", left: number, worlds: number): ShapeWork => ({
  shape: { sender: { mta: "postfix", release: sender }, receiver: { mta: "postfix", release: receiver } },
  queue: Array.from({ length: left }, (_, i) => i),
  worlds,
});

describe("the next world a free slot starts", () => {
  it("is for the first shape nobody has started, even a small one beside a big one under way", () => {
    const big = shape("3.10", "3.10", 100, 1);
    const small = shape("3.7", "3.7", 4, 0);
    expect(nextShape([big, small])).toBe(small);
  });

  it("is a second world for the shape with the most left, once every shape is under way", () => {
    const big = shape("3.10", "3.10", SCENARIOS_WORTH_ANOTHER_WORLD, 1);
    const other = shape("3.7", "3.10", 30, 1);
    expect(nextShape([big, other])).toBe(other);
  });

  it("is none when what is left would not pay for another world start, or nothing is left", () => {
    expect(nextShape([shape("3.10", "3.10", SCENARIOS_WORTH_ANOTHER_WORLD - 1, 1)])).toBeUndefined();
    expect(nextShape([shape("3.10", "3.10", 0, 0), shape("3.11", "3.11", 0, 1)])).toBeUndefined();
  });
});

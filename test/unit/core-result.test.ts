import { describe, expect, it } from "vitest";
import { countResults, runPassed, scenarioPassed } from "../../src/core/result.js";
import { erroring, failing, passing, run } from "./report-fixtures.js";

describe("the pass rule", () => {
  it("passes a scenario only when its verdict holds and the harness raised no error", () => {
    expect(scenarioPassed(passing)).toBe(true);
    expect(scenarioPassed(failing)).toBe(false);
    expect(scenarioPassed(erroring)).toBe(false);
    // A verdict that held does not outweigh an error raised after it.
    expect(scenarioPassed({ ...passing, error: "late crash" })).toBe(false);
  });

  it("passes a run only when every scenario passed", () => {
    expect(runPassed(run)).toBe(false);
    expect(runPassed({ results: [passing, passing], durationMs: 1 })).toBe(true);
    expect(runPassed({ results: [passing, { ...passing, error: "late crash" }], durationMs: 1 })).toBe(false);
  });

  it("counts with the same rule", () => {
    expect(countResults(run)).toEqual({ passed: 1, failed: 2 });
  });
});

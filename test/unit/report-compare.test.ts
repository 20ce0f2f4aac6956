import { describe, expect, it } from "vitest";
import type { ScenarioResult } from "../../src/core/result.js";
import { compareRuns, comparisonDiffers, renderComparison, toComparisonJson } from "../../src/report/compare.js";
import { failing, passing, scenario } from "./report-fixtures.js";

const software = (version: string, tls: string) => ({ mta: "postfix", release: version.startsWith("3.7") ? "3.7" : "3.10", version, tls }) as const;
const on37 = { sender: software("3.7.11", "OpenSSL 3.0.20 7 Apr 2026"), receiver: software("3.7.11", "OpenSSL 3.0.20 7 Apr 2026") };
const on310 = { sender: software("3.10.13", "OpenSSL 3.5.9 29 Sep 2026 (Library: OpenSSL 3.5.9 29 Sep 2026)"), receiver: software("3.10.13", "OpenSSL 3.5.9 29 Sep 2026") };

/** The same passing delivery, with another key exchange spelling or group. */
function delivered(keyExchange: string, world: ScenarioResult["world"]): ScenarioResult {
  return { ...passing, world, observation: { ...passing.observation!, tls: { ...passing.observation!.tls!, keyExchange } } };
}

describe("compare", () => {
  const pinnedScenario = { ...scenario("pinned", "scenarios/pq.yaml", { outcome: "delivered", transport: "tls" }), sender: { ...passing.scenario.sender, postfix: "3.10" as const }, receiver: { ...passing.scenario.receiver, postfix: "3.10" as const } };
  const pinned: ScenarioResult = { ...passing, scenario: pinnedScenario, world: on310 };

  it("sees no difference in one group spelled two ways (X25519 on 3.7, x25519 on 3.10)", () => {
    const comparison = compareRuns(["3.7", "3.10"], [passing.scenario], [[delivered("X25519", on37)], [delivered("x25519", on310)]]);
    expect(comparison.scenarios[0]!.differences).toEqual([]);
    expect(comparisonDiffers(comparison)).toBe(false);
  });

  it("lists each field that differs with each release's value, and runs a fully pinned scenario once", () => {
    const deferred = { ...failing, world: on37, scenario: passing.scenario };
    const comparison = compareRuns(["3.7", "3.10"], [passing.scenario, pinnedScenario], [[deferred, pinned], [delivered("X25519MLKEM768", on310)]]);
    expect(comparison.scenarios[0]!.differences.map(({ field, values }) => [field, ...values])).toEqual([
      ["verdict", "failed", "passed"],
      ["outcome", "deferred", "delivered"],
      ["transport", "(none)", "tls"],
      ["tls.version", "(none)", "TLSv1.3"],
      ["tls.cipher", "(none)", "TLS_AES_256_GCM_SHA384"],
      ["tls.keyExchange", "(none)", "x25519mlkem768"],
      ["tls.trust", "(none)", "trusted"],
      ["tls.peerName", "(none)", "mx.iroco.test"],
      ["reason", "TLS is required, but was not offered by host mx.iroco.test[…]", "(none)"],
    ]);
    expect(comparison.summary).toEqual({ scenarios: 2, differing: 1, pinned: 1 });
    expect(comparisonDiffers(comparison)).toBe(true);
    const text = renderComparison(comparison);
    expect(text.slice(0, 3)).toEqual(["Compared Postfix 3.7 and 3.10:", "  3.7 (Postfix 3.7.11, OpenSSL 3.0.20 7 Apr 2026)", "  3.10 (Postfix 3.10.13, OpenSSL 3.5.9 29 Sep 2026)"]);
    expect(text).toContain("  pinned: sender Postfix 3.10, receiver Postfix 3.10, passed");
    expect(text.at(-1)).toBe("2 scenarios: 1 differ, 0 the same, 1 pinned");
    expect(toComparisonJson(comparison).scenarios[1]).toEqual({ name: "pinned", file: "scenarios/pq.yaml", pinned: "sender Postfix 3.10, receiver Postfix 3.10", passed: [true], differences: [] });
  });
});

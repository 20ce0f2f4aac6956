import { describe, expect, it } from "vitest";
import { normalizeKeyExchange, sameKeyExchange } from "../../src/observe/keyExchange.js";

describe("normalizeKeyExchange: one form for every spelling of a group", () => {
  it.each([
    // Postfix 3.7 on OpenSSL 3.0 (captured: test/fixtures/logs/sender-keyexchange.log)
    ["X25519", "x25519"],
    ["ECDHE (prime256v1)", "secp256r1"],
    ["ECDHE (secp384r1)", "secp384r1"],
    // Postfix 3.10 on OpenSSL 3.5 (DESIGN.md, "The next world")
    ["x25519", "x25519"],
    ["X25519MLKEM768", "x25519mlkem768"],
    // The wire (IANA names) and what a scenario author may write
    ["secp256r1", "secp256r1"],
    ["P-256", "secp256r1"],
    ["prime256v1", "secp256r1"],
    ["P-384", "secp384r1"],
    ["P-521", "secp521r1"],
    ["ffdhe2048", "ffdhe2048"],
    ["DHE (2048 bits)", "ffdhe2048"],
    ["  X448 ", "x448"],
  ])("%s → %s", (name, normal) => {
    expect(normalizeKeyExchange(name)).toBe(normal);
  });

  it("keeps different groups different: a hybrid is not its classical half, P-256 is not P-384", () => {
    expect(sameKeyExchange("X25519MLKEM768", "x25519")).toBe(false);
    expect(sameKeyExchange("ECDHE (prime256v1)", "secp384r1")).toBe(false);
    expect(sameKeyExchange("ECDHE (prime256v1)", "P-256")).toBe(true);
  });
});

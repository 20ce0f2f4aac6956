import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { normalizeKeyExchange, sameKeyExchange } from "../../src/observe/keyExchange.js";
import { parseLog } from "../../src/observe/postfixLog.js";
import { observeWire } from "../../src/observe/wire.js";
import { HopRecorder } from "../../src/wire/recorder.js";
import type { Direction } from "../../src/wire/transcript.js";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");

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

describe("the two witnesses of one real Postfix 3.10 session", () => {
  it("agree on X25519MLKEM768: smtpd's log line and the ServerHello the proxy recorded", () => {
    const logged = parseLog(fixture("logs/keyexchange-postfix-3.10.log")).at(-1);
    const capture = JSON.parse(fixture("wire/postfix-3.10-x25519mlkem768.json")) as { chunks: { from: Direction; base64: string }[] };
    const recorder = new HopRecorder();
    for (const { from, base64 } of capture.chunks) {
      if (from === "client") recorder.clientBytes(Buffer.from(base64, "base64"));
      else recorder.serverBytes(Buffer.from(base64, "base64"));
    }
    const wire = observeWire("pass", [{ id: 1, mode: "pass", transcript: recorder.transcript("") }], []);
    expect(logged?.kind === "smtpdTls" && logged.keyExchange).toBe("X25519MLKEM768");
    expect(wire.keyExchange).toBe("X25519MLKEM768");
  });
});

/**
 * The TLS of a delivered message's last hop, from its two witnesses: the
 * sender's real log (test/fixtures/logs/sender-sample.log) and the Received
 * header Bob's provider wrote for that same session.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deliveredTls } from "../../src/drive/follow.js";
import { parseLog } from "../../src/observe/postfixLog.js";
import { parseReceived } from "../../src/observe/receivedHeader.js";
import { relayTrail } from "../../src/observe/relayTrail.js";
import { PLAIN_FOLDED, TLS_FOLDED } from "./helpers/receivedHeaders.js";

const senderLog = parseLog(readFileSync(new URL("../fixtures/logs/sender-sample.log", import.meta.url), "utf8"));
const relayed = { role: "sender" as const, trail: relayTrail(senderLog, "0CDCF178411") };

describe("deliveredTls", () => {
  it("takes version, cipher, trust and key exchange from the sender's log when the header agrees", () => {
    expect(deliveredTls(relayed, parseReceived(TLS_FOLDED))).toEqual({ version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "trusted", keyExchange: "X25519" });
  });

  it("reports the trust as unknown when nobody relayed the message: only the header speaks, and it names no trust", () => {
    expect(deliveredTls(undefined, parseReceived(TLS_FOLDED))).toEqual({ version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", trust: "unknown" });
    expect(deliveredTls(undefined, parseReceived(PLAIN_FOLDED))).toBeUndefined();
  });

  it("throws when the header names another cipher than the log, not only when TLS itself differs", () => {
    const otherCipher = parseReceived(TLS_FOLDED.replace("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"));
    expect(() => deliveredTls(relayed, otherCipher)).toThrow(
      "the two witnesses of the hop into mx.iroco.test disagree, the sender's log and the Received header: " +
        "the log says cipher TLS_AES_256_GCM_SHA384, but the Received header says cipher TLS_CHACHA20_POLY1305_SHA256",
    );
    expect(() => deliveredTls(relayed, parseReceived(PLAIN_FOLDED))).toThrow(/the log shows a TLS session, but the Received header says "with ESMTP"/);
  });
});

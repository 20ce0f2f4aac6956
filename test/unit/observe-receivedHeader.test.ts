import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseLog } from "../../src/observe/postfixLog.js";
import { relayTrail } from "../../src/observe/relayTrail.js";
import { findSmtpReceived, parseReceived, transportFromReceived, witnessDisagreements } from "../../src/observe/receivedHeader.js";
import { PLAIN_FOLDED, TLS_FOLDED } from "./helpers/receivedHeaders.js";

describe("parseReceived", () => {
  it("reads a folded TLS hop: from, by, with, and the TLS version and cipher", () => {
    expect(parseReceived(TLS_FOLDED)).toEqual({
      from: "smtp.infomaniak.test",
      fromDetail: "m-sender.manualnet [172.18.0.2]",
      by: "mx.iroco.test",
      with: "ESMTPS",
      id: "2426C178491",
      for: "bob@iroco.test",
      date: "Fri, 27 Nov 2026 22:47:19 +0000 (UTC)",
      tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
    });
  });

  it("reads the same header unfolded (as a mail library may hand it over) identically", () => {
    const unfolded = TLS_FOLDED.replace(/\r\n/g, "");
    expect(parseReceived(unfolded)).toEqual(parseReceived(TLS_FOLDED));
  });

  it("tolerates bare LF folding and a leading 'Received:'", () => {
    const header = "Received: " + TLS_FOLDED.replace(/\r\n/g, "\n");
    expect(parseReceived(header)).toEqual(parseReceived(TLS_FOLDED));
  });

  it("reads a plaintext hop: with ESMTP and no TLS comment", () => {
    const r = parseReceived(PLAIN_FOLDED);
    expect(r).toMatchObject({ from: "smtp.infomaniak.test", by: "mx.iroco.test", with: "ESMTP", id: "2426C178491" });
    expect(r.tls).toBeUndefined();
  });

  it("throws on a header that is not a Received trace", () => {
    expect(() => parseReceived("by mx.iroco.test; Fri, 27 Nov 2026 22:47:19 +0000")).toThrow(/lacks from, with/);
    expect(() => parseReceived("from a (unclosed by b with ESMTP")).toThrow(/unbalanced/);
  });
});

describe("transportFromReceived (RFC 3848)", () => {
  it.each([
    ["ESMTPS", "tls"],
    ["ESMTPSA", "tls"],
    ["LMTPS", "tls"],
    ["UTF8SMTPS", "tls"],
    ["ESMTP", "plaintext"],
    ["ESMTPA", "plaintext"],
    ["SMTP", "plaintext"],
    ["LMTP", "plaintext"],
  ] as const)("with %s means %s", (protocol, transport) => {
    expect(transportFromReceived({ with: protocol })).toBe(transport);
  });

  it("reads the fixtures: ESMTPS is TLS, ESMTP is plaintext", () => {
    expect(transportFromReceived(parseReceived(TLS_FOLDED))).toBe("tls");
    expect(transportFromReceived(parseReceived(PLAIN_FOLDED))).toBe("plaintext");
  });

  it("refuses to guess for a non-SMTP protocol", () => {
    expect(() => transportFromReceived({ with: "local" })).toThrow(/cannot tell the transport/);
  });
});

describe("findSmtpReceived", () => {
  it("skips a Dovecot LMTP header above Postfix's and returns the SMTP hop into mx.iroco.test", () => {
    // Shape of Dovecot 2.3's LMTP Received header (not captured in our samples).
    const lmtp =
      "from mx.iroco.test\r\n\tby mx.iroco.test with LMTP\r\n\tid WFjvCncICmtvAAAA4McfTA\r\n\t(envelope-from <alice@infomaniak.test>)\r\n\tfor <bob@iroco.test>; Fri, 27 Nov 2026 22:47:19 +0000";
    const submission =
      "from [172.18.0.1] (unknown [172.18.0.1])\r\n\t(Authenticated sender: alice@infomaniak.test)\r\n\tby smtp.infomaniak.test (Postfix) with ESMTPSA id 0CDCF178411\r\n\tfor <bob@iroco.test>; Fri, 27 Nov 2026 22:47:19 +0000 (UTC)";
    const hop = findSmtpReceived([lmtp, TLS_FOLDED, submission], "MX.iroco.test");
    expect(hop).toMatchObject({ by: "mx.iroco.test", with: "ESMTPS" });
    expect(findSmtpReceived([lmtp, submission], "mx.iroco.test")).toBeUndefined();
  });
});

describe("witnessDisagreements: the sender's log and the receiver's Received header on one hop", () => {
  // The sender's log of the session TLS_FOLDED was written for.
  const logged = relayTrail(parseLog(readFileSync(new URL("../fixtures/logs/sender-sample.log", import.meta.url), "utf8")), "0CDCF178411").tls!;

  it("finds none when both saw the same TLS session, or both saw none", () => {
    expect(witnessDisagreements(logged, parseReceived(TLS_FOLDED))).toEqual([]);
    expect(witnessDisagreements(undefined, parseReceived(PLAIN_FOLDED))).toEqual([]);
  });

  it("finds TLS in one witness and not in the other", () => {
    expect(witnessDisagreements(logged, parseReceived(PLAIN_FOLDED))).toEqual([
      'the log shows a TLS session, but the Received header says "with ESMTP"',
    ]);
    expect(witnessDisagreements(undefined, parseReceived(TLS_FOLDED))).toEqual([
      'the log shows no TLS session, but the Received header says "with ESMTPS"',
    ]);
  });

  it("finds another version or cipher in the header than in the log", () => {
    const tls12 = TLS_FOLDED.replace("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384", "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384");
    expect(witnessDisagreements(logged, parseReceived(tls12))).toEqual([
      "the log says TLSv1.3, but the Received header says TLSv1.2",
      "the log says cipher TLS_AES_256_GCM_SHA384, but the Received header says cipher ECDHE-RSA-AES256-GCM-SHA384",
    ]);
    const otherCipher = TLS_FOLDED.replace("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
    expect(witnessDisagreements(logged, parseReceived(otherCipher))).toEqual([
      "the log says cipher TLS_AES_256_GCM_SHA384, but the Received header says cipher TLS_CHACHA20_POLY1305_SHA256",
    ]);
  });

  it("compares only TLS or not when the header carries no TLS comment (smtpd_tls_received_header = no)", () => {
    const esmtpsWithoutComment = PLAIN_FOLDED.replace("with ESMTP", "with ESMTPS");
    expect(witnessDisagreements(logged, parseReceived(esmtpsWithoutComment))).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { findSmtpReceived, parseReceived, transportFromReceived } from "../../src/observe/receivedHeader.js";

// As Postfix 3.7's smtpd writes it with smtpd_tls_received_header = yes (folded with CRLF + TAB).
const TLS_FOLDED =
  "from smtp.infomaniak.test (m-sender.manualnet [172.18.0.2])\r\n" +
  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n" +
  "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n" +
  "\t(No client certificate requested)\r\n" +
  "\tby mx.iroco.test (Postfix) with ESMTPS id 2426C178491\r\n" +
  "\tfor <bob@iroco.test>; Fri, 27 Nov 2026 22:47:19 +0000 (UTC)";

const PLAIN_FOLDED =
  "from smtp.infomaniak.test (m-sender.manualnet [172.18.0.2])\r\n" +
  "\tby mx.iroco.test (Postfix) with ESMTP id 2426C178491\r\n" +
  "\tfor <bob@iroco.test>; Fri, 27 Nov 2026 22:47:19 +0000 (UTC)";

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

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

/** Exim 4.98.2 as Bob's provider, Postfix delivering to it over TLS 1.3 (test/e2e/exim-receiver.test.ts), as the mailbox handed it over. */
const EXIM_TLS13 =
  "from [172.19.0.3] (helo=smtp.infomaniak.test) by mx.iroco.test with esmtps  (TLS1.3) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.98.2) (envelope-from <alice@infomaniak.test>) id 1xYb8E-0000000001J-0TtA; Wed, 02 Dec 2026 03:35:46 +0000";
/** Dovecot's LMTP header above it in the same copy. */
const DOVECOT_ABOVE_EXIM =
  "from mx.iroco.test by fb61c8ebc98b with LMTP id Ac9dChKSD2s+AAAAlt30Sg (envelope-from <alice@infomaniak.test>); Wed, 02 Dec 2026 03:35:46 +0000";
/** Postfix's TLS session of that hop, as its log named it (Dec 02 03:35:46 … postfix/smtp … TLSv1.3 with cipher TLS_AES_256_GCM_SHA384). */
const POSTFIX_LOGGED_TLS13 = { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" };

/** The same hop with Postfix held to TLS 1.2 (smtp_tls_protocols = !TLSv1.3): Exim's header, and the suite Postfix and Exim each logged. */
const EXIM_TLS12 =
  "from [172.20.0.4] (helo=smtp.infomaniak.test) by mx.iroco.test with esmtps  (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.98.2) (envelope-from <alice@infomaniak.test>) id 1xYbCo-0000000001d-03F0; Wed, 02 Dec 2026 03:40:30 +0000";
const POSTFIX_LOGGED_TLS12 = { version: "TLSv1.2", cipher: "ECDHE-RSA-AES256-GCM-SHA384" };
const EXIM_ARRIVAL_TLS12 = { version: "TLS1.2", cipher: "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM" };

describe("Exim's Received header", () => {
  it("over TLS 1.2: the IANA name in Exim's header, OpenSSL's in Postfix's log and GnuTLS's in Exim's agree", () => {
    const received = parseReceived(EXIM_TLS12);
    expect(received.tls).toEqual({ version: "TLSv1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" });
    expect(witnessDisagreements(POSTFIX_LOGGED_TLS12, received)).toEqual([]);
    expect(witnessDisagreements(EXIM_ARRIVAL_TLS12, received)).toEqual([]);
    expect(witnessDisagreements({ version: "TLSv1.2", cipher: "ECDHE-RSA-AES128-GCM-SHA256" }, received)).toHaveLength(1);
  });


  it("reads the client's HELO name from Exim's comment, its address as the detail, and TLS from '(TLS1.3) tls NAME'", () => {
    expect(parseReceived(EXIM_TLS13)).toEqual({
      from: "smtp.infomaniak.test",
      fromDetail: "[172.19.0.3]",
      by: "mx.iroco.test",
      with: "esmtps",
      id: "1xYb8E-0000000001J-0TtA",
      date: "Wed, 02 Dec 2026 03:35:46 +0000",
      tls: { version: "TLSv1.3", cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    });
    expect(transportFromReceived(parseReceived(EXIM_TLS13))).toBe("tls");
  });

  it("is the SMTP hop into mx.iroco.test, under Dovecot's LMTP header", () => {
    expect(findSmtpReceived([DOVECOT_ABOVE_EXIM, EXIM_TLS13], "mx.iroco.test")?.id).toBe("1xYb8E-0000000001J-0TtA");
  });

  it("agrees with Postfix's log of the same session, though Exim names the TLS 1.3 suite in TLS 1.2's shape", () => {
    expect(witnessDisagreements(POSTFIX_LOGGED_TLS13, parseReceived(EXIM_TLS13))).toEqual([]);
  });

  it("disagrees with a log naming another suite or version", () => {
    expect(witnessDisagreements({ version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256" }, parseReceived(EXIM_TLS13))).toEqual([
      "the log says cipher TLS_AES_128_GCM_SHA256, but the Received header says cipher TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ]);
    expect(witnessDisagreements({ version: "TLSv1.2", cipher: "TLS_AES_256_GCM_SHA384" }, parseReceived(EXIM_TLS13))).toHaveLength(1);
  });
});

describe("witnessDisagreements with Exim's log (GnuTLS's names) against Postfix's header (OpenSSL's)", () => {
  // Captured by test/e2e/exim-sender.test.ts: Exim as Alice's provider delivering to Bob's Postfix 3.10, then Bob's copy's headers.
  const eximLogged = { version: "TLS1.3", cipher: "ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM" };
  const postfixHeader =
    "from smtp.infomaniak.test (unknown [172.24.0.5]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange secp256r1 server-signature RSA-PSS (2048 bits) server-digest SHA256) (No client certificate requested) by mx.iroco.test (Postfix) with ESMTPS id 0E6A71EC837 for <bob@iroco.test>; Wed, 02 Dec 2026 03:44:48 +0000 (UTC)";
  /** Alice's submission to Exim, in the same copy: esmtpsa, and the recipient after "for". */
  const eximSubmission =
    "from [172.24.0.1] (helo=alice-laptop.infomaniak.test) by smtp.infomaniak.test with esmtpsa  (TLS1.3) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.98.2) (envelope-from <alice@infomaniak.test>) id 1xYbGx-0000000000h-397i for bob@iroco.test; Wed, 02 Dec 2026 03:44:47 +0000";

  it("the same suite in both libraries' names agrees, the version read as OpenSSL writes it", () => {
    expect(witnessDisagreements(eximLogged, parseReceived(postfixHeader))).toEqual([]);
  });

  it("another suite or version still disagrees", () => {
    expect(witnessDisagreements({ ...eximLogged, cipher: "ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__CHACHA20_POLY1305" }, parseReceived(postfixHeader))).toEqual([
      "the log says cipher ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__CHACHA20_POLY1305, but the Received header says cipher TLS_AES_256_GCM_SHA384",
    ]);
    expect(witnessDisagreements({ ...eximLogged, version: "TLS1.2" }, parseReceived(postfixHeader))).toEqual([
      "the log says TLS1.2, but the Received header says TLSv1.3",
    ]);
  });

  it("Exim's header of an authenticated submission: esmtpsa is TLS, the recipient after 'for'", () => {
    const received = parseReceived(eximSubmission);
    expect(received).toMatchObject({ from: "alice-laptop.infomaniak.test", fromDetail: "[172.24.0.1]", with: "esmtpsa", for: "bob@iroco.test", id: "1xYbGx-0000000000h-397i" });
    expect(transportFromReceived(received)).toBe("tls");
  });
});

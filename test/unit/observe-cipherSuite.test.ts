import { describe, expect, it } from "vitest";
import { canonicalSuite, openSslVersion, sameCipherSuite } from "../../src/observe/cipherSuite.js";

describe("sameCipherSuite", () => {
  it("TLS 1.3: GnuTLS's description, OpenSSL's and IANA's name, and Exim's TLS 1.2-shaped label are one suite", () => {
    const names = ["ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM", "ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM", "TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"];
    for (const a of names) for (const b of names) expect(sameCipherSuite("TLSv1.3", a, b), `${a} ≡ ${b}`).toBe(true);
    expect(sameCipherSuite("TLS1.3", "ECDHE_X25519__ECDSA_SECP256R1_SHA256__CHACHA20_POLY1305", "TLS_CHACHA20_POLY1305_SHA256")).toBe(true);
    expect(sameCipherSuite("TLSv1.3", "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_128_GCM", "TLS_AES_128_GCM_SHA256")).toBe(true);
  });

  it("TLS 1.3: another cipher or hash is another suite", () => {
    expect(sameCipherSuite("TLSv1.3", "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM", "TLS_AES_128_GCM_SHA256")).toBe(false);
    expect(sameCipherSuite("TLSv1.3", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")).toBe(false);
    expect(sameCipherSuite("TLSv1.3", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA256", "TLS_AES_256_GCM_SHA384")).toBe(false);
  });

  it("TLS 1.2 ECDHE: GnuTLS's description, OpenSSL's and IANA's names are one suite; the authentication counts", () => {
    const rsa = ["ECDHE_SECP256R1__RSA_SHA256__AES_256_GCM", "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"];
    for (const a of rsa) for (const b of rsa) expect(sameCipherSuite("TLSv1.2", a, b), `${a} ≡ ${b}`).toBe(true);
    expect(sameCipherSuite("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")).toBe(true);
    expect(sameCipherSuite("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")).toBe(true);
    expect(sameCipherSuite("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")).toBe(false);
    expect(sameCipherSuite("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE_SECP256R1__RSA_SHA256__AES_256_GCM")).toBe(false);
  });

  it("a TLS 1.3 name does not pass for a TLS 1.2 session's suite", () => {
    expect(sameCipherSuite("TLSv1.2", "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384")).toBe(false);
  });

  it("names outside the table compare as written", () => {
    expect(canonicalSuite("TLSv1.2", "AES256-SHA")).toBeUndefined();
    expect(sameCipherSuite("TLSv1.2", "AES256-SHA", "AES256-SHA")).toBe(true);
    expect(sameCipherSuite("TLSv1.2", "AES256-SHA", "AES128-SHA")).toBe(false);
  });
});

describe("openSslVersion", () => {
  it("GnuTLS's TLS1.3 is OpenSSL's TLSv1.3; OpenSSL's spelling stays", () => {
    expect(openSslVersion("TLS1.3")).toBe("TLSv1.3");
    expect(openSslVersion("TLSv1.2")).toBe("TLSv1.2");
  });
});

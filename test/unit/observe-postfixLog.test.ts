import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseLog, parseLogLine } from "../../src/observe/postfixLog.js";

// Every line below is copied verbatim from test/fixtures/logs/*.log (captured from our
// containers) unless its comment says it follows the Postfix docs or source instead.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/logs/${name}`, import.meta.url), "utf8");

describe("parseLogLine: client-side TLS (smtp_tls_loglevel)", () => {
  it("reads a Trusted session to Bob's MX: trust, peer, version and cipher", () => {
    const line =
      "Nov 27 22:47:19 smtp postfix/smtp[112]: Trusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";
    expect(parseLogLine(line)).toEqual({
      kind: "tlsEstablished",
      line,
      time: "Nov 27 22:47:19",
      host: "smtp",
      program: "postfix/smtp",
      service: "smtp",
      pid: 112,
      trust: "trusted",
      peer: "mx.iroco.test[172.18.0.3]:25",
      peerHost: "mx.iroco.test",
      version: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
      keyExchange: "X25519",
    });
  });

  it("reads a Verified session", () => {
    const line =
      "Nov 27 22:47:25 smtp postfix/smtp[147]: Verified TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";
    expect(parseLogLine(line)).toMatchObject({ kind: "tlsEstablished", pid: 147, trust: "verified" });
  });

  it("reads Untrusted and Anonymous sessions (wording from the Postfix docs, not a capture)", () => {
    // Postfix docs (TLS_README, smtp_tls_loglevel): "Untrusted|Anonymous TLS connection established to …".
    const untrusted =
      "Nov 27 22:49:02 smtp postfix/smtp[415]: Untrusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
    const anonymous =
      "Nov 27 22:49:09 smtp postfix/smtp[431]: Anonymous TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)";
    expect(parseLogLine(untrusted)).toMatchObject({ trust: "untrusted", version: "TLSv1.3" });
    expect(parseLogLine(anonymous)).toMatchObject({
      trust: "anonymous",
      version: "TLSv1.2",
      cipher: "ECDHE-RSA-AES256-GCM-SHA384",
    });
  });

  it("reads the key exchange as each release logs it (captured from real sessions, test/fixtures/logs/keyexchange-*.log)", () => {
    // Postfix 3.7 (OpenSSL 3.0), sending: a world's default, a receiver limited to
    // prime256v1 or secp384r1, TLS 1.2 (anonymous DH at level may, ECDHE at verify), and the wire in mitm.
    const sent = parseLog(fixture("keyexchange-postfix-3.7.log"));
    expect(sent.map((event) => event.kind === "tlsEstablished" && [event.version, event.keyExchange ?? null])).toEqual([
      ["TLSv1.3", "X25519"],
      ["TLSv1.2", null],
      ["TLSv1.3", "ECDHE (prime256v1)"],
      ["TLSv1.3", "ECDHE (secp384r1)"],
      // Postfix reads the group only for TLS 1.3: a TLS 1.2 line names none, ECDHE suite or not.
      ["TLSv1.2", null],
      ["TLSv1.2", null],
      ["TLSv1.3", "ECDHE (prime256v1)"],
      ["TLSv1.3", "X25519"],
      ["TLSv1.3", "X25519"],
    ]);
    // Postfix 3.10 (OpenSSL 3.5), receiving: the default, X25519MLKEM768 added to
    // tls_eecdh_auto_curves on both ends, prime256v1 alone; then the hybrid session recorded in
    // test/fixtures/wire/postfix-3.10-x25519mlkem768.json. Same summary as the client's.
    const received = parseLog(fixture("keyexchange-postfix-3.10.log"));
    expect(received.map((event) => event.kind === "smtpdTls" && event.keyExchange)).toEqual([
      "x25519",
      "X25519MLKEM768",
      "secp256r1",
      "X25519MLKEM768",
    ]);
  });

  // Postfix 3.7 writes issuer_CN=, fingerprint=, pkey_fingerprint=; 3.10 and later issuer=, cert fingerprint=, pkey fingerprint=.
  it.each([
    {
      release: "3.7",
      line: "Nov 27 22:47:38 smtp postfix/smtp[211]: mx.iroco.test[172.18.0.3]:25: subject_CN=mx.iroco.test, issuer_CN=manual CA, fingerprint=CD:20:B0:2D:FC:70:8A:13:3D:56:44:99:DF:4B:17:0C:BE:D7:BC:01:12:92:7F:3F:FA:A7:67:42:A7:34:74:69, pkey_fingerprint=35:12:C3:95:84:FE:8F:19:B7:A3:50:8D:0E:E4:05:9C:3D:5E:AB:B4:31:BF:BB:4D:CE:54:8D:C9:7C:D5:40:9E",
      read: {
        pid: 211,
        peer: "mx.iroco.test[172.18.0.3]:25",
        issuerCN: "manual CA",
        fingerprint: "CD:20:B0:2D:FC:70:8A:13:3D:56:44:99:DF:4B:17:0C:BE:D7:BC:01:12:92:7F:3F:FA:A7:67:42:A7:34:74:69",
        pkeyFingerprint: "35:12:C3:95:84:FE:8F:19:B7:A3:50:8D:0E:E4:05:9C:3D:5E:AB:B4:31:BF:BB:4D:CE:54:8D:C9:7C:D5:40:9E",
      },
    },
    {
      release: "3.10",
      line: "Dec 01 14:57:57 smtp postfix/smtp[150]: mx.iroco.test[172.26.0.3]:25: subject_CN=mx.iroco.test, issuer=starttls-lab test CA, cert fingerprint=E4:1E:B4:8C:41:F8:63:90:64:29:91:B1:DE:E3:70:93:2F:6D:54:B6:C1:03:E5:05:37:D7:61:D1:48:9C:D4:74, pkey fingerprint=E1:D3:34:DA:35:36:D1:A7:7B:97:5B:3E:B0:78:69:63:28:AC:53:10:80:FD:A6:F1:76:BD:BF:A1:3E:8A:7E:68",
      read: {
        pid: 150,
        peer: "mx.iroco.test[172.26.0.3]:25",
        issuerCN: "starttls-lab test CA",
        fingerprint: "E4:1E:B4:8C:41:F8:63:90:64:29:91:B1:DE:E3:70:93:2F:6D:54:B6:C1:03:E5:05:37:D7:61:D1:48:9C:D4:74",
        pkeyFingerprint: "E1:D3:34:DA:35:36:D1:A7:7B:97:5B:3E:B0:78:69:63:28:AC:53:10:80:FD:A6:F1:76:BD:BF:A1:3E:8A:7E:68",
      },
    },
  ])("reads the peercert line the harness enables, as Postfix $release words it: subject and issuer CN, fingerprints", ({ line, read }) => {
    expect(parseLogLine(line)).toMatchObject({ kind: "peerCertificate", subjectCN: "mx.iroco.test", ...read });
  });

  it("ignores the debug-level-2 chatter around a handshake", () => {
    for (const line of [
      "Nov 27 22:47:32 smtp postfix/smtp[182]: initializing the client-side TLS engine",
      "Nov 27 22:47:32 smtp postfix/smtp[182]: setting up TLS connection to mx.iroco.test[172.18.0.3]:25",
      'Nov 27 22:47:32 smtp postfix/smtp[182]: mx.iroco.test[172.18.0.3]:25: TLS cipher list "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"',
      "Nov 27 22:47:32 smtp postfix/smtp[182]: SSL_connect:SSLv3/TLS write client hello",
      "Nov 27 22:47:32 smtp postfix/smtp[182]: mx.iroco.test[172.18.0.3]:25: depth=0 verify=1 subject=/CN=mx.iroco.test",
      "Nov 27 22:47:32 smtp postfix/smtp[182]: SSL_connect:SSL negotiation finished successfully",
    ]) {
      expect(parseLogLine(line), line).toBeNull();
    }
  });
});

describe("parseLogLine: server-side TLS", () => {
  it("reads smtpd's session from the sender, and the submissions service's prefixed program name", () => {
    const mx =
      "Nov 27 22:47:19 mx postfix/smtpd[105]: Anonymous TLS connection established from m-sender.manualnet[172.18.0.2]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";
    const submissions =
      "Nov 27 22:47:18 smtp postfix/submissions/smtpd[105]: Anonymous TLS connection established from unknown[172.18.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";
    expect(parseLogLine(mx)).toMatchObject({
      kind: "smtpdTls",
      service: "smtpd",
      trust: "anonymous",
      client: "m-sender.manualnet[172.18.0.2]",
      version: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
    });
    expect(parseLogLine(submissions)).toMatchObject({
      kind: "smtpdTls",
      program: "postfix/submissions/smtpd",
      service: "smtpd",
      pid: 105,
      client: "unknown[172.18.0.1]",
    });
  });
});

describe("parseLogLine: status lines", () => {
  it("reads a relay over SMTP: recipient, relay, dsn, detail and the receiver's queue id", () => {
    const line =
      "Nov 27 22:47:19 smtp postfix/smtp[112]: 0CDCF178411: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.11, delays=0.02/0.02/0.05/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 2426C178491)";
    expect(parseLogLine(line)).toEqual({
      kind: "delivery",
      line,
      time: "Nov 27 22:47:19",
      host: "smtp",
      program: "postfix/smtp",
      service: "smtp",
      pid: 112,
      queueId: "0CDCF178411",
      to: "bob@iroco.test",
      relay: "mx.iroco.test[172.18.0.3]:25",
      dsn: "2.0.0",
      status: "sent",
      detail: "250 2.0.0 Ok: queued as 2426C178491",
      remoteQueueId: "2426C178491",
    });
  });

  it("reads a deferral: TLS required but not offered", () => {
    const line =
      "Nov 27 22:47:46 smtp postfix/smtp[240]: C0240178002: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.05, delays=0.01/0.02/0.02/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.iroco.test[172.18.0.3])";
    const event = parseLogLine(line);
    expect(event).toMatchObject({
      kind: "delivery",
      queueId: "C0240178002",
      dsn: "4.7.4",
      status: "deferred",
      detail: "TLS is required, but was not offered by host mx.iroco.test[172.18.0.3]",
    });
    expect(event).not.toHaveProperty("remoteQueueId");
  });

  it("reads a bounce, keeping the nested parentheses of the detail", () => {
    const line =
      "Nov 27 22:47:52 smtp postfix/smtp[270]: D674E178002: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.07, delays=0.01/0.02/0.04/0, dsn=5.7.0, status=bounced (host mx.iroco.test[172.18.0.3] said: 530 5.7.0 Must issue a STARTTLS command first (in reply to MAIL FROM command))";
    expect(parseLogLine(line)).toMatchObject({
      status: "bounced",
      dsn: "5.7.0",
      detail: "host mx.iroco.test[172.18.0.3] said: 530 5.7.0 Must issue a STARTTLS command first (in reply to MAIL FROM command)",
    });
  });

  it("reads local LMTP deliveries (the NDR to Alice, the message to Bob) with their service", () => {
    const ndr =
      "Nov 27 22:47:52 smtp postfix/lmtp[272]: E8A45178073: to=<alice@infomaniak.test>, relay=smtp.infomaniak.test[private/dovecot-lmtp], delay=0.04, delays=0/0.01/0.02/0.01, dsn=2.0.0, status=sent (250 2.0.0 <alice@infomaniak.test> ES2iOpgICmsRAQAA5r2gAQ Saved)";
    const bob =
      "Nov 27 22:47:19 mx postfix/lmtp[110]: 2426C178491: to=<bob@iroco.test>, relay=mx.iroco.test[private/dovecot-lmtp], delay=0.07, delays=0.01/0.01/0.02/0.02, dsn=2.0.0, status=sent (250 2.0.0 <bob@iroco.test> WFjvCncICmtvAAAA4McfTA Saved)";
    expect(parseLogLine(ndr)).toMatchObject({
      service: "lmtp",
      queueId: "E8A45178073",
      to: "alice@infomaniak.test",
      relay: "smtp.infomaniak.test[private/dovecot-lmtp]",
      status: "sent",
    });
    expect(parseLogLine(ndr)).not.toHaveProperty("remoteQueueId");
    expect(parseLogLine(bob)).toMatchObject({ host: "mx", service: "lmtp", queueId: "2426C178491" });
  });

  it("reads the deferrals named in DESIGN.md (wording from the Postfix docs, not a capture)", () => {
    // Status-line layout as captured above; the reasons are Postfix's own texts (DESIGN.md).
    const handshake =
      "Nov 27 22:50:03 smtp postfix/smtp[512]: 4C1E2178100: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.05, delays=0.01/0.02/0.02/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)";
    const notVerified =
      "Nov 27 22:50:09 smtp postfix/smtp[530]: 5D2F3178200: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.06, delays=0.01/0.02/0.03/0, dsn=4.7.5, status=deferred (Server certificate not verified)";
    expect(parseLogLine(handshake)).toMatchObject({ dsn: "4.7.5", status: "deferred", detail: "Cannot start TLS: handshake failure" });
    expect(parseLogLine(notVerified)).toMatchObject({ dsn: "4.7.5", status: "deferred", detail: "Server certificate not verified" });
  });

  it("reads a session given up before a retry (QUEUEID: reason; format from Postfix's smtp_trouble.c, not a capture)", () => {
    const line = "Nov 27 22:50:15 smtp postfix/smtp[540]: 6E3A4178300: Cannot start TLS: handshake failure";
    expect(parseLogLine(line)).toMatchObject({
      kind: "sessionAbandoned",
      pid: 540,
      queueId: "6E3A4178300",
      reason: "Cannot start TLS: handshake failure",
    });
  });
});

describe("parseLogLine: bounce, cleanup and master", () => {
  it("reads the sender non-delivery notification and the NDR's queue id", () => {
    const line = "Nov 27 22:47:52 smtp postfix/bounce[271]: D674E178002: sender non-delivery notification: E8A45178073";
    expect(parseLogLine(line)).toMatchObject({
      kind: "nonDeliveryNotice",
      service: "bounce",
      queueId: "D674E178002",
      ndrQueueId: "E8A45178073",
    });
  });

  it("reads a message-id without its angle brackets", () => {
    const line = "Nov 27 22:47:19 smtp postfix/cleanup[111]: 0CDCF178411: message-id=<m1.1795819638894@infomaniak.test>";
    expect(parseLogLine(line)).toMatchObject({
      kind: "messageId",
      queueId: "0CDCF178411",
      messageId: "m1.1795819638894@infomaniak.test",
    });
  });

  it("reads the master's start and reload", () => {
    expect(
      parseLogLine("Nov 27 22:47:11 smtp postfix/master[1]: daemon started -- version 3.7.11, configuration /etc/postfix"),
    ).toMatchObject({ kind: "started", pid: 1, version: "3.7.11", configDir: "/etc/postfix" });
    expect(
      parseLogLine("Nov 27 22:47:24 smtp postfix/master[1]: reload -- version 3.7.11, configuration /etc/postfix"),
    ).toMatchObject({ kind: "reloaded", version: "3.7.11", configDir: "/etc/postfix" });
  });

  it("returns null for lines it does not need: Dovecot, qmgr, anvil, postsuper, connects", () => {
    for (const line of [
      "Nov 27 22:47:09 master: Info: Dovecot v2.3.19.1 (9b53102964) starting up for imap, lmtp (core dumps disabled)",
      "Nov 27 22:47:52 lmtp(273): Info: Connect from local",
      "Nov 27 22:47:19 smtp postfix/qmgr[103]: 0CDCF178411: from=<alice@infomaniak.test>, size=618, nrcpt=1 (queue active)",
      "Nov 27 22:47:19 smtp postfix/qmgr[103]: 0CDCF178411: removed",
      "Nov 27 22:47:24 smtp postfix/anvil[109]: statistics: max cache size 1 at Nov 27 22:47:18",
      "Nov 27 22:47:50 smtp postfix/postsuper[251]: Deleted: 1 message",
      "Nov 27 22:47:11 smtp postfix/postfix-script[101]: starting the Postfix mail system",
      "Nov 27 22:47:19 smtp postfix/submissions/smtpd[105]: 0CDCF178411: client=unknown[172.18.0.1], sasl_method=PLAIN, sasl_username=alice@infomaniak.test",
      "",
    ]) {
      expect(parseLogLine(line), line).toBeNull();
    }
  });
});

describe("parseLog on the captured samples", () => {
  it("finds every status line, TLS session and certificate of the sender's log", () => {
    const events = parseLog(fixture("sender-sample.log"));
    const count = (kind: string) => events.filter((e) => e.kind === kind).length;
    expect(count("delivery")).toBe(10); // 9 relays + the NDR's LMTP delivery
    expect(count("tlsEstablished")).toBe(6);
    expect(count("peerCertificate")).toBe(3);
    expect(count("nonDeliveryNotice")).toBe(1);
    expect(count("reloaded")).toBe(8);
    expect(count("started")).toBe(1);
    expect(count("sessionAbandoned")).toBe(0);
    expect(events.every((e) => e.line.startsWith("Nov 27 "))).toBe(true);
  });

  it("finds the receiver's LMTP deliveries and smtpd TLS sessions", () => {
    const events = parseLog(fixture("receiver-sample.log"));
    expect(events.filter((e) => e.kind === "delivery" && e.service === "lmtp")).toHaveLength(6);
    expect(events.filter((e) => e.kind === "smtpdTls")).toHaveLength(6);
  });
});

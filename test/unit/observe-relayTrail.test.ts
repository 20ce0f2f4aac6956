import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseLog } from "../../src/observe/postfixLog.js";
import { relayTrail } from "../../src/observe/relayTrail.js";

// Lines are verbatim from test/fixtures/logs/sender-sample.log unless a comment says otherwise.
const senderLog = parseLog(readFileSync(new URL("../fixtures/logs/sender-sample.log", import.meta.url), "utf8"));
const log = (...lines: string[]) => parseLog(lines.join("\n"));

const CERT_211 =
  "Nov 27 22:47:38 smtp postfix/smtp[211]: mx.iroco.test[172.18.0.3]:25: subject_CN=mx.iroco.test, issuer_CN=manual CA, fingerprint=CD:20:B0:2D:FC:70:8A:13:3D:56:44:99:DF:4B:17:0C:BE:D7:BC:01:12:92:7F:3F:FA:A7:67:42:A7:34:74:69, pkey_fingerprint=35:12:C3:95:84:FE:8F:19:B7:A3:50:8D:0E:E4:05:9C:3D:5E:AB:B4:31:BF:BB:4D:CE:54:8D:C9:7C:D5:40:9E";
const TRUSTED_211 =
  "Nov 27 22:47:38 smtp postfix/smtp[211]: Trusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";
const SENT_211 =
  "Nov 27 22:47:38 smtp postfix/smtp[211]: DBF0F178533: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.05, delays=0.02/0.02/0.01/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as E54211785C1)";
/** The real deferral of C0240178002 (pid 240), its pid rewritten to 211 to show Postfix reusing a process. */
const DEFERRED_AS_211 =
  "Nov 27 22:47:46 smtp postfix/smtp[211]: C0240178002: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.05, delays=0.01/0.02/0.02/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.iroco.test[172.18.0.3])";

describe("relayTrail on the captured sender log", () => {
  it("a Trusted delivery: final status, TLS session and the receiver's queue id", () => {
    const trail = relayTrail(senderLog, "0CDCF178411");
    expect(trail.final).toMatchObject({ status: "sent", remoteQueueId: "2426C178491", pid: 112 });
    expect(trail.tls).toMatchObject({ trust: "trusted", version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" });
    expect(trail.peerCertificate).toBeUndefined(); // peercert logging was off for this message
    expect(trail.messageId).toBe("m1.1795819638894@infomaniak.test");
    expect(trail.ndrQueueId).toBeUndefined();
  });

  it("a Verified delivery", () => {
    expect(relayTrail(senderLog, "E67601784E2").tls?.trust).toBe("verified");
  });

  it("the certificate logged by the same process before the TLS line, amid debug-level-2 chatter", () => {
    const trail = relayTrail(senderLog, "0303B1785A1");
    expect(trail.peerCertificate).toMatchObject({ pid: 182, subjectCN: "mx.iroco.test", issuerCN: "manual CA" });
    expect(trail.tls).toMatchObject({ pid: 182, trust: "trusted" });
    expect(trail.final?.remoteQueueId).toBe("0B4211785B1");
  });

  it("a deferral has the reason and no TLS facts", () => {
    const trail = relayTrail(senderLog, "C0240178002");
    expect(trail.final).toMatchObject({
      status: "deferred",
      dsn: "4.7.4",
      detail: "TLS is required, but was not offered by host mx.iroco.test[172.18.0.3]",
    });
    expect(trail.tls).toBeUndefined();
    expect(trail.peerCertificate).toBeUndefined();
  });

  it("a bounce names the non-delivery notification sent back to Alice", () => {
    const trail = relayTrail(senderLog, "D674E178002");
    expect(trail.final).toMatchObject({ status: "bounced", dsn: "5.7.0" });
    expect(trail.final?.detail).toContain("530 5.7.0 Must issue a STARTTLS command first");
    expect(trail.ndrQueueId).toBe("E8A45178073");
    expect(trail.deciding.map((event) => event.line)).toContain(
      "Nov 27 22:47:52 smtp postfix/bounce[271]: D674E178002: sender non-delivery notification: E8A45178073",
    );
  });

  it("the NDR's own local LMTP delivery is not a relay attempt", () => {
    expect(relayTrail(senderLog, "E8A45178073").attempts).toEqual([]);
  });

  it("a queue id not (yet) in the log has no final status", () => {
    const trail = relayTrail(senderLog, "ABCDEF12345");
    expect(trail.final).toBeUndefined();
    expect(trail.attempts).toEqual([]);
    expect(trail.deciding).toEqual([]);
  });

  it("lists the deciding events in log order", () => {
    expect(relayTrail(senderLog, "DBF0F178533").deciding.map((event) => event.line)).toEqual([
      "Nov 27 22:47:38 smtp postfix/cleanup[210]: DBF0F178533: message-id=<m1.1795819658771@infomaniak.test>",
      CERT_211,
      TRUSTED_211,
      SENT_211,
    ]);
  });
});

describe("relayTrail: Postfix reuses smtp processes (and pids) across messages", () => {
  it("a plaintext attempt does not inherit the TLS session of the previous message of the same pid", () => {
    const events = log(CERT_211, TRUSTED_211, SENT_211, DEFERRED_AS_211);
    const previous = relayTrail(events, "DBF0F178533");
    const next = relayTrail(events, "C0240178002");
    expect(previous.tls?.trust).toBe("trusted");
    expect(next.final?.status).toBe("deferred");
    expect(next.tls).toBeUndefined();
    expect(next.peerCertificate).toBeUndefined();
  });

  it("a TLS delivery does not pick up lines of the previous message of the same pid", () => {
    // Real lines of 096591782D2 (pid 345), after the rewritten deferral of another message by pid 345.
    const events = log(
      DEFERRED_AS_211.replace("smtp[211]", "smtp[345]"),
      "Nov 27 22:48:08 smtp postfix/smtp[345]: Trusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
      "Nov 27 22:48:08 smtp postfix/smtp[345]: 096591782D2: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.1, delays=0.02/0.02/0.05/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1EEA11782E2)",
    );
    const trail = relayTrail(events, "096591782D2");
    expect(trail.tls?.trust).toBe("trusted");
    expect(trail.peerCertificate).toBeUndefined();
    expect(relayTrail(events, "C0240178002").tls).toBeUndefined();
  });

  it("other processes' TLS lines, interleaved, are not mixed in", () => {
    const events = log(
      TRUSTED_211,
      "Nov 27 22:47:46 smtp postfix/smtp[240]: C0240178002: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.05, delays=0.01/0.02/0.02/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.iroco.test[172.18.0.3])",
      SENT_211,
    );
    expect(relayTrail(events, "C0240178002").tls).toBeUndefined();
    expect(relayTrail(events, "DBF0F178533").tls?.pid).toBe(211);
  });

  it("a daemon restart (new container, pids start over) ends the search", () => {
    const events = log(
      TRUSTED_211,
      "Nov 27 22:47:11 smtp postfix/master[1]: daemon started -- version 3.7.11, configuration /etc/postfix",
      SENT_211,
    );
    expect(relayTrail(events, "DBF0F178533").tls).toBeUndefined();
  });
});

describe("relayTrail: retries", () => {
  // The "QUEUEID: reason" line is how Postfix logs a session it gives up while keeping the
  // recipients for a plaintext retry (smtp_bulk_fail in smtp_trouble.c): from the Postfix
  // source and DESIGN.md's wording, not a capture.
  it("with `may`, a failed handshake then a plaintext retry in the same process is plaintext", () => {
    const events = log(
      "Nov 27 22:47:32 smtp postfix/smtp[182]: 0303B1785A1: Cannot start TLS: handshake failure",
      "Nov 27 22:47:32 smtp postfix/smtp[182]: 0303B1785A1: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.04, delays=0.02/0.02/0.01/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 0B4211785B1)",
    );
    const trail = relayTrail(events, "0303B1785A1");
    expect(trail.final?.status).toBe("sent");
    expect(trail.tls).toBeUndefined();
    expect(trail.abandoned.map((a) => a.reason)).toEqual(["Cannot start TLS: handshake failure"]);
  });

  it("a TLS session lost mid-way, then a plaintext retry: the dropped session's TLS line is not the delivery's", () => {
    // "lost connection with %s while %s" is Postfix's wording (smtp_stream_except), not a capture.
    const events = log(
      CERT_211,
      TRUSTED_211,
      "Nov 27 22:47:38 smtp postfix/smtp[211]: DBF0F178533: lost connection with mx.iroco.test[172.18.0.3] while sending end of data -- message may be sent more than once",
      SENT_211,
    );
    const trail = relayTrail(events, "DBF0F178533");
    expect(trail.tls).toBeUndefined();
    expect(trail.peerCertificate).toBeUndefined();
    expect(trail.abandoned).toHaveLength(1);
    expect(trail.final?.status).toBe("sent");
  });

  it("the final status is the last one: a deferral, then a later TLS delivery", () => {
    const events = log(
      "Nov 27 22:50:03 smtp postfix/smtp[512]: DBF0F178533: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.05, delays=0.01/0.02/0.02/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)",
      CERT_211,
      TRUSTED_211,
      SENT_211,
    );
    const trail = relayTrail(events, "DBF0F178533");
    expect(trail.attempts.map((a) => a.status)).toEqual(["deferred", "sent"]);
    expect(trail.final?.status).toBe("sent");
    expect(trail.tls?.trust).toBe("trusted");
  });

  it("a Server certificate not verified deferral keeps its Untrusted session (wording from the Postfix docs)", () => {
    const events = log(
      "Nov 27 22:50:09 smtp postfix/smtp[530]: Untrusted TLS connection established to mx.iroco.test[172.18.0.3]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
      "Nov 27 22:50:09 smtp postfix/smtp[530]: 5D2F3178200: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.3]:25, delay=0.06, delays=0.01/0.02/0.03/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
    );
    const trail = relayTrail(events, "5D2F3178200");
    expect(trail.final).toMatchObject({ status: "deferred", detail: "Server certificate not verified" });
    expect(trail.tls?.trust).toBe("untrusted");
  });

  it("filters by recipient when asked", () => {
    const events = log(
      TRUSTED_211,
      SENT_211.replace("bob@iroco.test", "carol@iroco.test"),
      SENT_211,
    );
    expect(relayTrail(events, "DBF0F178533", { recipient: "carol@iroco.test" }).final?.to).toBe("carol@iroco.test");
    // Same message, same relay: one session delivered both recipients.
    expect(relayTrail(events, "DBF0F178533", { recipient: "bob@iroco.test" }).tls?.trust).toBe("trusted");
  });
});

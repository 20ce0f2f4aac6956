import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readEvents } from "../../src/observe/logReader.js";
import { parseOpensmtpdLine, type OpensmtpdEvent } from "../../src/observe/opensmtpdLog.js";
import { OPENSMTPD_LOG_READER } from "../../src/observe/opensmtpdReader.js";
import type { DeliveryEvent, PostfixEvent } from "../../src/observe/postfixLog.js";
import { relayTrail } from "../../src/observe/relayTrail.js";

// The whole log of the OpenSMTPD 7.6.0 container (smtpd -d -v -T bounce) through test/e2e/opensmtpd-sender.test.ts:
// may, verify, encrypt against a receiver without STARTTLS then a retry, verify/encrypt/may against a wrong-name
// certificate, may against a failing handshake and against no STARTTLS, an unknown recipient and its bounce.
const lines = readFileSync(new URL("../fixtures/logs/opensmtpd-7.6-sender-verbose.log", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line !== "");
const parsed = lines.map(parseOpensmtpdLine);
const events = readEvents(OPENSMTPD_LOG_READER, lines);
const reader = OPENSMTPD_LOG_READER;

function lineWith(...parts: string[]): string {
  const found = lines.filter((line) => parts.every((part) => line.includes(part)));
  if (found.length !== 1) throw new Error(`${found.length} fixture lines contain ${parts.join(" and ")}`);
  return found[0]!;
}

function only<T>(values: T[]): T {
  if (values.length !== 1) throw new Error(`expected one, found ${values.length}`);
  return values[0]!;
}

/** What a fixture line says, read by the test itself from OpenSMTPD's key=value fields. */
function field(line: string, name: string): string {
  const value = new RegExp(`\\b${name}=(?:"([^"]*)"|<([^>]*)>|(\\S+))`).exec(line);
  if (!value) throw new Error(`no ${name}= in ${line}`);
  return value[1] ?? value[2] ?? value[3]!;
}

/** The message ids delivered by the outgoing sessions of the events `predicate` picks. */
function messagesOfSessionsWith(predicate: (event: OpensmtpdEvent) => boolean): string[] {
  const sessions = new Set(parsed.flatMap((event) => (event && predicate(event) && "session" in event ? [event.session] : [])));
  return parsed.flatMap((event) => (event?.kind === "delivery" && sessions.has(event.session) ? [event.messageId] : []));
}

function deliveryOf(line: string): DeliveryEvent {
  const [event, ...more] = reader.events(line);
  expect(more).toEqual([]);
  expect(event?.kind).toBe("delivery");
  return event as DeliveryEvent;
}

describe("OPENSMTPD_LOG_READER.events: the status lines, one line at a time", () => {
  it("says one status per mta or mda delivery line and nothing for any other line", () => {
    for (const line of lines) {
      const isStatus = / m[td]a delivery evpid=/.test(line);
      expect(reader.events(line), line).toHaveLength(isStatus ? 1 : 0);
    }
  });

  it("reads a relayed message: its message id, Postfix's queue id, the relay in Postfix's shape, the enhanced code", () => {
    const line = lineWith("mta delivery", 'result="Ok"', "evpid=4df047ed");
    const stat = field(line, "stat");
    const [address, name] = /^(\S+) \((\S+)\)$/.exec(field(line, "relay"))!.slice(1);
    expect(deliveryOf(line)).toMatchObject({
      line,
      service: "smtp",
      queueId: field(line, "evpid").slice(0, 8),
      to: field(line, "to"),
      relay: `${name}[${address}]`,
      status: "sent",
      dsn: stat.split(" ")[1],
      detail: stat,
      remoteQueueId: /queued as (\w+)$/.exec(stat)![1],
    });
  });

  it("reads a deferral logged outside any session: no remote reply, so no enhanced code and no queue id", () => {
    const line = lineWith("mta delivery", 'result="TempFail"', "evpid=4f45b396");
    const status = deliveryOf(line);
    expect(status).toMatchObject({ status: "deferred", relay: field(line, "relay"), detail: field(line, "stat"), dsn: "" });
    expect(status).not.toHaveProperty("remoteQueueId");
  });

  it("reads a refused recipient as bounced, with the receiver's reply whole", () => {
    const line = lineWith("mta delivery", 'result="PermFail"');
    expect(deliveryOf(line)).toMatchObject({ status: "bounced", to: "nobody@iroco.test", dsn: "5.1.1", detail: field(line, "stat") });
  });

  it("reads the bounce's local delivery to Alice's mailbox as an lmtp status line, which the follow stops at", () => {
    const line = lineWith("mda delivery", "from=<>");
    const status = deliveryOf(line);
    expect(status).toMatchObject({ service: "lmtp", queueId: field(line, "evpid").slice(0, 8), to: "alice@infomaniak.test", status: "sent", detail: "Delivered" });
    // rcpt= repeats the address it came in as; it was not rewritten.
    expect(status).not.toHaveProperty("origTo");
    expect(status).not.toHaveProperty("remoteQueueId");
  });
});

describe("OPENSMTPD_LOG_READER.readLines: the TLS session and the bounce, each from two lines", () => {
  it("makes one TLS event per outgoing TLS line, none for the incoming side's", () => {
    const tls = events.filter((event) => event.kind === "tlsEstablished");
    expect(tls.map((event) => event.line)).toEqual(lines.filter((line) => / mta tls ciphers=/.test(line)));
  });

  it("takes the trust from the session's certificate check: valid is verified, unverified is untrusted", () => {
    const [verified, ...moreVerified] = messagesOfSessionsWith((event) => event.kind === "certCheck" && event.result === "valid");
    expect(moreVerified).toEqual([]);
    const trail = relayTrail(events, verified!, { recipient: "bob@iroco.test" });
    expect(trail.final?.status).toBe("sent");
    const tlsLine = trail.tls!.line;
    expect(trail.tls).toMatchObject({ trust: "verified", version: /ciphers=([^:]+):/.exec(tlsLine)![1], cipher: /ciphers=[^:]+:([^:]+):/.exec(tlsLine)![1] });
    expect(trail.tls).not.toHaveProperty("keyExchange");

    const unverified = messagesOfSessionsWith((event) => event.kind === "certCheck" && event.result === "unverified");
    expect(unverified.length).toBeGreaterThan(1);
    for (const queueId of unverified) expect(relayTrail(events, queueId).tls?.trust, queueId).toBe("untrusted");
  });

  it("names the peer the session connected to, with the port of its connecting line", () => {
    const tls = events.find((event) => event.kind === "tlsEstablished")!;
    const session = /^([0-9a-f]{16}) /.exec(tls.line)![1]!;
    const connecting = lines.find((line) => line.startsWith(`${session} mta connecting `))!;
    const [address, port] = /address=[a-z+]+:\/\/(\S+):(\d+)/.exec(connecting)!.slice(1);
    expect(tls).toMatchObject({ peer: `${field(connecting, "host")}[${address}]:${port}`, peerHost: field(connecting, "host") });
  });

  it("knows no trust, so says no TLS, for a slice that ends before the certificate check", () => {
    const tlsIndex = lines.findIndex((line) => / mta tls ciphers=/.test(line));
    expect(readEvents(reader, lines.slice(0, tlsIndex + 1)).filter((event) => event.kind === "tlsEstablished")).toEqual([]);
    expect(readEvents(reader, lines.slice(0, tlsIndex + 2)).filter((event) => event.kind === "tlsEstablished")).toHaveLength(1);
  });

  it("follows the founding story: deferred without TLS, then delivered over TLS by the retry", () => {
    const deferred = lineWith("mta delivery", 'result="TempFail"', "evpid=4f45b396");
    const queueId = field(deferred, "evpid").slice(0, 8);
    const trail = relayTrail(events, queueId, { recipient: "bob@iroco.test" });
    expect(trail.attempts.map((attempt) => attempt.status)).toEqual(["deferred", "sent"]);
    expect(trail.tls?.trust).toBe("untrusted");
    // The deferral alone: its line is logged outside a session, so no TLS pairs with it.
    const upToDeferral = lines.slice(0, lines.indexOf(deferred) + 1);
    const first = relayTrail(readEvents(reader, upToDeferral), queueId);
    expect(first.final?.status).toBe("deferred");
    expect(first.tls).toBeUndefined();
  });

  it("sees no TLS for a message delivered in plaintext after the handshake failed", () => {
    const downgrade = only(parsed.filter((event) => event?.kind === "tlsDowngrade"));
    const queueId = only(messagesOfSessionsWith((event) => event === downgrade));
    const trail = relayTrail(events, queueId);
    expect(trail.final?.status).toBe("sent");
    expect(trail.tls).toBeUndefined();
  });

  it("follows a bounce: the refused recipient over TLS, the notice naming the report, the report's delivery to Alice", () => {
    const refused = lineWith("mta delivery", 'result="PermFail"');
    const queueId = field(refused, "evpid").slice(0, 8);
    const trail = relayTrail(events, queueId, { recipient: "nobody@iroco.test" });
    expect(trail.final).toMatchObject({ status: "bounced", line: refused });
    expect(trail.tls?.trust).toBe("untrusted");
    const report = /<<< 250 \S+ ([0-9a-f]{8}) Message accepted/.exec(lineWith("bounce: 0x", "Message accepted"))![1]!;
    expect(trail.ndrQueueId).toBe(report);
    // OpenSMTPD logs no Message-ID, of the message or of its report.
    expect(trail.messageId).toBeUndefined();
    expect(events.some((event) => event.kind === "messageId")).toBe(false);

    const reportDelivery = events.filter((event): event is DeliveryEvent => event.kind === "delivery" && event.queueId === report);
    expect(reportDelivery.map((event) => [event.service, event.to, event.status])).toEqual([["lmtp", "alice@infomaniak.test", "sent"]]);
  });

  it("pairs a bounce's two lines by bounce session only, and needs both", () => {
    const found = lineWith("bounce: 0x", "found message");
    const accepted = lineWith("bounce: 0x", "Message accepted");
    const notices = (slice: string[]) => readEvents(reader, slice).filter((event: PostfixEvent) => event.kind === "nonDeliveryNotice");
    expect(notices([found, accepted])).toHaveLength(1);
    expect(notices([accepted])).toEqual([]);
    expect(notices([found.replace(/0x[0-9a-f]+/, "0x1"), accepted])).toEqual([]);
    expect(reader.events(accepted)).toEqual([]);
  });
});

describe("OPENSMTPD_LOG_READER.leftQueue and replyQueueId", () => {
  it("takes a message's Ok (relayed or delivered locally) and an administrator's removal as leaving the queue", () => {
    const relayed = lineWith("mta delivery", 'result="Ok"', "evpid=4df047ed");
    expect(reader.leftQueue(relayed)).toBe(field(relayed, "evpid").slice(0, 8));
    const local = lineWith("mda delivery", "from=<>");
    expect(reader.leftQueue(local)).toBe(field(local, "evpid").slice(0, 8));
    const removed = lineWith("Remove for");
    expect(reader.leftQueue(removed)).toBe(/Remove for ([0-9a-f]{8})/.exec(removed)![1]);
  });

  it("does not take a deferral or a refusal for leaving: a refused envelope stays as a bounce envelope until the report is submitted", () => {
    expect(reader.leftQueue(lineWith("mta delivery", 'result="TempFail"', "evpid=4f45b396"))).toBeUndefined();
    expect(reader.leftQueue(lineWith("mta delivery", 'result="PermFail"'))).toBeUndefined();
    expect(reader.leftQueue(lineWith("debug: queue: bouncing evp:"))).toBeUndefined();
    const others = lines.filter((line) => !/ m[td]a delivery |Remove for /.test(line));
    expect(others.flatMap((line) => reader.leftQueue(line) ?? [])).toEqual([]);
  });

  it("reads the message id from smtpd's reply to DATA", () => {
    expect(reader.replyQueueId("250 2.0.0 3f9a1b2c Message accepted for delivery")).toBe("3f9a1b2c");
    expect(reader.replyQueueId("250 2.0.0 3f9a1b2c Message accepted for delivery\r\n")).toBe("3f9a1b2c");
    expect(reader.replyQueueId("250 2.0.0 Ok: queued as 0F39C1EA70E")).toBeUndefined();
    expect(reader.replyQueueId("451 4.3.0 Temporary failure")).toBeUndefined();
  });
});

describe("OpenSMTPD's complaints", () => {
  it("are a session's error and its downgrade to plaintext, the lines that say why a try failed", () => {
    const complaints = lines.filter((line) => reader.complaint(line));
    expect(complaints).toContain("a7f54dbbb8f1ace9 mta error reason=TLS required but not supported by remote host");
    expect(complaints).toContain("smtp-out: Error on session 78942518f1556034: opportunistic TLS failed, downgrading to plain");
    expect(complaints.every((line) => / mta error reason=|downgrading to plain$/.test(line))).toBe(true);
  });
});

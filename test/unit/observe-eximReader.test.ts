import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { gnutlsKeyExchange, EXIM_LOG_READER } from "../../src/observe/eximReader.js";
import { readEvents } from "../../src/observe/logReader.js";
import { relayTrail } from "../../src/observe/relayTrail.js";
import { sameKeyExchange } from "../../src/observe/keyExchange.js";
import { parseLogLine, queuedAs } from "../../src/observe/postfixLog.js";

/** Lines captured from the real containers (see observe-eximLog.test.ts). */
const lines = (name: string) => readFileSync(new URL(`../fixtures/logs/${name}`, import.meta.url), "utf8").split("\n");
const sender = lines("exim-sender-4.98.log");
const local = lines("exim-local-4.98.log");
const receiver = lines("exim-receiver-4.98.log");

function lineWith(from: readonly string[], fragment: string): string {
  const line = from.find((candidate) => candidate.includes(fragment));
  if (!line) throw new Error(`no captured line contains ${fragment}`);
  return line;
}

describe("EXIM_LOG_READER.events", () => {
  it("a delivery over TLS: the TLS session, then the status line, both of the same program and pid", () => {
    const line = lineWith(sender, "1xYYLI-00000000011-1MKC => ");
    const [tls, status, ...rest] = EXIM_LOG_READER.events(line);
    expect(rest).toEqual([]);
    expect(tls).toMatchObject({
      kind: "tlsEstablished",
      line,
      trust: "verified",
      peer: "mx.iroco.test[192.168.224.5]:25",
      peerHost: "mx.iroco.test",
      version: "TLSv1.3",
      cipher: "ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM",
      keyExchange: "secp256r1",
    });
    expect(status).toMatchObject({
      kind: "delivery",
      service: "smtp",
      queueId: "1xYYLI-00000000011-1MKC",
      to: "bob@iroco.test",
      relay: "mx.iroco.test[192.168.224.5]:25",
      status: "sent",
      dsn: "2.0.0",
      detail: "250 2.0.0 Ok: queued as DDE481EC802",
      remoteQueueId: "DDE481EC802",
    });
    expect([tls!.program, tls!.pid]).toEqual([status!.program, status!.pid]);
  });

  it("no two lines share a pid, so no status line is paired with another line's TLS", () => {
    const pids = [...sender, ...local, ...receiver].flatMap((line) => EXIM_LOG_READER.events(line)).map((event) => event.pid);
    const perLine = new Set([...sender, ...local, ...receiver].filter((line) => EXIM_LOG_READER.events(line).length > 0));
    expect(new Set(pids).size).toBe(perLine.size);
  });

  it("a deferral for want of STARTTLS and one for a failed verification: status deferred with Exim's words, no TLS", () => {
    expect(EXIM_LOG_READER.events(lineWith(sender, "1xYYLL-0000000001M-1IUD == "))).toEqual([
      expect.objectContaining({
        kind: "delivery",
        service: "smtp",
        status: "deferred",
        to: "bob@iroco.test",
        relay: "mx.iroco.test[192.168.224.5]:25",
        dsn: "",
        detail: "a TLS session is required, but the server did not offer TLS support",
      }),
    ]);
    expect(EXIM_LOG_READER.events(lineWith(sender, "1xYYLQ-0000000002A-1ghS == "))).toEqual([
      expect.objectContaining({ status: "deferred", detail: "TLS session: (certificate verification failed)" }),
    ]);
  });

  it("a deferral before any transport ran (the DNS lookup) comes from no client: service error, relay none", () => {
    expect(EXIM_LOG_READER.events(lineWith(local, "1xYYLd-0000000002F-2rB2 == "))).toEqual([
      expect.objectContaining({ service: "error", status: "deferred", relay: "none", detail: "host lookup did not complete" }),
    ]);
  });

  it("a bounce refused by a router: service error, status bounced, the router's reason", () => {
    expect(EXIM_LOG_READER.events(lineWith(local, "1xYYCp-0000000000w-2i5e ** "))).toEqual([
      expect.objectContaining({
        service: "error",
        status: "bounced",
        to: "someone@google.com",
        detail: "starttls-lab: only the test world's domains are reachable",
      }),
    ]);
  });

  it("Alice's submission: the Message-ID Exim logged (id=), nothing else", () => {
    expect(EXIM_LOG_READER.events(lineWith(sender, "1xYYLI-00000000011-1MKC <= "))).toEqual([
      expect.objectContaining({ kind: "messageId", queueId: "1xYYLI-00000000011-1MKC", messageId: "exim-27ed30dcdaa5@infomaniak.test" }),
    ]);
  });

  it("the bounce Exim makes (<= <> R=parent): a non-delivery notice for the parent naming the bounce's id", () => {
    expect(EXIM_LOG_READER.events(lineWith(local, "1xYYCp-0000000000z-3A0p <= "))).toEqual([
      expect.objectContaining({ kind: "nonDeliveryNotice", queueId: "1xYYCp-0000000000w-2i5e", ndrQueueId: "1xYYCp-0000000000z-3A0p" }),
    ]);
  });

  it("a local delivery into Dovecot: service lmtp, the envelope recipient (not the local part), Dovecot's reply", () => {
    const events = EXIM_LOG_READER.events(lineWith(receiver, "1xYYdb-0000000000r-07K9 -> bob "));
    expect(events).toEqual([
      expect.objectContaining({
        kind: "delivery",
        service: "lmtp",
        to: "bob@iroco.test",
        relay: "dovecot_lmtp",
        status: "sent",
        detail: "250 2.0.0 <bob@iroco.test> sW4UB59sD2s4AAAAz5VcPQ:R2 Saved",
      }),
    ]);
    expect(events[0]).not.toHaveProperty("remoteQueueId");
  });

  it("the daemon, queue runs, Dovecot's own lines and a rejection before any message say nothing here", () => {
    for (const fragment of ["daemon started", "Start queue run", "lmtp(56): Info: Connect", "rejected MAIL", "removed by root"]) {
      expect(EXIM_LOG_READER.events(lineWith([...sender, ...receiver], fragment))).toEqual([]);
    }
  });
});

describe("EXIM_LOG_READER.leftQueue and replyQueueId", () => {
  it("Completed names the message that left the queue; no other line does", () => {
    expect(EXIM_LOG_READER.leftQueue(lineWith(sender, "1xYYLI-00000000011-1MKC Completed"))).toBe("1xYYLI-00000000011-1MKC");
    expect(EXIM_LOG_READER.leftQueue(lineWith(sender, "1xYYLI-00000000011-1MKC => "))).toBeUndefined();
    expect(EXIM_LOG_READER.leftQueue(lineWith(sender, "1xYYLQ-0000000002A-1ghS removed by root"))).toBeUndefined();
  });

  it("Exim's reply to DATA names its id; a reply without one names none", () => {
    expect(EXIM_LOG_READER.replyQueueId("250 OK id=1xYYLI-00000000011-1MKC")).toBe("1xYYLI-00000000011-1MKC");
    expect(EXIM_LOG_READER.replyQueueId("250 OK")).toBeUndefined();
  });
});

describe("relayTrail over Exim's log", () => {
  it("the founding story: a deferral without TLS, then the retry delivered over TLS, paired with that line's session only", () => {
    const trail = relayTrail(readEvents(EXIM_LOG_READER, sender), "1xYYLL-0000000001M-1IUD", { recipient: "bob@iroco.test" });
    expect(trail.attempts.map((attempt) => attempt.status)).toEqual(["deferred", "sent"]);
    expect(trail.final).toMatchObject({ status: "sent", remoteQueueId: "7B1521EC011" });
    expect(trail.tls).toMatchObject({ version: "TLSv1.3", trust: "verified", line: trail.final!.line });
    expect(trail.messageId).toBe("exim-14ab4e5fa013@infomaniak.test");
  });

  it("a deferral stays without TLS though the lines around it had some", () => {
    const trail = relayTrail(readEvents(EXIM_LOG_READER, sender), "1xYYLQ-0000000002A-1ghS", { recipient: "bob@iroco.test" });
    expect(trail.final?.status).toBe("deferred");
    expect(trail.tls).toBeUndefined();
  });

  it("a bounce to Alice: the notice names the bounce, and Dovecot's line for the session in Exim's C= gives the bounce's Message-ID", () => {
    const events = readEvents(EXIM_LOG_READER, local);
    const bounced = relayTrail(events, "1xYYCp-0000000000w-2i5e", { recipient: "someone@google.com" });
    expect(bounced.final).toMatchObject({ status: "bounced", service: "error" });
    expect(bounced.ndrQueueId).toBe("1xYYCp-0000000000z-3A0p");
    const notice = relayTrail(events, "1xYYCp-0000000000z-3A0p");
    expect(notice.messageId).toBe("E1xYYCp-0000000000z-3A0p@smtp.infomaniak.test");
    const fromDovecot = notice.deciding.find((event) => event.kind === "messageId");
    expect(fromDovecot?.line).toContain("yWx9LyNmD2s1AAAAQ9A2xA");
  });

  it("a message that logged its own id= keeps it, not a second one from Dovecot", () => {
    const events = readEvents(EXIM_LOG_READER, receiver).filter((event) => event.kind === "messageId" && event.queueId === "1xYYdb-0000000000r-07K9");
    expect(events.map((event) => event.kind === "messageId" && event.messageId)).toEqual(["exim-7b3e04c79f28@infomaniak.test"]);
  });
});

describe("gnutlsKeyExchange", () => {
  it("the group GnuTLS names first compares equal to OpenSSL's and IANA's names for it", () => {
    expect(sameKeyExchange(gnutlsKeyExchange("ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM")!, "X25519")).toBe(true);
    expect(sameKeyExchange(gnutlsKeyExchange("ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM")!, "ECDHE (P-256)")).toBe(true);
    expect(sameKeyExchange(gnutlsKeyExchange("ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM")!, "X25519")).toBe(false);
  });

  it("a suite name without a group names none", () => {
    expect(gnutlsKeyExchange("ECDHE_RSA_AES_256_GCM_SHA384")).toBeUndefined();
  });
});

describe("queuedAs on Postfix's status line for a delivery into Exim", () => {
  it("Exim's '250 OK id=…' reply gives the next hop's id, as Postfix's own 'queued as' does", () => {
    // Captured by test/e2e/exim-receiver.test.ts: Alice's Postfix delivering to Exim as Bob's provider.
    const line = "Dec 02 03:40:27 smtp postfix/smtp[123]: AF7981EC479: to=<dan@ecole.test>, relay=172.20.0.6[172.20.0.6]:25, delay=0.14, delays=0.03/0.04/0.06/0.01, dsn=2.0.0, status=sent (250 OK id=1xYbCl-0000000001I-3VRY)";
    const status = parseLogLine(line);
    expect(status).toMatchObject({ kind: "delivery", status: "sent", remoteQueueId: "1xYbCl-0000000001I-3VRY" });
    // …which is the id Exim's own log follows into Dovecot.
    const stored = readEvents(EXIM_LOG_READER, receiver).filter((event) => event.kind === "delivery" && event.queueId === "1xYbCl-0000000001I-3VRY");
    expect(stored.map((event) => event.kind === "delivery" && [event.to, event.service, event.status])).toEqual([
      ["dan@ecole.test", "lmtp", "sent"],
      ["bob@iroco.test", "lmtp", "sent"],
      ["carol@lutins.test", "lmtp", "sent"],
    ]);
  });

  it("a reply naming neither gives none", () => {
    expect(queuedAs("250 2.0.0 Ok")).toBeUndefined();
    expect(queuedAs("250 2.0.0 Ok: queued as 4dKxyzABC")).toBe("4dKxyzABC");
  });
});

describe("Exim's complaints", () => {
  it("are a host's failure in Exim's words, logged before the deferral it causes; deliveries and daemon lines are not", () => {
    const complaints = sender.filter((line) => EXIM_LOG_READER.complaint(line));
    expect(complaints).toContain(
      "2026-12-02 00:37:07 1xYYLL-0000000001M-1IUD H=mx.iroco.test [192.168.224.5]:25: a TLS session is required, but the server did not offer TLS support",
    );
    expect(complaints.some((line) => / (=>|==|<=|\*\*) /.test(line) || /daemon started|Completed$/.test(line))).toBe(false);
  });
});

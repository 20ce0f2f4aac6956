import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { eventsOfMessage, parseEximLog, parseEximLogLine, type EximEvent } from "../../src/observe/eximLog.js";

/** Lines captured from the real containers: an Exim sender in the world (test/e2e/exim-sender.test.ts), and one alone (local deliveries, bounces, a DNS failure). */
const sender = readFileSync(new URL("../fixtures/logs/exim-sender-4.98.log", import.meta.url), "utf8");
const local = readFileSync(new URL("../fixtures/logs/exim-local-4.98.log", import.meta.url), "utf8");
/** Exim as Bob's provider, the world's Postfix delivering to it (test/e2e/exim-receiver.test.ts). */
const receiver = readFileSync(new URL("../fixtures/logs/exim-receiver-4.98.log", import.meta.url), "utf8");

function lineWith(text: string, fragment: string): string {
  const line = text.split("\n").find((candidate) => candidate.includes(fragment));
  if (!line) throw new Error(`no captured line contains ${fragment}`);
  return line;
}

function eventsOf(text: string, messageId: string): EximEvent[] {
  return eventsOfMessage(parseEximLog(text), messageId);
}

describe("parseEximLogLine", () => {
  it("a delivery over TLS: host, port, interface, GnuTLS's X=, CV=, DN= and the receiver's queue id in C=", () => {
    const event = parseEximLogLine(lineWith(sender, "1xYYLI-00000000011-1MKC => "));
    expect(event).toMatchObject({
      kind: "delivery",
      flag: "=>",
      time: "2026-12-02 00:37:04",
      messageId: "1xYYLI-00000000011-1MKC",
      address: "bob@iroco.test",
      router: "world_mx",
      transport: "remote_smtp",
      host: { name: "mx.iroco.test", address: "192.168.224.5", port: 25 },
      interface: { address: "192.168.224.6", port: 54958 },
      tls: { version: "TLS1.3", cipher: "ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM", bits: 256, certificateVerified: "yes", peerDn: "CN=mx.iroco.test" },
      confirmation: "250 2.0.0 Ok: queued as DDE481EC802",
      remoteQueueId: "DDE481EC802",
    });
  });

  it("a deferral for want of STARTTLS: Exim's own words, the errno and the host", () => {
    const event = parseEximLogLine(lineWith(sender, "1xYYLL-0000000001M-1IUD == "));
    expect(event).toMatchObject({
      kind: "deferral",
      address: "bob@iroco.test",
      router: "world_mx",
      transport: "remote_smtp",
      errno: -38,
      host: { name: "mx.iroco.test", port: 25 },
      error: "a TLS session is required, but the server did not offer TLS support",
    });
  });

  it("a deferral for a certificate that fails verification", () => {
    expect(parseEximLogLine(lineWith(sender, "1xYYLQ-0000000002A-1ghS == "))).toMatchObject({
      kind: "deferral",
      errno: -37,
      error: "TLS session: (certificate verification failed)",
    });
  });

  it("a deferral before any host: the DNS lookup did not complete", () => {
    const event = parseEximLogLine(lineWith(local, "1xYYLd-0000000002F-2rB2 == "));
    expect(event).toMatchObject({ kind: "deferral", address: "bob@iroco.test", router: "world_mx", errno: -1, error: "host lookup did not complete" });
    expect(event).not.toHaveProperty("host");
    expect(event).not.toHaveProperty("transport");
  });

  it("Alice's submission on 465: sender, client, protocol, TLS, authentication, Message-ID and recipients", () => {
    expect(parseEximLogLine(lineWith(sender, "1xYYLI-00000000011-1MKC <= "))).toMatchObject({
      kind: "arrival",
      sender: "alice@infomaniak.test",
      host: { name: "(alice-laptop.infomaniak.test)", address: "192.168.224.1" },
      interface: { port: 465 },
      protocol: "esmtpsa",
      tls: { version: "TLS1.3", cipher: "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM", certificateVerified: "no", sni: "smtp.infomaniak.test" },
      authenticated: "PLAIN:alice@infomaniak.test",
      recipients: ["bob@iroco.test"],
    });
  });

  it("a bounce: the refused recipient with the router's reason, then the notice to Alice naming the message it reports on", () => {
    expect(eventsOf(local, "1xYYCp-0000000000w-2i5e").map((event) => event.kind)).toEqual(["arrival", "bounce", "completed"]);
    expect(parseEximLogLine(lineWith(local, "1xYYCp-0000000000w-2i5e ** "))).toMatchObject({
      kind: "bounce",
      address: "someone@google.com",
      router: "outside_world",
      error: "starttls-lab: only the test world's domains are reachable",
    });
    expect(parseEximLogLine(lineWith(local, "1xYYFn-00000000019-0lDu ** "))).toMatchObject({ kind: "bounce", address: "bob@iroco.test", error: "Unrouteable address" });
    expect(parseEximLogLine(lineWith(local, "1xYYCp-0000000000z-3A0p <= "))).toMatchObject({
      kind: "arrival",
      sender: "",
      bounceOf: "1xYYCp-0000000000w-2i5e",
      protocol: "local",
      recipients: ["alice@infomaniak.test"],
    });
  });

  it("a local delivery to Dovecot: the local part, the address it came from and Dovecot's answer", () => {
    expect(parseEximLogLine(lineWith(local, "1xYYCo-0000000000o-32sg => "))).toMatchObject({
      kind: "delivery",
      address: "alice",
      originalAddress: "alice@infomaniak.test",
      router: "dovecot_mailbox",
      transport: "dovecot_lmtp",
      confirmation: "250 2.0.0 <alice@infomaniak.test> 6LlqOCJmD2s1AAAAQ9A2xA Saved",
    });
  });

  it("the founding story in one message's lines: submitted, deferred, delivered after the retry, completed", () => {
    const story = eventsOf(sender, "1xYYLL-0000000001M-1IUD");
    expect(story.map((event) => event.kind)).toEqual(["arrival", "deferral", "delivery", "completed"]);
    expect(story[2]).toMatchObject({ tls: { version: "TLS1.3", certificateVerified: "yes" }, remoteQueueId: expect.stringMatching(/^[0-9A-F]+$/) });
  });

  it("a receiver at encrypt refusing a plaintext MAIL: no message id yet, the command, the address and the reply", () => {
    expect(parseEximLogLine(lineWith(receiver, "rejected MAIL"))).toEqual({
      kind: "rejected",
      line: lineWith(receiver, "rejected MAIL"),
      time: "2026-12-02 00:56:03",
      host: { name: "(smtp.infomaniak.test)", address: "192.168.144.3" },
      interface: { name: "192.168.144.6", address: "192.168.144.6", port: 25 },
      command: "MAIL",
      address: "alice@infomaniak.test",
      reason: "530 5.7.0 Must issue a STARTTLS command first",
    });
  });

  it("one LMTP delivery to three domains: => for the first recipient, -> for those delivered with it", () => {
    const deliveries = eventsOf(receiver, "1xYYdb-0000000000r-07K9").filter((event) => event.kind === "delivery");
    expect(deliveries.map((event) => [event.flag, event.originalAddress])).toEqual([
      ["=>", "dan@ecole.test"],
      ["->", "bob@iroco.test"],
      ["->", "carol@lutins.test"],
    ]);
  });

  it("everything else parses to null: the daemon, queue runs, a host-level error, removal, Dovecot", () => {
    for (const fragment of ["daemon started", "Start queue run", "SIGHUP received", "]:25: a TLS session is required", "End queue run", "removed by root", "Dovecot v2.4"]) {
      expect(parseEximLogLine(lineWith(sender + local, fragment)), fragment).toBeNull();
    }
  });

  it("every =>, ==, ** and <= line of the captures parses, and nothing else does", () => {
    for (const line of (sender + local + receiver).split("\n")) {
      if (line.includes(" rejected ")) continue;
      const flagged = / [0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4} (<=|=>|->|==|\*\*|Completed)/.test(line);
      expect(parseEximLogLine(line) !== null, line).toBe(flagged);
    }
  });
});

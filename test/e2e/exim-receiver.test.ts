/**
 * Exim 4.98 (GnuTLS) as Bob's provider: the world's Postfix sender (Alice's
 * provider) delivers to an Exim container joined to the world, at each
 * receiver level. The MX names and the wire belong to the world's Postfix
 * receiver, so Alice's Postfix is routed to the Exim container by address
 * (transport_maps); every case is read from both sides' logs.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventsOfMessage, parseEximLogLine, type EximArrival, type EximDelivery, type EximRejection } from "../../src/observe/eximLog.js";
import { parseLogLine, type DeliveryEvent, type MessageIdEvent, type TlsEstablishedEvent } from "../../src/observe/postfixLog.js";
import { EXIM_LOG_READER } from "../../src/observe/eximReader.js";
import { openSslVersion, sameCipherSuite } from "../../src/observe/cipherSuite.js";
import { readEvents } from "../../src/observe/logReader.js";
import { findSmtpReceived, transportFromReceived, witnessDisagreements } from "../../src/observe/receivedHeader.js";
import { findInInbox } from "../../src/drive/mailbox.js";
import { headerValues } from "../../src/drive/headers.js";
import { EXIM_RECEIVER_LEVELS, type StartedEximContainer } from "../../src/world/eximContainer.js";
import { hostedDomains, PROVIDERS } from "../../src/world/providers.js";
import { MailWorld } from "../../src/world/world.js";
import { aliceSubmits, certificateAfterStartTls, joinExim } from "./helpers/exim.js";
import { UnsupportedLevelError } from "../../src/scenario/levels.js";

const WAIT_MS = 60_000;
const RECIPIENTS = hostedDomains(PROVIDERS.receiver).map((hosted) => hosted.mailbox);

let world: MailWorld;
let exim: StartedEximContainer;
/** Alice's Postfix sends Bob's provider's three domains straight to the Exim container. */
let toExim: Record<string, string>;

beforeAll(async () => {
  world = await MailWorld.start();
  exim = await joinExim(world, "receiver", []);
  const routes = hostedDomains(PROVIDERS.receiver).map((hosted) => `${hosted.domain}=smtp:[${exim.address}]:25`);
  toExim = { transport_maps: `inline:{${routes.join(", ")}}` };
});

afterAll(async () => {
  await world?.stop();
});

/** Alice submits to her Postfix provider, which relays to Exim; returns Postfix's queue id and its final status line for the message. */
async function sentThroughPostfix(subject: string): Promise<{ queueId: string; status: DeliveryEvent; tls?: TlsEstablishedEvent }> {
  const log = world.sender.log;
  const from = log.cursor;
  const { response } = await aliceSubmits(world.sender, world.caCertPem, RECIPIENTS, subject);
  const queueId = /queued as ([0-9A-F]+)/.exec(response)?.[1];
  if (!queueId) throw new Error(`Alice's Postfix accepted the message but named no queue id: ${response}`);
  const found = await log.waitFor(
    (line) => {
      const event = parseLogLine(line);
      return event?.kind === "delivery" && event.queueId === queueId && event.status !== "deferred";
    },
    { from, timeoutMs: WAIT_MS, what: `Postfix's final status of ${queueId}` },
  );
  const status = parseLogLine(found.line) as DeliveryEvent;
  // The TLS session of that delivery: the same smtp process's last TLS line before its status line.
  const tls = log
    .since(from)
    .slice(0, found.index - from)
    .map(parseLogLine)
    .filter((event): event is TlsEstablishedEvent => event?.kind === "tlsEstablished" && event.pid === status.pid)
    .at(-1);
  return { queueId, status, ...(tls && { tls }) };
}

/** Exim's id in its reply to Postfix's DATA ("250 OK id=…"), and its arrival and local deliveries for it. */
async function eximReceived(status: DeliveryEvent): Promise<{ arrival: EximArrival; deliveries: EximDelivery[] }> {
  const id = /\bid=([0-9A-Za-z-]+)/.exec(status.detail)?.[1];
  expect(id, `Postfix's status names no Exim id: ${status.detail}`).toBeDefined();
  await exim.log.waitFor((line) => parseEximLogLine(line)?.kind === "completed" && line.includes(id!), {
    from: 0,
    timeoutMs: WAIT_MS,
    what: `Exim completing ${id}`,
  });
  const events = eventsOfMessage(exim.log.since(0).map(parseEximLogLine), id!);
  const arrival = events.find((event): event is EximArrival => event.kind === "arrival");
  expect(arrival, `Exim logged no arrival of ${id}`).toBeDefined();
  return { arrival: arrival!, deliveries: events.filter((event): event is EximDelivery => event.kind === "delivery") };
}

describe("Exim as Bob's provider, Postfix as Alice's", () => {
  test("may: STARTTLS offered and taken; Postfix's TLS line and Exim's <= line agree; all three domains stored by Dovecot", async () => {
    await exim.applyReceiverLevel("may");
    expect(await exim.nativeServerSettings()).toEqual(EXIM_RECEIVER_LEVELS.may);
    await world.postfix("sender", "this test").applySettings({ ...toExim, smtp_tls_security_level: "may" });
    const { status, tls } = await sentThroughPostfix("to exim, may");
    expect(status.status).toBe("sent");
    expect(tls, "Alice's Postfix logged no TLS session for the delivery").toBeDefined();
    const { arrival, deliveries } = await eximReceived(status);
    expect(arrival.protocol).toBe("esmtps");
    expect(arrival.sender).toBe(PROVIDERS.sender.mailbox);
    expect(arrival.tls?.version.replace(/^TLS/, "TLSv")).toBe(tls!.version);
    expect(tls!.cipher).toContain(arrival.tls!.cipher.split("__").at(-1));
    expect(deliveries.map((delivery) => delivery.originalAddress ?? delivery.address).sort()).toEqual([...RECIPIENTS].sort());
    for (const delivery of deliveries) {
      expect(delivery.transport).toBe("dovecot_lmtp");
      expect(delivery.confirmation).toMatch(/^250 .* Saved$/);
    }
  });

  test.each<{ session: string; protocols: Record<string, string> }>([
    { session: "TLS 1.3", protocols: {} },
    // Postfix's classic exclusion syntax, which every release reads.
    { session: "TLS 1.2", protocols: { smtp_tls_protocols: "!TLSv1.3" } },
  ])("$session: Postfix's status names Exim's id, Exim's reader follows it into Dovecot, and Exim's log and Received header agree with Postfix's log", async ({ protocols }) => {
    await exim.applyReceiverLevel("may");
    await world.postfix("sender", "this test").applySettings({ ...toExim, smtp_tls_security_level: "may", ...protocols });
    const from = exim.log.cursor;
    const { status, tls } = await sentThroughPostfix("to exim, followed");
    const eximId = status.remoteQueueId;
    expect(eximId, `queuedAs read no Exim id from ${status.detail}`).toMatch(/^[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}$/);
    await exim.log.waitFor((line) => EXIM_LOG_READER.leftQueue(line) === eximId, { from, timeoutMs: WAIT_MS, what: `Exim completing ${eximId}` });
    const lines = exim.log.since(from);
    const events = readEvents(EXIM_LOG_READER, lines);
    const stored = events.filter((event): event is DeliveryEvent => event.kind === "delivery" && event.queueId === eximId);
    expect(stored.map((event) => [event.to, event.service, event.status]).sort()).toEqual(RECIPIENTS.map((to) => [to, "lmtp", "sent"]).sort());

    // Exim's own witness of the session (X= on its <= line) names the suite Postfix logged, in GnuTLS's words.
    const arrival = lines.map(parseEximLogLine).find((event): event is EximArrival => event?.kind === "arrival" && event.messageId === eximId);
    expect(arrival?.tls, "Exim logged no TLS for the arrival").toBeDefined();
    expect(openSslVersion(arrival!.tls!.version)).toBe(tls!.version);
    expect(sameCipherSuite(tls!.version, arrival!.tls!.cipher, tls!.cipher), `${arrival!.tls!.cipher} vs ${tls!.cipher}`).toBe(true);

    const bob = PROVIDERS.receiver;
    const messageId = events.find((event): event is MessageIdEvent => event.kind === "messageId" && event.queueId === eximId);
    expect(messageId).toBeDefined();
    const [copy] = await findInInbox(exim, world.caCertPem, { name: "Message-ID", value: `<${messageId!.messageId}>` }, bob);
    expect(copy, "Bob's Exim mailbox holds no copy").toBeDefined();
    const values = headerValues(copy!.source, "Received");
    const received = findSmtpReceived(values, bob.smtpHost);
    expect(received, "no Received header by Exim").toBeDefined();
    expect(received!.id).toBe(eximId);
    expect(received!.from).toBe(PROVIDERS.sender.smtpHost);
    expect(transportFromReceived(received!)).toBe("tls");
    expect(received!.tls?.version).toBe(tls!.version);
    expect(witnessDisagreements({ version: tls!.version, cipher: tls!.cipher }, received!)).toEqual([]);
  });

  test("three domains on one server: each MX name sent as SNI gets its own certificate, no SNI or another name the presented one", async () => {
    await exim.applyReceiverLevel("may");
    const presented = exim.presentedCertificate.certSha256.postfix;
    for (const hosted of hostedDomains(PROVIDERS.receiver)) {
      const certificate = await certificateAfterStartTls(exim, hosted.smtpHost);
      expect(certificate.subjectaltname, `SNI ${hosted.smtpHost}`).toContain(`DNS:${hosted.smtpHost}`);
      expect(certificate.fingerprint256 === presented, `SNI ${hosted.smtpHost}`).toBe(hosted === PROVIDERS.receiver);
    }
    expect((await certificateAfterStartTls(exim)).fingerprint256).toBe(presented);
    expect((await certificateAfterStartTls(exim, "mx.elsewhere.test")).fingerprint256).toBe(presented);
  });

  test("a replaced certificate is presented from the next connection on, with and without SNI, and the valid one again after", async () => {
    await exim.applyReceiverLevel("may");
    const valid = exim.presentedCertificate.certSha256.postfix;
    const expired = await exim.presentCertificate("expired", "rsa");
    try {
      expect(expired.certSha256.postfix).not.toBe(valid);
      expect((await certificateAfterStartTls(exim, PROVIDERS.receiver.smtpHost)).fingerprint256).toBe(expired.certSha256.postfix);
      expect((await certificateAfterStartTls(exim)).fingerprint256).toBe(expired.certSha256.postfix);
    } finally {
      await exim.presentCertificate("valid", "rsa");
    }
    expect((await certificateAfterStartTls(exim)).fingerprint256).toBe(valid);
  });

  test("none: no STARTTLS on offer, Postfix at may delivers in plaintext, and both logs say so", async () => {
    await exim.applyReceiverLevel("none");
    expect(await exim.nativeServerSettings()).toEqual(EXIM_RECEIVER_LEVELS.none);
    await world.postfix("sender", "this test").applySettings({ ...toExim, smtp_tls_security_level: "may" });
    const { status, tls } = await sentThroughPostfix("to exim, none");
    expect(status.status).toBe("sent");
    expect(tls).toBeUndefined();
    const { arrival } = await eximReceived(status);
    expect(arrival.protocol).toBe("esmtp");
    expect(arrival.tls).toBeUndefined();
  });

  test("encrypt: a plaintext sender is refused at MAIL in RFC 3207's words; a sender at may still delivers over TLS", async () => {
    await exim.applyReceiverLevel("encrypt");
    expect(await exim.nativeServerSettings()).toEqual(EXIM_RECEIVER_LEVELS.encrypt);
    await world.postfix("sender", "this test").applySettings({ ...toExim, smtp_tls_security_level: "none" });
    const from = exim.log.cursor;
    const refused = await sentThroughPostfix("to exim, encrypt, sender none");
    expect(refused.status.status).toBe("bounced");
    expect(refused.status.detail).toContain("Must issue a STARTTLS command first");
    expect(refused.status.detail).toContain("in reply to MAIL FROM command");
    const rejected = await exim.log.waitFor((line) => parseEximLogLine(line)?.kind === "rejected", { from, timeoutMs: WAIT_MS, what: "Exim's rejection of MAIL" });
    const rejection = parseEximLogLine(rejected.line) as EximRejection;
    expect(rejection).toMatchObject({ command: "MAIL", address: PROVIDERS.sender.mailbox, reason: expect.stringContaining("Must issue a STARTTLS command first") });

    await world.postfix("sender", "this test").applySettings({ ...toExim, smtp_tls_security_level: "may" });
    const { status, tls } = await sentThroughPostfix("to exim, encrypt, sender may");
    expect(status.status).toBe("sent");
    expect(tls).toBeDefined();
    expect((await eximReceived(status)).arrival.protocol).toBe("esmtps");
  });

  test("a receiver level a server does not take is refused", async () => {
    await expect(exim.applyReceiverLevel("verify")).rejects.toThrow(UnsupportedLevelError);
    expect(exim.appliedReceiverLevel).toBe("encrypt");
  });
});

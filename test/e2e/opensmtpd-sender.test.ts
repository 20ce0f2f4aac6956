/**
 * OpenSMTPD 7.6 as Alice's provider in a real world (Postfix receiver, dns,
 * wire): Alice submits to its port 465 with nodemailer, and each TLS level
 * is read from evidence: OpenSMTPD's own log and queue on one side, Bob's
 * Postfix log and the Received header of his stored copy on the other.
 *
 * STARTTLS_LAB_OPENSMTPD_LOG=<file> writes OpenSMTPD's whole log there at
 * the end (how test/fixtures/logs/opensmtpd-*.log were captured).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, expect } from "vitest";
import { headerValues } from "../../src/drive/headers.js";
import { countInInbox, findInInbox } from "../../src/drive/mailbox.js";
import { parseOpensmtpdLine, parseOpensmtpdLog, sessionEvents, type OpensmtpdDelivery, type OpensmtpdEvent } from "../../src/observe/opensmtpdLog.js";
import { readEvents } from "../../src/observe/logReader.js";
import { OPENSMTPD_LOG_READER } from "../../src/observe/opensmtpdReader.js";
import { parseLogLine, type DeliveryEvent, type SmtpdTlsEvent } from "../../src/observe/postfixLog.js";
import { relayTrail } from "../../src/observe/relayTrail.js";
import { findSmtpReceived, witnessDisagreements } from "../../src/observe/receivedHeader.js";
import { dockerClient } from "../../src/world/docker.js";
import { ensureImage } from "../../src/world/images.js";
import { OpensmtpdContainer, type StartedOpensmtpdContainer } from "../../src/world/opensmtpdContainer.js";
import { PROVIDERS } from "../../src/world/providers.js";
import { defaultCacheDir, type MailWorld } from "../../src/world/world.js";
import { worldTest } from "../../src/vitest.js";
import { UnsupportedLevelError } from "../../src/scenario/levels.js";

// No cleanup of its own: world.stop() removes it with the run's other containers (the last test checks that).
const test = worldTest.extend("opensmtpd", { scope: "file" }, async ({ world }: { world: MailWorld }) => {
  const image = await ensureImage("opensmtpd", path.join(defaultCacheDir(), "locks"));
  const joining = await world.joining("sender");
  return new OpensmtpdContainer(image.tag, PROVIDERS.sender).inProviderWorld(joining.network, joining.dns).withCertificates(joining.certificates, joining.credentials).start();
});

let logOf: StartedOpensmtpdContainer | undefined;
afterAll(() => {
  const file = process.env.STARTTLS_LAB_OPENSMTPD_LOG;
  if (file && logOf) writeFileSync(file, logOf.log.since(0).join("\n") + "\n");
});

const BOB = PROVIDERS.receiver;
const DELIVERY_TIMEOUT_MS = 60_000;

interface Sent {
  messageId: string;
  /** OpenSMTPD's message id, from its answer to Alice's DATA. */
  queueId: string;
}

async function submitAsAlice(world: MailWorld, opensmtpd: StartedOpensmtpdContainer, subject: string, to: string = BOB.mailbox): Promise<Sent> {
  logOf = opensmtpd;
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: opensmtpd.submissionsPort,
    secure: true,
    auth: { user: opensmtpd.identity.mailbox, pass: opensmtpd.password },
    tls: { ca: world.caCertPem, servername: opensmtpd.identity.smtpHost, minVersion: "TLSv1.2" },
  });
  try {
    const messageId = `<opensmtpd-${Date.now()}-${Math.random().toString(16).slice(2)}@${opensmtpd.identity.domain}>`;
    const info = await transport.sendMail({ from: opensmtpd.identity.mailbox, to, subject, messageId, text: `Hello from OpenSMTPD: ${subject}.` });
    const queueId = OPENSMTPD_LOG_READER.replyQueueId(info.response);
    if (!queueId) throw new Error(`OpenSMTPD accepted the message but named no message id: ${info.response}`);
    return { messageId, queueId };
  } finally {
    transport.close();
  }
}

/**
 * OpenSMTPD's next delivery line for this message from the cursor on (one
 * try's outcome), with the events of the one outgoing session that try
 * opened (a session may connect twice: TLS, then plaintext). A deferral's
 * delivery line is logged outside the session, so the session is found by
 * its connecting line since the cursor.
 */
async function nextTry(opensmtpd: StartedOpensmtpdContainer, queueId: string, from: number): Promise<{ delivery: OpensmtpdDelivery; session: OpensmtpdEvent[] }> {
  const isThisTry = (line: string) => {
    const event = parseOpensmtpdLine(line);
    return event?.kind === "delivery" && event.messageId === queueId;
  };
  const found = await opensmtpd.log.waitFor(isThisTry, { from, timeoutMs: DELIVERY_TIMEOUT_MS, what: `a delivery line for message ${queueId}` });
  const events = parseOpensmtpdLog(opensmtpd.log.since(from).slice(0, found.index - from + 1).join("\n"));
  const sessions = [...new Set(events.flatMap((event) => (event.kind === "connecting" ? [event.session] : [])))];
  if (sessions.length !== 1) throw new Error(`the try of message ${queueId} opened ${sessions.length} outgoing sessions, expected one:\n${events.map((event) => event.line).join("\n")}`);
  const delivery = events.at(-1) as OpensmtpdDelivery;
  const session = sessionEvents(events, sessions[0]!);
  expectTheReaderAgrees(opensmtpd.log.since(from).slice(0, found.index - from + 1), delivery, session);
  return { delivery, session };
}

const STATUS_OF_RESULT = { Ok: "sent", TempFail: "deferred", PermFail: "bounced" } as const;

/**
 * What the follow will read of this try through OPENSMTPD_LOG_READER agrees
 * with OpenSMTPD's own lines as this file reads them: the same status line,
 * TLS exactly when the session logged it, with the certificate check's trust.
 */
function expectTheReaderAgrees(lines: string[], delivery: OpensmtpdDelivery, session: OpensmtpdEvent[]): void {
  const trail = relayTrail(readEvents(OPENSMTPD_LOG_READER, lines), delivery.messageId, { recipient: delivery.to });
  expect(trail.final).toMatchObject({ line: delivery.line, status: STATUS_OF_RESULT[delivery.result], detail: delivery.stat });
  expect(OPENSMTPD_LOG_READER.leftQueue(delivery.line)).toBe(delivery.result === "Ok" ? delivery.messageId : undefined);
  const tls = session.find((event) => event.kind === "tls");
  const check = session.find((event) => event.kind === "certCheck");
  if (tls?.kind !== "tls" || check?.kind !== "certCheck") {
    expect(trail.tls).toBeUndefined();
    return;
  }
  expect(trail.tls).toMatchObject({ line: tls.line, version: tls.version, cipher: tls.cipher, trust: check.result === "valid" ? "verified" : "untrusted" });
}

/** Alice submits a message and OpenSMTPD tries it once: what it logged, and where Bob's log stood before. */
async function sendOne(world: MailWorld, opensmtpd: StartedOpensmtpdContainer, subject: string) {
  const [from, receiverFrom] = [opensmtpd.log.cursor, world.receiver.log.cursor];
  const sent = await submitAsAlice(world, opensmtpd, subject);
  return { sent, receiverFrom, ...(await nextTry(opensmtpd, sent.queueId, from)) };
}

function receiverTlsLines(world: MailWorld, from: number): SmtpdTlsEvent[] {
  return world.receiver.log
    .since(from)
    .map(parseLogLine)
    .filter((event): event is SmtpdTlsEvent => event?.kind === "smtpdTls");
}

/**
 * Bob's copies of the message once his Postfix has stored the one OpenSMTPD
 * handed over: OpenSMTPD logs Ok at Postfix's "queued as", before the LMTP
 * delivery to Dovecot, so the mailbox is read after Postfix logs that.
 */
async function bobsCopies(world: MailWorld, sent: Sent, handedOver: OpensmtpdDelivery, receiverFrom: number) {
  const receiverQueueId = /queued as (\w+)$/.exec(handedOver.stat)?.[1];
  if (!receiverQueueId) throw new Error(`OpenSMTPD's delivery line names no queue id of Bob's Postfix: ${handedOver.line}`);
  await world.receiver.log.waitFor(
    (line) => {
      const event = parseLogLine(line);
      return event?.kind === "delivery" && event.queueId === receiverQueueId && event.status === "sent";
    },
    { from: receiverFrom, timeoutMs: DELIVERY_TIMEOUT_MS, what: `Bob's Postfix storing ${receiverQueueId}` },
  );
  return findInInbox(world.receiver, world.caCertPem, { name: "Message-ID", value: sent.messageId });
}

test("may (the image's default): delivered over TLS; OpenSMTPD's log, Bob's Postfix log and his Received header agree", async ({ world, opensmtpd }) => {
  const settings = await opensmtpd.applyLevel("may");
  expect(settings.action).toMatch(/^action "outbound" relay helo \$lab_host ca lab$/);
  const { sent, delivery, session, receiverFrom } = await sendOne(world, opensmtpd, "may");
  expect(delivery.result).toBe("Ok");
  expect(session.find((event) => event.kind === "connecting")).toMatchObject({ tls: "opportunistic", port: 25 });
  const tls = session.find((event) => event.kind === "tls");
  expect(tls, "OpenSMTPD took STARTTLS on offer").toMatchObject({ side: "mta", version: expect.stringMatching(/^TLSv1\.[23]$/) });
  // may checks nothing: the harness CA would have validated this certificate, yet OpenSMTPD says unverified.
  expect(session.find((event) => event.kind === "certCheck")).toMatchObject({ result: "unverified" });
  expect(delivery.session).toBe(tls!.session);

  // Bob's Postfix logged the same session from its side.
  const [receiverTls, ...moreReceiverTls] = receiverTlsLines(world, receiverFrom);
  expect(moreReceiverTls).toHaveLength(0);
  expect(tls).toMatchObject({ version: receiverTls!.version, cipher: receiverTls!.cipher });

  const copies = await bobsCopies(world, sent, delivery, receiverFrom);
  expect(copies).toHaveLength(1);
  const received = findSmtpReceived(headerValues(copies[0]!.source, "Received"), BOB.smtpHost);
  expect(received?.with).toBe("ESMTPS");
  expect(witnessDisagreements(tls as { version: string; cipher: string }, received!)).toEqual([]);
  // The queue id Bob's Postfix answered is the one in his Received header.
  expect(delivery.stat).toMatch(/^250 2\.0\.0 Ok: queued as \w+$/);
  expect(delivery.stat.endsWith(` ${received!.id}`)).toBe(true);
  expect(await opensmtpd.queue()).toEqual([]);
});

test("verify: delivered, the certificate checked valid against the harness CA and the MX name (tls verifies by default)", async ({ world, opensmtpd }) => {
  const settings = await opensmtpd.applyLevel("verify");
  expect(settings.action).toMatch(/ relay .* tls$/);
  const { sent, delivery, session, receiverFrom } = await sendOne(world, opensmtpd, "verify");
  expect(delivery.result).toBe("Ok");
  expect(session.find((event) => event.kind === "connecting")).toMatchObject({ tls: "required" });
  expect(session.find((event) => event.kind === "certCheck")).toMatchObject({ result: "valid" });
  expect(await bobsCopies(world, sent, delivery, receiverFrom)).toHaveLength(1);
});

test("the founding story with an OpenSMTPD sender: encrypt against a receiver without STARTTLS is deferred and kept; STARTTLS back and a retry deliver it once, over TLS", async ({
  world,
  opensmtpd,
}) => {
  const settings = await opensmtpd.applyLevel("encrypt");
  expect(settings.relayOptions).toEqual(["tls", "no-verify"]);
  expect(settings.action).toMatch(/ relay .* tls no-verify$/);
  await world.postfix("receiver", "this test").applySettings({ smtpd_tls_security_level: "none" });
  try {
    const { sent, delivery, session } = await sendOne(world, opensmtpd, "encrypt, receiver without STARTTLS");
    expect(delivery.result).toBe("TempFail");
    expect(session.find((event) => event.kind === "connecting")).toMatchObject({ tls: "required" });
    expect(session.some((event) => event.kind === "tls")).toBe(false);
    // OpenSMTPD's own words are on the session's error line; the queue keeps the delivery line's summary.
    expect(session.find((event) => event.kind === "sessionError")).toMatchObject({ reason: "TLS required but not supported by remote host" });
    const queued = await opensmtpd.queue();
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ messageId: sent.queueId, agent: "mta", recipient: BOB.mailbox, runState: "pending", error: delivery.stat });
    expect(await countInInbox(world.receiver, world.caCertPem, { name: "Message-ID", value: sent.messageId }, BOB)).toBe(0);

    await world.postfix("receiver", "this test").applySettings({ smtpd_tls_security_level: "may" });
    const [again, receiverFrom] = [opensmtpd.log.cursor, world.receiver.log.cursor];
    await opensmtpd.retry(sent.queueId);
    const retried = await nextTry(opensmtpd, sent.queueId, again);
    expect(retried.delivery.result).toBe("Ok");
    expect(retried.session.some((event) => event.kind === "tls")).toBe(true);
    const copies = await bobsCopies(world, sent, retried.delivery, receiverFrom);
    expect(copies).toHaveLength(1);
    expect(findSmtpReceived(headerValues(copies[0]!.source, "Received"), BOB.smtpHost)?.with).toBe("ESMTPS");
    expect(await opensmtpd.queue()).toEqual([]);
  } finally {
    await world.postfix("receiver", "this test").applySettings({ smtpd_tls_security_level: "may" });
  }
});

test("a certificate for another name: verify defers it, encrypt and may deliver it unverified", async ({ world, opensmtpd }) => {
  await world.receiver.presentCertificate("wrong-name", "rsa");
  try {
    await opensmtpd.applyLevel("verify");
    const refused = await sendOne(world, opensmtpd, "verify, wrong-name certificate");
    expect(refused.delivery.result).toBe("TempFail");
    expect(refused.session.some((event) => event.kind === "tls")).toBe(false);
    const error = refused.session.find((event) => event.kind === "sessionError");
    expect(error?.kind === "sessionError" && error.reason).toContain(`name \`${BOB.smtpHost}' not present in server certificate`);
    expect((await opensmtpd.queue()).map((envelope) => envelope.messageId)).toEqual([refused.sent.queueId]);
    await opensmtpd.emptyQueue();

    for (const level of ["encrypt", "may"] as const) {
      await opensmtpd.applyLevel(level);
      const { sent, delivery, session, receiverFrom } = await sendOne(world, opensmtpd, `${level}, wrong-name certificate`);
      expect(delivery.result, level).toBe("Ok");
      expect(session.find((event) => event.kind === "certCheck"), level).toMatchObject({ result: "unverified" });
      expect(await bobsCopies(world, sent, delivery, receiverFrom), level).toHaveLength(1);
    }
  } finally {
    await opensmtpd.emptyQueue();
    await world.receiver.presentCertificate("valid", "rsa");
  }
});

const PLAINTEXT_FALLBACKS = [
  {
    receiver: "whose TLS handshake fails",
    // STARTTLS on offer, but no protocol version OpenSMTPD's client accepts (TLSv1.2 and up).
    settings: { smtpd_tls_protocols: "<=TLSv1.1" },
    // TLS first, then plaintext on the same session.
    connections: ["opportunistic", "none"],
    downgraded: true,
  },
  { receiver: "without STARTTLS", settings: { smtpd_tls_security_level: "none" }, connections: ["opportunistic"], downgraded: false },
] as const;

test.for(PLAINTEXT_FALLBACKS)("may against a receiver $receiver: delivered in plaintext", async (fallback, { world, opensmtpd }) => {
  await opensmtpd.applyLevel("may");
  await world.postfix("receiver", "this test").applySettings(fallback.settings);
  try {
    const { sent, delivery, session, receiverFrom } = await sendOne(world, opensmtpd, `may, receiver ${fallback.receiver}`);
    expect(delivery.result).toBe("Ok");
    expect(session.flatMap((event) => (event.kind === "connecting" ? [event.tls] : []))).toEqual(fallback.connections);
    expect(session.some((event) => event.kind === "tlsDowngrade")).toBe(fallback.downgraded);
    expect(session.some((event) => event.kind === "tls")).toBe(false);
    const copies = await bobsCopies(world, sent, delivery, receiverFrom);
    expect(copies).toHaveLength(1);
    expect(findSmtpReceived(headerValues(copies[0]!.source, "Received"), BOB.smtpHost)?.with).toBe("ESMTP");
  } finally {
    await world.postfix("receiver", "this test").applySettings({});
  }
});

test("a recipient Bob's provider does not know: PermFail with its reply, and the bounce goes to Alice's mailbox through OpenSMTPD", async ({ world, opensmtpd }) => {
  await opensmtpd.applyLevel("may");
  const unknown = `nobody@${BOB.domain}`;
  const [from, receiverFrom] = [opensmtpd.log.cursor, world.receiver.log.cursor];
  const sent = await submitAsAlice(world, opensmtpd, "unknown recipient", unknown);
  const { delivery } = await nextTry(opensmtpd, sent.queueId, from);
  expect(delivery).toMatchObject({ result: "PermFail", to: unknown });
  // Bob's Postfix refused the recipient with the reply OpenSMTPD reports.
  const refusal = await world.receiver.log.waitFor((line) => line.includes(`<${unknown}>`) && /\breject: RCPT\b/.test(line), {
    from: receiverFrom,
    timeoutMs: DELIVERY_TIMEOUT_MS,
    what: `Bob's Postfix refusing ${unknown}`,
  });
  expect(refusal.line).toContain(delivery.stat.replace(/^(\d{3}) (\d\.\d\.\d) .*$/, "$1 $2"));
  // The bounce: from <> to Alice, delivered by OpenSMTPD's mailbox action over LMTP to Dovecot.
  const bounce = await opensmtpd.log.waitFor((line) => / mda delivery .* from=<> to=<alice@infomaniak\.test> .* result=Ok /.test(line), {
    from,
    timeoutMs: DELIVERY_TIMEOUT_MS,
    what: "the bounce's local delivery",
  });
  expect(bounce.line).toContain("stat=Delivered");
  expect(await opensmtpd.queue()).toEqual([]);

  // The reader ties the report to the message and follows it to Alice's mailbox, over LMTP.
  const events = readEvents(OPENSMTPD_LOG_READER, opensmtpd.log.since(from).slice(0, bounce.index - from + 1));
  const report = relayTrail(events, sent.queueId, { recipient: unknown }).ndrQueueId;
  expect(report, "a nonDeliveryNotice for the refused message").toBeDefined();
  const reportDelivery = events.filter((event): event is DeliveryEvent => event.kind === "delivery" && event.queueId === report);
  expect(reportDelivery.map((event) => [event.service, event.to, event.status, event.line])).toEqual([["lmtp", opensmtpd.identity.mailbox, "sent", bounce.line]]);
  // In her inbox: smtpd wrote the report's message id in its Received header, and the report quotes the refused message's headers.
  const inbox = await findInInbox(opensmtpd, world.caCertPem, { name: "Received", value: `id ${report}` });
  expect(inbox).toHaveLength(1);
  expect(headerValues(inbox[0]!.source, "From")).toEqual([`Mailer Daemon <MAILER-DAEMON@${opensmtpd.identity.smtpHost}>`]);
  expect(inbox[0]!.source).toContain(`Message-ID: ${sent.messageId}`);
  expect(inbox[0]!.source).toContain(unknown);
});

test("levels OpenSMTPD cannot express are refused by name, and the relay in force stays", async ({ opensmtpd }) => {
  await opensmtpd.applyLevel("encrypt");
  const before = await opensmtpd.nativeSettings();
  for (const level of ["none", "secure", "dane", "dane-only"] as const) {
    const refusal = opensmtpd.applyLevel(level);
    await expect(refusal).rejects.toBeInstanceOf(UnsupportedLevelError);
    await expect(refusal).rejects.toThrow(`OpenSMTPD has no equivalent of the sender level "${level}"`);
  }
  expect(await opensmtpd.nativeSettings()).toEqual(before);
});

test("world.stop() removes the OpenSMTPD container with the world", async ({ world, opensmtpd }) => {
  const container = dockerClient().getContainer(opensmtpd.getId());
  expect((await container.inspect()).State.Running).toBe(true);
  await world.stop();
  await expect(container.inspect()).rejects.toThrow(/no such container/i);
});

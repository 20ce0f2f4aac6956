/**
 * Exim 4.98 (GnuTLS) as Alice's provider in the real world: the world's
 * Postfix receiver behind the wire, its DNS, and an Exim container joined
 * as the sender. Alice submits to Exim's port 465; every case is read from
 * evidence: Exim's own log and queue, Bob's Postfix log, Bob's mailbox.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { findInInbox, countInInbox } from "../../src/drive/mailbox.js";
import { headerValues } from "../../src/drive/headers.js";
import { parseEximLogLine, type EximDeferral, type EximDelivery } from "../../src/observe/eximLog.js";
import { parseLogLine, type DeliveryEvent, type NonDeliveryNoticeEvent, type SmtpdTlsEvent } from "../../src/observe/postfixLog.js";
import { findSmtpReceived, witnessDisagreements } from "../../src/observe/receivedHeader.js";
import { EXIM_LOG_READER } from "../../src/observe/eximReader.js";
import { readEvents } from "../../src/observe/logReader.js";
import { relayTrail } from "../../src/observe/relayTrail.js";
import { sameKeyExchange } from "../../src/observe/keyExchange.js";
import { EXIM_LEVELS, type StartedEximContainer } from "../../src/world/eximContainer.js";
import { dockerClient } from "../../src/world/docker.js";
import { PROVIDERS } from "../../src/world/providers.js";
import { MailWorld } from "../../src/world/world.js";
import { aliceSubmits, joinExim } from "./helpers/exim.js";
import { UnsupportedLevelError } from "../../src/scenario/levels.js";

const BOB = PROVIDERS.receiver;
const WAIT_MS = 60_000;

let world: MailWorld;
let exim: StartedEximContainer;

beforeAll(async () => {
  world = await MailWorld.start();
  exim = await joinExim(world, "sender");
});

afterAll(async () => {
  await world?.stop();
});

/** Alice hands a message for Bob to Exim; returns Exim's id and the Message-ID. */
async function aliceSends(subject: string): Promise<{ id: string; messageId: string }> {
  const { response, messageId } = await aliceSubmits(exim, world.caCertPem, [BOB.mailbox], subject);
  const id = /\bid=(\S+)/.exec(response)?.[1];
  if (!id) throw new Error(`Exim accepted the message but named no id: ${response}`);
  return { id, messageId };
}

/** Exim's next delivery or deferral line for this message, from the log cursor on. */
async function nextAttempt(id: string, from: number): Promise<EximDelivery | EximDeferral> {
  const { line } = await exim.log.waitFor(
    (candidate) => {
      const event = parseEximLogLine(candidate);
      return (event?.kind === "delivery" || event?.kind === "deferral") && event.messageId === id;
    },
    { from, timeoutMs: WAIT_MS, what: `a delivery or deferral of ${id}` },
  );
  return parseEximLogLine(line) as EximDelivery | EximDeferral;
}

/** Bob's Postfix: the TLS line of the smtpd session that queued this id, and the message's delivery into Dovecot. */
async function bobsPostfixReceived(queueId: string): Promise<{ tls: SmtpdTlsEvent | undefined; stored: DeliveryEvent }> {
  const log = world.receiver.log;
  const queuedBy = new RegExp(`postfix/smtpd\\[(\\d+)\\]: ${queueId}: client=`);
  const client = await log.waitFor((line) => queuedBy.test(line), { from: 0, timeoutMs: WAIT_MS, what: `Postfix's smtpd queueing ${queueId}` });
  const pid = Number(queuedBy.exec(client.line)![1]);
  const sessionTls = log
    .since(0)
    .slice(0, client.index)
    .map(parseLogLine)
    .filter((event): event is SmtpdTlsEvent => event?.kind === "smtpdTls" && event.pid === pid)
    .at(-1);
  const stored = await log.waitFor(
    (line) => {
      const event = parseLogLine(line);
      return event?.kind === "delivery" && event.queueId === queueId && event.status === "sent";
    },
    { from: 0, timeoutMs: WAIT_MS, what: `Postfix storing ${queueId} in Bob's mailbox` },
  );
  return { tls: sessionTls, stored: parseLogLine(stored.line) as DeliveryEvent };
}

/** GnuTLS names a suite key exchange first and bulk cipher last ("ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM"). */
function gnutlsSuite(cipher: string): { keyExchange: string; bulk: string } {
  const parts = cipher.split("__");
  return { keyExchange: parts[0]!, bulk: parts.at(-1)! };
}

describe("Exim as Alice's provider", () => {
  test("the level table is what Exim reads: nativeSettings() after applyLevel(may) is Exim's own -bP output", async () => {
    await exim.applyLevel("may");
    expect(await exim.nativeSettings()).toEqual(EXIM_LEVELS.may);
  });

  test("may: delivered over TLS; Exim's => line, Bob's Postfix log and Bob's Received header agree", async () => {
    await exim.applyLevel("may");
    const from = exim.log.cursor;
    const { id, messageId } = await aliceSends("exim may");
    const attempt = await nextAttempt(id, from);
    expect(attempt.kind).toBe("delivery");
    const delivery = attempt as EximDelivery;
    expect(delivery.address).toBe(BOB.mailbox);
    expect(delivery.host?.name).toBe(BOB.smtpHost);
    expect(delivery.tls?.version).toMatch(/^TLS1\.[23]$/);
    // tls_try_verify_hosts = *: the receiver's valid certificate verifies against the harness CA and its name.
    expect(delivery.tls?.certificateVerified).toBe("yes");
    expect(delivery.tls?.peerDn).toContain(`CN=${BOB.smtpHost}`);
    expect(delivery.confirmation).toMatch(/^250 /);
    const remoteQueueId = delivery.remoteQueueId!;
    expect(remoteQueueId).toBeDefined();

    // Witness 2: Bob's Postfix logged a TLS session for the smtpd that queued exactly that id.
    const bob = await bobsPostfixReceived(remoteQueueId);
    expect(bob.tls, "Bob's smtpd logged no TLS session for the connection that queued the message").toBeDefined();
    expect(bob.tls!.version).toBe(delivery.tls!.version.replace(/^TLS/, "TLSv"));
    const suite = gnutlsSuite(delivery.tls!.cipher);
    expect(bob.tls!.cipher).toContain(suite.bulk);
    // GnuTLS's key exchange group (ECDHE_X25519) is the one OpenSSL on the other side names (x25519 / X25519).
    const keyExchange = bob.tls!.keyExchange;
    expect(keyExchange, "Bob's Postfix named no key exchange").toBeDefined();
    expect(suite.keyExchange.toLowerCase()).toContain(keyExchange!.toLowerCase());

    // Witness 3: the Received header Bob's Postfix wrote into the stored message.
    const [stored] = await findInInbox(world.receiver, world.caCertPem, { name: "Message-ID", value: messageId });
    expect(stored, "Bob's mailbox holds no message with that Message-ID").toBeDefined();
    const received = findSmtpReceived(headerValues(stored!.source, "Received"), BOB.smtpHost);
    expect(received?.with).toBe("ESMTPS");
    expect(received?.id).toBe(remoteQueueId);
    expect(received?.from).toBe(exim.identity.smtpHost);
    expect(received?.tls?.version).toBe(bob.tls!.version);

    // Exim's log read in the common vocabulary: the status line, its TLS session, and the same suite as Bob's header in OpenSSL's words.
    const trail = relayTrail(readEvents(EXIM_LOG_READER, exim.log.since(from)), id, { recipient: BOB.mailbox });
    expect(trail.final).toMatchObject({ status: "sent", service: "smtp", remoteQueueId });
    expect(trail.messageId).toBe(messageId.slice(1, -1));
    expect(trail.tls?.trust).toBe("verified");
    expect(sameKeyExchange(trail.tls!.keyExchange!, keyExchange!)).toBe(true);
    expect(witnessDisagreements(trail.tls, received!)).toEqual([]);
  });

  test("encrypt against a receiver without STARTTLS: deferred with Exim's words, held in exim -bp; STARTTLS back + retry → delivered over TLS exactly once", async () => {
    await world.postfix("receiver", "this test").applySettings({ smtpd_tls_security_level: "none" });
    await exim.applyLevel("encrypt");
    const from = exim.log.cursor;
    const { id, messageId } = await aliceSends("exim encrypt");
    const deferred = await nextAttempt(id, from);
    expect(deferred.kind).toBe("deferral");
    expect((deferred as EximDeferral).error).toContain("a TLS session is required, but the server did not offer TLS support");
    const held = (await exim.queue()).find((message) => message.id === id);
    expect(held).toMatchObject({ sender: exim.identity.mailbox, recipients: [BOB.mailbox], frozen: false });

    await world.postfix("receiver", "this test").applySettings({ smtpd_tls_security_level: "may" });
    const retried = exim.log.cursor;
    await exim.retry(id);
    const delivered = await nextAttempt(id, retried);
    expect(delivered.kind).toBe("delivery");
    expect((delivered as EximDelivery).tls?.version).toMatch(/^TLS1\.[23]$/);
    await bobsPostfixReceived((delivered as EximDelivery).remoteQueueId!);
    expect((await exim.queue()).map((message) => message.id)).not.toContain(id);
    await expect(exim.retry(id), "a delivered message is not retried a second time").rejects.toThrow(/no message .* in the queue/);
    expect(await countInInbox(world.receiver, world.caCertPem, { name: "Message-ID", value: messageId }, BOB)).toBe(1);
  });

  test("verify: delivered to the valid certificate, deferred with Exim's verification error against the wrong-name one", async () => {
    await world.postfix("receiver", "this test").applySettings({ smtpd_tls_security_level: "may" });
    await exim.applyLevel("verify");
    expect(await exim.nativeSettings()).toEqual(EXIM_LEVELS.verify);
    // The control: the same level against the receiver's valid certificate delivers.
    const controlFrom = exim.log.cursor;
    const control = await aliceSends("exim verify, valid certificate");
    const controlAttempt = await nextAttempt(control.id, controlFrom);
    expect(controlAttempt.kind).toBe("delivery");
    expect((controlAttempt as EximDelivery).tls?.certificateVerified).toBe("yes");

    await world.receiver.presentCertificate("wrong-name", "rsa");
    try {
      const from = exim.log.cursor;
      const { id } = await aliceSends("exim verify, wrong-name certificate");
      const attempt = await nextAttempt(id, from);
      expect(attempt.kind).toBe("deferral");
      const deferral = attempt as EximDeferral;
      expect(deferral.host?.name).toBe(BOB.smtpHost);
      expect(deferral.error).toContain("certificate verification failed");
      expect((await exim.queue()).find((message) => message.id === id)?.recipients).toEqual([BOB.mailbox]);
      await exim.removeMessage(id);
    } finally {
      await world.receiver.presentCertificate("valid", "rsa");
    }
  });

  test("a bounce to Alice through Exim's reader: the refused recipient, the notice naming Exim's bounce, and that bounce's Message-ID (from Dovecot's line) in Alice's inbox", async () => {
    await exim.applyLevel("may");
    const outside = "nobody@elsewhere.test";
    const from = exim.log.cursor;
    const { response, messageId } = await aliceSubmits(exim, world.caCertPem, [outside], "exim bounce");
    const id = EXIM_LOG_READER.replyQueueId(response);
    expect(id, `no id in Exim's reply ${response}`).toBeDefined();
    const noticeIn = (line: string) => EXIM_LOG_READER.events(line).find((event): event is NonDeliveryNoticeEvent => event.kind === "nonDeliveryNotice" && event.queueId === id);
    const { line } = await exim.log.waitFor((candidate) => noticeIn(candidate) !== undefined, { from, timeoutMs: WAIT_MS, what: `Exim's bounce of ${id}` });
    const { ndrQueueId } = noticeIn(line)!;
    await exim.log.waitFor((candidate) => EXIM_LOG_READER.leftQueue(candidate) === ndrQueueId, { from, timeoutMs: WAIT_MS, what: `the bounce ${ndrQueueId} stored and completed` });

    const events = readEvents(EXIM_LOG_READER, exim.log.since(from));
    const bounced = relayTrail(events, id!, { recipient: outside });
    expect(bounced.final).toMatchObject({ status: "bounced", service: "error", detail: "starttls-lab: only the test world's domains are reachable" });
    expect(bounced.ndrQueueId).toBe(ndrQueueId);
    const stored = events.find((event) => event.kind === "delivery" && event.queueId === ndrQueueId);
    expect(stored).toMatchObject({ service: "lmtp", status: "sent", to: exim.identity.mailbox });
    const ndrMessageId = relayTrail(events, ndrQueueId).messageId;
    expect(ndrMessageId, "no Message-ID for Exim's bounce").toBeDefined();
    const reports = await findInInbox(exim, world.caCertPem, { name: "Message-ID", value: `<${ndrMessageId}>` });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.source).toContain(messageId);
  });

  test("a level Exim cannot express is refused with the reason, and the level in force stays", async () => {
    await exim.applyLevel("encrypt");
    await expect(exim.applyLevel("secure")).rejects.toThrow(UnsupportedLevelError);
    await expect(exim.applyLevel("secure")).rejects.toThrow(/Exim has no equivalent of the sender level "secure": .*next-hop domain/);
    await expect(exim.applyLevel("fingerprint")).rejects.toThrow(/fingerprint/);
    expect(exim.appliedLevel).toBe("encrypt");
    expect(await exim.nativeSettings()).toEqual(EXIM_LEVELS.encrypt);
  });

  test("options Exim refuses to parse: the error carries Exim's own words, and the file in force is put back", async () => {
    await exim.applyLevel("encrypt");
    // A value that smuggles in a line Exim does not know: exim -bV must refuse the whole configuration.
    await expect(exim.applyLevel("may", { hosts_require_tls: "*\nno_such_option = 1" })).rejects.toThrow(/lab-exim-apply: Exim refuses smtp-client\.conf:[\s\S]*no_such_option/);
    expect(exim.appliedLevel).toBe("encrypt");
    expect((await exim.run(["exim", "-bV"])).exitCode).toBe(0);
    expect(await exim.nativeSettings()).toEqual(EXIM_LEVELS.encrypt);
  });

  test("world.stop() removes the Exim container with the world", async () => {
    const id = exim.getId();
    await world.stop();
    const gone = await dockerClient()
      .getContainer(id)
      .inspect()
      .then(() => false, (error: { statusCode?: number }) => error.statusCode === 404);
    expect(gone).toBe(true);
  });
});

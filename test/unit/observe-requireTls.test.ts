/**
 * REQUIRETLS as Postfix 3.11 logs it. The lines are real: captured from the
 * forky image (Postfix 3.11.7) in a world on 2026-12-01, sender at dane (or
 * may), Alice's client submitting with REQUIRETLS, the receiver with and
 * without requiretls_enable, the sender's smtp_requiretls_policy enforce and
 * opportunistic, MTA-STS instead of DANE, and the wire stripping STARTTLS:
 * test/fixtures/logs/requiretls-postfix-3.11-{sender,receiver}.log.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseLog, parseLogLine, parseTlsFeatureStatus, type DeliveryEvent } from "../../src/observe/postfixLog.js";
import { relayTrail } from "../../src/observe/relayTrail.js";
import { requireTlsObservation } from "../../src/observe/requireTls.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/logs/${name}`, import.meta.url), "utf8");
const deliveries = (name: string) => parseLog(fixture(name)).filter((event): event is DeliveryEvent => event.kind === "delivery");
const sent = deliveries("requiretls-postfix-3.11-sender.log");
const stored = deliveries("requiretls-postfix-3.11-receiver.log");
const relayed = sent.filter((event) => event.service === "smtp");
const statusOf = (queueId: string, among: readonly DeliveryEvent[] = sent) => {
  const found = among.find((event) => event.queueId === queueId);
  if (!found) throw new Error(`no status line for ${queueId} in the fixture`);
  return found;
};

describe("the tls= field of Postfix 3.11's status lines", () => {
  it("is read from every status line, smtp and lmtp, as logged", () => {
    expect(relayed.map((event) => [event.queueId, event.status, event.tlsFeatures])).toEqual([
      ["CE99D1BE093", "sent", "dane/requiretls"],
      ["C62B51BE226", "bounced", "dane/!requiretls:none"],
      ["50C031BE009", "sent", "dane/requiretls:none"],
      // Alice's client sent no REQUIRETLS, only a "Require-TLS-ESMTP: yes" header: Postfix's cleanup takes the header as the request.
      ["F1E0B1BE168", "sent", "dane/requiretls"],
      ["2C7AE1BE1CE", "bounced", "may?/!requiretls:nocertmatch"],
      ["27DB01BE21C", "bounced", "may?/!requiretls:nocertmatch"],
      ["59DC01BE22D", "sent", "dane/requiretls"],
      ["78C4A1C4A98", "bounced", "!dane/!requiretls:nostarttls"],
      // A may sender whose MTA-STS policy (enforce) raised the level for iroco.test.
      ["E10AF1C6D0F", "sent", "secure/requiretls"],
    ]);
    // The bounce reports go to Alice's mailbox without REQUIRETLS (requiretls_redact_dsn = yes).
    expect(sent.filter((event) => event.service === "lmtp").map((event) => event.tlsFeatures)).toEqual(["none", "none", "none"]);
    expect(stored.map((event) => event.tlsFeatures)).toEqual(["none/requiretls:none", "none", "none/requiretls:none", "none/requiretls:none", "none/requiretls:none"]);
  });

  it("is absent before Postfix 3.11", () => {
    const before = deliveries("sender-sample.log");
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((event) => event.tlsFeatures !== undefined)).toEqual([]);
  });

  it.each([
    ["dane/requiretls", { level: { name: "dane", violated: false, undecided: false }, features: [{ name: "requiretls", violated: false, undecided: false }] }],
    [
      "may?/!requiretls:nocertmatch",
      { level: { name: "may", violated: false, undecided: true }, features: [{ name: "requiretls", violated: true, downgradedTo: "nocertmatch", undecided: false }] },
    ],
    [
      "!dane/!requiretls:nostarttls",
      { level: { name: "dane", violated: true, undecided: false }, features: [{ name: "requiretls", violated: true, downgradedTo: "nostarttls", undecided: false }] },
    ],
    // From postconf(5), smtp_log_tls_feature_status: opportunistic DANE downgraded, and an undecided REQUIRETLS.
    ["dane:encrypt/requiretls?", { level: { name: "dane", violated: false, downgradedTo: "encrypt", undecided: false }, features: [{ name: "requiretls", violated: false, undecided: true }] }],
    ["none", { level: { name: "none", violated: false, undecided: false }, features: [] }],
  ])("reads %s in Postfix's notation", (field, read) => {
    expect(parseTlsFeatureStatus(field)).toEqual(read);
  });

  it("refuses what is not in that notation", () => {
    expect(parseTlsFeatureStatus("dane//requiretls")).toBeUndefined();
    expect(parseTlsFeatureStatus("DANE")).toBeUndefined();
  });
});

describe("an opportunistic REQUIRETLS policy's note is not an abandoned session", () => {
  const note = fixture("requiretls-postfix-3.11-sender.log")
    .split("\n")
    .find((line) => line.includes("Sender requested REQUIRETLS, but REQUIRETLS support was not offered"));

  it("parses to nothing", () => {
    expect(note).toBeDefined();
    expect(parseLogLine(note!)).toBeNull();
  });

  it("so the TLS session it went on over is still the delivery's", () => {
    const trail = relayTrail(parseLog(fixture("requiretls-postfix-3.11-sender.log")), "50C031BE009");
    expect(trail.final?.status).toBe("sent");
    expect(trail.abandoned).toEqual([]);
    expect(trail.tls).toMatchObject({ trust: "verified", version: "TLSv1.3" });
  });
});

describe("requireTlsObservation: what the sender's tls= field says about REQUIRETLS", () => {
  it.each([
    ["CE99D1BE093", { requested: true, receiverAnnounced: true, policyViolated: false, tlsField: "dane/requiretls" }],
    ["E10AF1C6D0F", { requested: true, receiverAnnounced: true, policyViolated: false, tlsField: "secure/requiretls" }],
    // Enforced: TLS verified, the receiver's EHLO after STARTTLS had no REQUIRETLS, so it was not used.
    ["C62B51BE226", { requested: true, receiverAnnounced: false, policyViolated: true, tlsField: "dane/!requiretls:none" }],
    // Opportunistic: the same receiver, used without REQUIRETLS.
    ["50C031BE009", { requested: true, receiverAnnounced: false, policyViolated: false, tlsField: "dane/requiretls:none" }],
    // No connection was made: nothing is known of the receiver's EHLO.
    ["2C7AE1BE1CE", { requested: true, policyViolated: true, tlsField: "may?/!requiretls:nocertmatch" }],
    ["78C4A1C4A98", { requested: true, policyViolated: true, tlsField: "!dane/!requiretls:nostarttls" }],
  ])("%s", (queueId, observation) => {
    expect(requireTlsObservation(statusOf(queueId))).toEqual(observation);
  });

  it("a message without REQUIRETLS: requested false, and nothing about the receiver", () => {
    const line = "Dec 01 18:00:00 smtp postfix/smtp[300]: 0A1B2C3D4E5: to=<bob@iroco.test>, relay=mx.iroco.test[172.18.0.5]:25, delay=0.2, delays=0.02/0.03/0.1/0.05, tls=dane, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1B2C3D4E5F6)";
    const event = parseLogLine(line) as DeliveryEvent;
    expect(requireTlsObservation(event)).toEqual({ requested: false, tlsField: "dane" });
  });

  it("keptByReceiver: the storing provider's own status line names requiretls", () => {
    expect(requireTlsObservation(statusOf("CE99D1BE093"), statusOf("0FDC41BE19C", stored))).toMatchObject({ keptByReceiver: true });
    // A receiver with requiretls_enable = no (the opportunistic delivery above) keeps nothing.
    expect(requireTlsObservation(statusOf("50C031BE009"), statusOf("816EB1BE026", stored))).toMatchObject({ keptByReceiver: false });
  });

  it("nothing to say before Postfix 3.11: no tls= field", () => {
    const [before] = deliveries("sender-sample.log");
    expect(requireTlsObservation(before!)).toBeUndefined();
  });
});

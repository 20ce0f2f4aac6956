import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseOpensmtpdLine, parseOpensmtpdLog, sessionEvents, type OpensmtpdEvent } from "../../src/observe/opensmtpdLog.js";

// The whole log of the OpenSMTPD 7.6.0 container through test/e2e/opensmtpd-sender.test.ts (Dovecot's lines
// included): may, verify, encrypt against a receiver without STARTTLS then a retry, verify/encrypt/may against
// a wrong-name certificate, may against a failing handshake and against no STARTTLS, an unknown recipient.
const log = readFileSync(new URL("../fixtures/logs/opensmtpd-7.6-sender.log", import.meta.url), "utf8");
const lines = log.split("\n").filter((line) => line !== "");
const events = parseOpensmtpdLog(log);

function lineWith(...parts: string[]): string {
  const found = lines.filter((line) => parts.every((part) => line.includes(part)));
  if (found.length !== 1) throw new Error(`${found.length} fixture lines contain ${parts.join(" and ")}`);
  return found[0]!;
}

function ofKind<K extends OpensmtpdEvent["kind"]>(kind: K): Array<Extract<OpensmtpdEvent, { kind: K }>> {
  return events.filter((event): event is Extract<OpensmtpdEvent, { kind: K }> => event.kind === kind);
}

describe("parseOpensmtpdLog on a captured log", () => {
  it("finds every line of each kind it knows, and nothing in Dovecot's or the supervisor's lines", () => {
    const count = (pattern: RegExp) => lines.filter((line) => pattern.test(line)).length;
    expect(ofKind("starting")).toHaveLength(count(/^info: OpenSMTPD .* starting$/));
    expect(ofKind("connecting")).toHaveLength(count(/ mta connecting /));
    expect(ofKind("tls")).toHaveLength(count(/ (mta|smtp) tls ciphers=/));
    expect(ofKind("certCheck")).toHaveLength(count(/ mta cert-check /));
    expect(ofKind("sessionError")).toHaveLength(count(/ mta error reason=/));
    expect(ofKind("delivery")).toHaveLength(count(/ mta delivery /));
    expect(ofKind("tlsDowngrade")).toHaveLength(count(/downgrading to plain$/));
    expect(ofKind("routeDisabled")).toHaveLength(count(/Disabling route/));
    for (const line of lines.filter((line) => /^Dec |^starttls-lab:|^Exiting$|^configuration OK$/.test(line))) {
      expect(parseOpensmtpdLine(line), line).toBeNull();
    }
  });

  it("reads the version smtpd starts with", () => {
    expect(ofKind("starting")[0]?.version).toBe("7.6.0-portable");
  });

  it("reads each connection's TLS intent from its scheme", () => {
    const schemes = ofKind("connecting").map((event) => event.line.match(/address=([a-z+]+):\/\//)![1]);
    expect(ofKind("connecting").map((event) => event.tls)).toEqual(
      schemes.map((scheme) => ({ smtp: "opportunistic", "smtp+tls": "required", "smtp+notls": "none" })[scheme as "smtp"]),
    );
    const [first] = ofKind("connecting");
    expect(first!.line).toContain(`address=smtp://${first!.address}:${first!.port} host=${first!.host}`);
    expect(first!.port).toBe(25);
  });

  it("splits the TLS line into version, cipher and bits, on both sides", () => {
    const outgoing = ofKind("tls").filter((event) => event.side === "mta");
    const incoming = ofKind("tls").filter((event) => event.side === "smtp");
    expect(outgoing.length).toBeGreaterThan(0);
    expect(incoming.length).toBeGreaterThan(0);
    for (const event of ofKind("tls")) {
      expect(event.line.endsWith(` tls ciphers=${event.version}:${event.cipher}:${event.bits}`)).toBe(true);
      expect(event.version).toMatch(/^TLSv1\.[23]$/);
      expect(event.bits).toBeGreaterThanOrEqual(128);
    }
  });

  it("reads the certificate check: valid only at verify, unverified otherwise", () => {
    const results = ofKind("certCheck").map((event) => event.result);
    expect(results).toContain("valid");
    expect(results).toContain("unverified");
    for (const event of ofKind("certCheck")) expect(event.fingerprint).toMatch(/^SHA256:[0-9a-f]{64}$/);
    // The one verified session connected with TLS required.
    const verified = ofKind("certCheck").filter((event) => event.result === "valid");
    expect(verified).toHaveLength(1);
    expect(sessionEvents(events, verified[0]!.session).find((event) => event.kind === "connecting")).toMatchObject({ tls: "required" });
  });

  it("keeps OpenSMTPD's own words for a failed session", () => {
    expect(ofKind("sessionError").map((event) => event.reason)).toEqual([
      lineWith("mta error reason=TLS required").split("reason=")[1],
      lineWith("mta error reason=IO Error").split("reason=")[1],
    ]);
  });

  it("reads a delivered try with the receiver's reply, and a deferred one logged outside any session", () => {
    const delivered = parseOpensmtpdLine(lineWith("mta delivery", "result=\"Ok\"", "queued as D73B71EC5A1"));
    expect(delivered).toMatchObject({
      kind: "delivery",
      session: "216050dd0dbb54d5",
      envelopeId: "5448457920aa4b26",
      messageId: "54484579",
      from: "alice@infomaniak.test",
      to: "bob@iroco.test",
      source: "192.168.192.6",
      relay: "192.168.192.5 (192.168.192.5)",
      delay: "0s",
      result: "Ok",
      stat: "250 2.0.0 Ok: queued as D73B71EC5A1",
    });
    // rcpt=<-> and source="-" are OpenSMTPD's "none".
    expect(delivered).not.toHaveProperty("rcpt");
    const deferred = parseOpensmtpdLine(lineWith("mta delivery", "evpid=c538bed67025fc4e", "TempFail"));
    expect(deferred).toMatchObject({ session: "0000000000000000", relay: "iroco.test", delay: "11s", result: "TempFail", stat: "Network error on destination MXs" });
    expect(deferred).not.toHaveProperty("source");
  });

  it("reads a refused recipient with the receiver's reply whole", () => {
    expect(parseOpensmtpdLine(lineWith("mta delivery", "PermFail"))).toMatchObject({
      to: "nobody@iroco.test",
      result: "PermFail",
      stat: "550 5.1.1 <nobody@iroco.test>: Recipient address rejected: User unknown in virtual mailbox table",
    });
  });

  it("ties the downgrade to its session: TLS tried, then the same session connects in plaintext and delivers", () => {
    const [downgrade] = ofKind("tlsDowngrade");
    const session = sessionEvents(events, downgrade!.session);
    expect(session.map((event) => (event.kind === "connecting" ? `connecting ${event.tls}` : event.kind))).toEqual([
      "connecting opportunistic",
      "tlsDowngrade",
      "connecting none",
      "delivery",
    ]);
  });

  it("reads how long a route stays disabled", () => {
    expect(ofKind("routeDisabled")[0]).toMatchObject({ route: "[] <-> 192.168.192.5 (192.168.192.5)", for: "15s" });
  });

  it("does not take a line that only looks alike", () => {
    expect(parseOpensmtpdLine(lineWith("mta connecting", "smtp+notls").replace("smtp+notls", "smtp+quic"))).toBeNull();
    expect(parseOpensmtpdLine(lineWith("mta delivery", "evpid=c538bed67025fc4e", "TempFail").replace('result="TempFail"', 'result="Maybe"'))).toBeNull();
  });
});

describe("parseOpensmtpdLog on a captured log with smtpd -v -T bounce", () => {
  const verboseLines = readFileSync(new URL("../fixtures/logs/opensmtpd-7.6-sender-verbose.log", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "");
  const verboseWith = (...parts: string[]) => {
    const found = verboseLines.filter((line) => parts.every((part) => line.includes(part)));
    if (found.length !== 1) throw new Error(`${found.length} fixture lines contain ${parts.join(" and ")}`);
    return found[0]!;
  };

  it("reads only the bounce session's message and accepted reply out of the debug and trace lines", () => {
    const read = verboseLines.filter((line) => /^(debug: |bounce: )/.test(line)).flatMap((line) => parseOpensmtpdLine(line) ?? []);
    expect(read.map((event) => event.kind)).toEqual(["bounceMessage", "bounceAccepted"]);
  });

  it("ties a bounce's message to the report it submitted through the bounce session", () => {
    const found = parseOpensmtpdLine(verboseWith("found message"));
    const accepted = parseOpensmtpdLine(verboseWith("bounce: 0x", "Message accepted"));
    const refused = parseOpensmtpdLine(verboseWith("mta delivery", "PermFail"));
    const report = parseOpensmtpdLine(verboseWith("smtp envelope", "from=<>"));
    expect(found).toMatchObject({ kind: "bounceMessage", messageId: refused?.kind === "delivery" && refused.messageId });
    expect(accepted).toMatchObject({ kind: "bounceAccepted", bounceSession: found?.kind === "bounceMessage" && found.bounceSession });
    // The smtp side's own line names the report's envelope: the accepted id is its message.
    expect(report).toBeNull();
    expect(verboseWith("smtp envelope", "from=<>")).toContain(`evpid=${accepted?.kind === "bounceAccepted" && accepted.messageId}`);
  });

  it("reads a local delivery, with the rcpt field OpenSMTPD adds", () => {
    const line = verboseWith("mda delivery");
    expect(parseOpensmtpdLine(line)).toMatchObject({
      kind: "localDelivery",
      session: line.slice(0, 16),
      envelopeId: /evpid=(\w+)/.exec(line)![1],
      messageId: /evpid=(\w{8})/.exec(line)![1],
      from: "",
      to: "alice@infomaniak.test",
      rcpt: "alice@infomaniak.test",
      user: "postfix",
      result: "Ok",
      stat: "Delivered",
    });
    expect(parseOpensmtpdLine(line.replace(" rcpt=<alice@infomaniak.test>", ""))).not.toHaveProperty("rcpt");
    expect(parseOpensmtpdLine(line.replace("result=Ok", "result=Maybe"))).toBeNull();
  });

  it("reads an administrator's removal of an envelope", () => {
    const line = verboseWith("Remove for");
    const envelopeId = /Remove for (\w+):/.exec(line)![1]!;
    expect(parseOpensmtpdLine(line)).toMatchObject({ kind: "removed", envelopeId, messageId: envelopeId.slice(0, 8) });
  });
});

/**
 * Who stopped a submission, on nodemailer's errors as it raised them against
 * real Postfix and real loopback sockets (captured by
 * test/e2e/submission-failures.test.ts into test/fixtures/submission).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classifySubmissionFailure, SubmissionError } from "../../src/drive/alice.js";

const captured = JSON.parse(readFileSync(new URL("../fixtures/submission/errors.json", import.meta.url), "utf8")) as Record<string, Record<string, unknown>>;

/** The error as nodemailer hands it over: an Error with its fields set on it. */
function nodemailerError(name: string): Error {
  const fields = captured[name];
  if (!fields) throw new Error(`no captured error named "${name}"`);
  const { message, ...rest } = fields;
  return Object.assign(new Error(String(message)), rest);
}

const classify = (name: string) => classifySubmissionFailure(nodemailerError(name), "the sender's port 465");

describe("classifySubmissionFailure: the server's word on the message is a refusal", () => {
  it.each([
    ["relay refused at RCPT (5xx)", "554 5.7.1 <bob@iroco.test>: Relay access denied", 554],
    ["465 without AUTH, refused at RCPT (5xx)", "554 5.7.1 <bob@iroco.test>: Recipient address rejected: Access denied", 554],
    // Refused for now, and said so: still the server's word on this message.
    ["relay deferred at RCPT (4xx)", "454 4.7.1 <bob@iroco.test>: Relay access denied", 454],
  ])("%s", (name, response, responseCode) => {
    expect(classify(name)).toEqual({ accepted: false, response, responseCode, command: "RCPT TO" });
  });

  it("Alice's client refusing the certificate it was shown, by the TLS library's code rather than the message's wording", () => {
    expect(classify("expired certificate on 465")).toEqual({
      accepted: false,
      response: "Alice's client refused the server's certificate: certificate has expired (CERT_HAS_EXPIRED)",
      command: "TLS handshake",
    });
  });
});

describe("classifySubmissionFailure: the harness's own failures are errors", () => {
  it.each([
    ["wrong password on 465", /at AUTH PLAIN\): Invalid login: 535 5\.7\.8 .*\[EAUTH\]$/],
    ["TLS handshake to the plain SMTP port", /at CONN\): .*wrong version number.*\[ESOCKET\/ERR_SSL_WRONG_VERSION_NUMBER\]$/s],
    ["connection refused", /at CONN\): connect ECONNREFUSED 127\.0\.0\.1:\d+ \[ESOCKET\/ECONNREFUSED\]$/],
    ["no greeting before the timeout", /at CONN\): Greeting never received \[ETIMEDOUT\]$/],
  ])("%s", (name, text) => {
    const failure = classify(name);
    expect(failure).toBeInstanceOf(SubmissionError);
    expect((failure as SubmissionError).message).toMatch(/^Alice's client could not submit to the sender's port 465 \(/);
    expect((failure as SubmissionError).message).toMatch(text);
  });

  it("keeps nodemailer's error as the cause", () => {
    const error = nodemailerError("connection refused");
    expect((classifySubmissionFailure(error, "the sender's port 465") as SubmissionError).cause).toBe(error);
  });

  it("a thrown non-Error is a harness failure too", () => {
    expect(classifySubmissionFailure("boom", "the sender's port 465")).toBeInstanceOf(SubmissionError);
  });
});

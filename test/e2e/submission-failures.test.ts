/**
 * Who stopped a submission, on nodemailer's real errors against real Postfix:
 * the server refusing the message is the "rejected" outcome, Alice's client
 * refusing the certificate too, and every other failure is the harness's own.
 *
 * With WRITE_SUBMISSION_FIXTURES=1 the errors are also written to
 * test/fixtures/submission/errors.json, which the unit test
 * (test/unit/drive-alice.test.ts) classifies without Docker.
 */
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";
import { afterAll, expect } from "vitest";
import { classifySubmissionFailure, SubmissionError, submissionTransportOptions } from "../../src/drive/alice.js";
import type { Submission } from "../../src/scenario/types.js";
import { pooledWorldTest as test } from "./helpers/worldPool.js";

const FIXTURES = path.join("test", "fixtures", "submission", "errors.json");
const captured: Record<string, Record<string, unknown>> = {};

afterAll(() => {
  if (process.env.WRITE_SUBMISSION_FIXTURES === "1") writeFileSync(FIXTURES, JSON.stringify(captured, null, 2) + "\n");
});

const SENDER_465: Submission = { provider: "sender", port: 465, auth: true };
const SENDER_25: Submission = { provider: "sender", port: 25, auth: false };

/** Submits one message as configured and returns nodemailer's error, keeping the fields nodemailer set. */
async function failureOf(name: string, options: SMTPTransport.Options, envelope = { from: "alice@infomaniak.test", to: "bob@iroco.test" }): Promise<unknown> {
  const transport = nodemailer.createTransport(options);
  try {
    await transport.sendMail({ ...envelope, subject: name, text: "starttls-lab: provoking a failure\r\n" });
  } catch (error) {
    const { message, code, originalCode, response, responseCode, command } = error as Record<string, unknown>;
    captured[name] = Object.fromEntries(Object.entries({ message, code, originalCode, response, responseCode, command }).filter(([, value]) => value !== undefined));
    return error;
  } finally {
    transport.close();
  }
  throw new Error(`${name}: the submission went through`);
}

/** A loopback server that accepts connections and never greets, like a hung server. */
async function silentServer(): Promise<net.Server> {
  const server = net.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** A loopback port nothing listens on: bound by us, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const where = "the sender";

test("the server refusing RCPT TO, for good (5xx) or for now (4xx), is a refusal", async ({ world }) => {
  const relay = await failureOf("relay refused at RCPT (5xx)", submissionTransportOptions(world, SENDER_25), { from: "mallory@iroco.test", to: "bob@iroco.test" });
  expect(classifySubmissionFailure(relay, where)).toMatchObject({ accepted: false, command: "RCPT TO", responseCode: 554 });

  const noAuth = await failureOf("465 without AUTH, refused at RCPT (5xx)", submissionTransportOptions(world, { ...SENDER_465, auth: false }));
  expect(classifySubmissionFailure(noAuth, where)).toMatchObject({ accepted: false, command: "RCPT TO", response: expect.stringMatching(/^554 5\.7\.1 .*Access denied/) });

  await world.postfix("sender", "this test").applySettings({ smtpd_relay_restrictions: "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination" });
  try {
    const deferred = await failureOf("relay deferred at RCPT (4xx)", submissionTransportOptions(world, SENDER_25), { from: "mallory@iroco.test", to: "bob@iroco.test" });
    expect(classifySubmissionFailure(deferred, where)).toMatchObject({ accepted: false, command: "RCPT TO", response: expect.stringMatching(/^4\d\d /) });
  } finally {
    await world.postfix("sender", "this test").applySettings({});
  }
});

test("Alice's client refusing an expired certificate on 465 is a refusal", async ({ world }) => {
  await world.sender.presentCertificate("expired", "rsa");
  try {
    const expired = await failureOf("expired certificate on 465", submissionTransportOptions(world, SENDER_465));
    expect(classifySubmissionFailure(expired, where)).toMatchObject({ accepted: false, command: "TLS handshake", response: expect.stringContaining("certificate has expired") });
  } finally {
    await world.sender.presentCertificate("valid", "rsa");
  }
});

test("the harness's own failures are errors, not outcomes", async ({ world }) => {
  const options = submissionTransportOptions(world, SENDER_465);
  const failures = [
    await failureOf("wrong password on 465", { ...options, auth: { user: world.sender.identity.mailbox, pass: "not-the-password" } }),
    await failureOf("TLS handshake to the plain SMTP port", { ...options, port: world.sender.smtpPort }),
    await failureOf("connection refused", { ...options, port: await closedPort(), connectionTimeout: 5_000 }),
  ];
  const silent = await silentServer();
  try {
    const port = (silent.address() as net.AddressInfo).port;
    failures.push(await failureOf("no greeting before the timeout", { ...options, port, secure: false, greetingTimeout: 500 }));
  } finally {
    silent.close();
  }
  for (const failure of failures) expect(classifySubmissionFailure(failure, where)).toBeInstanceOf(SubmissionError);
});

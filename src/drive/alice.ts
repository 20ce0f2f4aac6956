/**
 * Alice's mail client: nodemailer submitting to a provider, normally over
 * SMTPS (465) with AUTH, trusting only the harness CA. The server refusing
 * the message, or Alice's client refusing the server's certificate, is a
 * result (the "rejected" outcome); anything else that stops the submission
 * is the harness's own failure, raised as a SubmissionError.
 */
import nodemailer from "nodemailer";
import type Mail from "nodemailer/lib/mailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";
import type { Submission } from "../scenario/types.js";
import type { MailWorld } from "../world/world.js";
import type { MarkedMessage } from "./message.js";

export type Refusal = { accepted: false; response: string; responseCode?: number; command: string };
export type SubmissionResult = { accepted: true; queueId: string; response: string } | Refusal;

/** The harness could not hand the message in: no server answered it, so there is no outcome to judge. */
export class SubmissionError extends Error {
  override name = "SubmissionError";
}

/** The fields of nodemailer's errors that tell who stopped the submission. */
interface NodemailerError {
  message: string;
  /** nodemailer's own category (ESOCKET, ETLS, EAUTH, EENVELOPE…). */
  code?: string;
  /** The system's or TLS library's code nodemailer replaced (ECONNREFUSED, CERT_HAS_EXPIRED…). */
  originalCode?: string;
  response?: string;
  responseCode?: number;
  /** The SMTP command the failure answered, or "CONN" for the connection itself. */
  command?: string;
}

/** The commands that carry the message itself: a reply to one of them is the server's word on it. */
const MESSAGE_COMMANDS = new Set(["MAIL FROM", "RCPT TO", "DATA"]);

/** Node's codes for a certificate its TLS client would not accept (OpenSSL's X509_V_ERR_* names, and the name check). */
const CERTIFICATE_REFUSALS = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REJECTED",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function asNodemailerError(error: unknown): NodemailerError {
  if (error instanceof Error) return error as Error & NodemailerError;
  return { message: String(error) };
}

/**
 * Who stopped a submission, from nodemailer's error: the server answering
 * MAIL FROM, RCPT TO or DATA with a 4xx or 5xx, or Alice's client refusing
 * the certificate it was shown, or refusing to send a REQUIRETLS message to
 * a server that does not announce REQUIRETLS, is a refusal. Everything else (a refused or
 * timed-out connection, a TLS handshake that failed, the harness's own
 * credentials refused, a reply to the greeting or EHLO) is a SubmissionError.
 */
export function classifySubmissionFailure(error: unknown, where: string): Refusal | SubmissionError {
  const failure = asNodemailerError(error);
  const { responseCode, command } = failure;
  if (command !== undefined && MESSAGE_COMMANDS.has(command) && responseCode !== undefined && responseCode >= 400 && responseCode < 600) {
    return { accepted: false, response: failure.response ?? failure.message, responseCode, command };
  }
  if (failure.code === "EREQUIRETLS") {
    // RFC 8689: a client asked for REQUIRETLS must not send the message to a server that does not announce it.
    return { accepted: false, response: `Alice's client refused to send without REQUIRETLS: ${failure.message} (EREQUIRETLS)`, command: "MAIL FROM" };
  }
  const tlsCode = [failure.originalCode, failure.code].find((code) => code !== undefined && CERTIFICATE_REFUSALS.has(code));
  if (tlsCode !== undefined) {
    return { accepted: false, response: `Alice's client refused the server's certificate: ${failure.message} (${tlsCode})`, command: "TLS handshake" };
  }
  const codes = [failure.code, failure.originalCode].filter((code) => code !== undefined).join("/");
  return new SubmissionError(
    `Alice's client could not submit to ${where}${command ? ` (at ${command})` : ""}: ${failure.message}${codes ? ` [${codes}]` : ""}`,
    { cause: error },
  );
}

const SUBMISSION_TIMEOUT_MS = 20_000;

/** How Alice's client reaches a provider: the harness CA as its only trust anchor, the provider's name checked. */
export function submissionTransportOptions(world: MailWorld, via: Submission): SMTPTransport.Options {
  const provider = world.provider(via.provider);
  const implicitTls = via.port === 465;
  return {
    host: "127.0.0.1",
    port: implicitTls ? provider.submissionsPort : provider.smtpPort,
    secure: implicitTls,
    name: "alice-laptop.infomaniak.test",
    auth: via.auth ? { user: world.sender.identity.mailbox, pass: world.sender.password } : undefined,
    tls: { ca: world.caCertPem, servername: provider.identity.smtpHost, minVersion: "TLSv1.2" },
    connectionTimeout: SUBMISSION_TIMEOUT_MS,
    greetingTimeout: SUBMISSION_TIMEOUT_MS,
    socketTimeout: SUBMISSION_TIMEOUT_MS,
  };
}

export async function submitAsAlice(world: MailWorld, message: MarkedMessage): Promise<SubmissionResult> {
  const { via } = message.spec;
  const transport = nodemailer.createTransport(submissionTransportOptions(world, via));
  let info: SMTPTransport.SentMessageInfo;
  try {
    // nodemailer 10 has requireTLSExtensionEnabled; @types/nodemailer 8 does not know it yet.
    const mail: Mail.Options & { requireTLSExtensionEnabled?: boolean } = {
      from: message.spec.from,
      to: message.spec.to,
      subject: message.spec.subject,
      messageId: message.messageId,
      headers: message.headers,
      text: message.text,
      ...(message.spec.requireTls && { requireTLSExtensionEnabled: true }),
    };
    info = await transport.sendMail(mail);
  } catch (error) {
    const failure = classifySubmissionFailure(error, `the ${via.provider}'s port ${via.port}`);
    if (failure instanceof SubmissionError) throw failure;
    return failure;
  } finally {
    transport.close();
  }
  const queueId = world.provider(via.provider).reader.replyQueueId(info.response);
  if (!queueId) throw new Error(`the ${via.provider} accepted the message but named no queue ID: ${info.response}`);
  return { accepted: true, queueId, response: info.response };
}

/**
 * Alice's mail client: nodemailer submitting to a provider, normally over
 * SMTPS (465) with AUTH, trusting only the harness CA. A refusal is a result
 * (the "rejected" outcome), not an error.
 */
import nodemailer from "nodemailer";
import type { MailWorld } from "../world/world.js";
import type { MarkedMessage } from "./message.js";

export type SubmissionResult =
  | { accepted: true; queueId: string; response: string }
  | { accepted: false; response: string; responseCode?: number; command?: string };

interface SmtpError {
  response?: string;
  responseCode?: number;
  command?: string;
  code?: string;
  message: string;
}

/** Alice's client itself refusing the server's TLS (a bad certificate on the submission port). */
const TLS_REFUSAL = /certificate|self[- ]signed|unable to (get|verify)|does not match|handshake|ssl|tls/i;

const SUBMISSION_TIMEOUT_MS = 20_000;

export async function submitAsAlice(world: MailWorld, message: MarkedMessage): Promise<SubmissionResult> {
  const { via } = message.spec;
  const provider = world.provider(via.provider);
  const implicitTls = via.port === 465;
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: implicitTls ? provider.submissionsPort : provider.smtpPort,
    secure: implicitTls,
    name: "alice-laptop.infomaniak.test",
    auth: via.auth ? { user: world.sender.identity.mailbox, pass: world.sender.password } : undefined,
    tls: { ca: world.caCertPem, servername: provider.identity.smtpHost, minVersion: "TLSv1.2" },
    connectionTimeout: SUBMISSION_TIMEOUT_MS,
    greetingTimeout: SUBMISSION_TIMEOUT_MS,
    socketTimeout: SUBMISSION_TIMEOUT_MS,
  });
  try {
    const info = await transport.sendMail({
      from: message.spec.from,
      to: message.spec.to,
      subject: message.spec.subject,
      messageId: message.messageId,
      headers: message.headers,
      text: message.text,
    });
    const queueId = /queued as ([0-9A-Za-z]+)/.exec(info.response)?.[1];
    if (!queueId) throw new Error(`the ${via.provider} accepted the message but named no queue ID: ${info.response}`);
    return { accepted: true, queueId, response: info.response };
  } catch (error) {
    const smtp = error as SmtpError;
    if (smtp.responseCode !== undefined && smtp.responseCode >= 400) {
      return { accepted: false, response: smtp.response ?? smtp.message, responseCode: smtp.responseCode, command: smtp.command };
    }
    if (smtp.responseCode === undefined && TLS_REFUSAL.test(smtp.message)) {
      return { accepted: false, response: `Alice's client refused the server's TLS: ${smtp.message}`, command: "TLS handshake" };
    }
    throw error;
  } finally {
    transport.close();
  }
}

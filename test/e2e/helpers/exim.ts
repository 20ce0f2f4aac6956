/**
 * An Exim provider joined to a running world (as the lead's scenarios will
 * choose it later), and Alice's client submitting to any provider, Postfix
 * or Exim: the two things both Exim e2e files need.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import type tls from "node:tls";
import nodemailer from "nodemailer";
import type { Role } from "../../../src/scenario/types.js";
import { EximContainer, type StartedEximContainer } from "../../../src/world/eximContainer.js";
import { ensureImage } from "../../../src/world/images.js";
import type { StartedProviderContainer } from "../../../src/world/providerContainer.js";
import { PROVIDERS } from "../../../src/world/providers.js";
import { defaultCacheDir, type MailWorld } from "../../../src/world/world.js";
import { ehloKeywords, SmtpClient } from "./security.js";

/** Starts an Exim container as the role's provider in the world; `aliases` as EximContainer.inProviderWorld takes them. */
export async function joinExim(world: MailWorld, role: Role, aliases?: string[]): Promise<StartedEximContainer> {
  const [joining, image] = await Promise.all([world.joining(role), ensureImage("exim", path.join(defaultCacheDir(), "locks"))]);
  return new EximContainer(image.tag, PROVIDERS[role])
    .inProviderWorld(joining.network, joining.dns, aliases === undefined ? {} : { aliases })
    .withCertificates(joining.certificates, joining.credentials)
    .start();
}

/**
 * Alice hands a message to a provider on 465 (implicit TLS, AUTH PLAIN with
 * Alice's password there), trusting only the harness CA and checking the
 * provider's name. Returns the server's reply and the Message-ID it carries.
 */
export async function aliceSubmits(
  provider: StartedProviderContainer,
  caCertPem: string,
  to: string[],
  subject: string,
): Promise<{ response: string; messageId: string }> {
  const messageId = `<exim-${randomBytes(6).toString("hex")}@infomaniak.test>`;
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: provider.submissionsPort,
    secure: true,
    name: "alice-laptop.infomaniak.test",
    auth: { user: PROVIDERS.sender.mailbox, pass: provider.password },
    tls: { ca: caCertPem, servername: provider.identity.smtpHost, minVersion: "TLSv1.2" },
  });
  try {
    const info = await transport.sendMail({ from: PROVIDERS.sender.mailbox, to, subject, messageId, text: `${subject}\n` });
    return { response: info.response, messageId };
  } finally {
    transport.close();
  }
}

/**
 * The certificate a provider's port 25 presents after STARTTLS to a client
 * sending `servername` as SNI (none when undefined). The chain is not
 * judged here (an expired one must be seen too), only read.
 */
export async function certificateAfterStartTls(provider: StartedProviderContainer, servername?: string): Promise<tls.PeerCertificate> {
  const { client } = await SmtpClient.plain(provider.smtpPort);
  try {
    const ehlo = await client.send("EHLO sni-probe.test");
    if (!ehloKeywords(ehlo).includes("STARTTLS")) throw new Error(`${provider.identity.smtpHost} offers no STARTTLS: ${ehlo.text}`);
    const ready = await client.send("STARTTLS");
    if (ready.code !== 220) throw new Error(`STARTTLS refused: ${ready.text}`);
    const secure = await client.upgrade({ rejectUnauthorized: false, ...(servername !== undefined && { servername }) });
    return secure.getPeerCertificate();
  } finally {
    await client.close();
  }
}

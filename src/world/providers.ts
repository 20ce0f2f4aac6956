/**
 * Who is who in the test world, and the role files each provider's
 * container starts from (copied into /etc/starttls-lab before start).
 */
import type { Role } from "../scenario/types.js";

export interface ProviderIdentity {
  role: Role;
  /** The mail domain the provider hosts. */
  domain: string;
  /** Its SMTP host name: the MX of the domain, and myhostname. */
  smtpHost: string;
  imapHost: string;
  /** The one person with a mailbox there. */
  mailbox: string;
}

export const PROVIDERS: Record<Role, ProviderIdentity> = {
  sender: {
    role: "sender",
    domain: "infomaniak.test",
    smtpHost: "smtp.infomaniak.test",
    imapHost: "imap.infomaniak.test",
    mailbox: "alice@infomaniak.test",
  },
  receiver: {
    role: "receiver",
    domain: "iroco.test",
    smtpHost: "mx.iroco.test",
    imapHost: "imap.iroco.test",
    mailbox: "bob@iroco.test",
  },
};

export function otherRole(role: Role): Role {
  return role === "sender" ? "receiver" : "sender";
}

/** Names the provider's certificate must cover (SMTP, IMAP and the bare domain). */
export function certificateNames(identity: ProviderIdentity): string[] {
  return [identity.smtpHost, identity.imapHost, identity.domain];
}

/** main.cf settings that make the shared image into this provider. */
export function roleSettings(identity: ProviderIdentity): string[] {
  return [
    `myhostname = ${identity.smtpHost}`,
    `mydomain = ${identity.domain}`,
    `myorigin = ${identity.domain}`,
    `virtual_mailbox_domains = ${identity.domain}`,
  ];
}

/**
 * Routes: the provider's own domain to Dovecot, the other provider's domain
 * to its SMTP host, and everything else to an error, so that no message can
 * ever leave the test world.
 */
export function transportTable(identity: ProviderIdentity): string {
  const other = PROVIDERS[otherRole(identity.role)];
  return [
    `${identity.domain}\tlmtp:unix:private/dovecot-lmtp`,
    `${other.domain}\tsmtp:[${other.smtpHost}]:25`,
    `*\terror:5.1.2 starttls-lab: only the test world's domains are reachable`,
    "",
  ].join("\n");
}

export function mailboxTable(identity: ProviderIdentity): string {
  return `${identity.mailbox}\tOK\n`;
}

/** Dovecot passwd-file: user:{PLAIN}password:uid:gid::home */
export function dovecotUsers(identity: ProviderIdentity, password: string): string {
  const [local] = identity.mailbox.split("@");
  return `${identity.mailbox}:{PLAIN}${password}:5000:5000::/var/mail/vhosts/${identity.domain}/${local}\n`;
}

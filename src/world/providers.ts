/**
 * Who is who in the test world, and the role files each provider's
 * container starts from (copied into /etc/starttls-lab before start).
 *
 * Bob's provider hosts several domains on one server, like the provider of
 * the founding story: each domain has its own MX name and certificate,
 * chosen by SNI (tls_server_sni_maps for Postfix, local_name for Dovecot).
 */
import type { Role } from "../scenario/types.js";

/** One mail domain on a provider's server. */
export interface HostedDomain {
  domain: string;
  /** The domain's MX host name (an alias of the provider's container). */
  smtpHost: string;
  imapHost: string;
  /** The one person with a mailbox in this domain. */
  mailbox: string;
}

export interface ProviderIdentity extends HostedDomain {
  role: Role;
  /** Further domains on the same server (the primary one is the identity itself). */
  extraDomains: HostedDomain[];
}

export const PROVIDERS: Record<Role, ProviderIdentity> = {
  sender: {
    role: "sender",
    domain: "infomaniak.test",
    smtpHost: "smtp.infomaniak.test",
    imapHost: "imap.infomaniak.test",
    mailbox: "alice@infomaniak.test",
    extraDomains: [],
  },
  receiver: {
    role: "receiver",
    domain: "iroco.test",
    smtpHost: "mx.iroco.test",
    imapHost: "imap.iroco.test",
    mailbox: "bob@iroco.test",
    extraDomains: [
      { domain: "lutins.test", smtpHost: "mx.lutins.test", imapHost: "imap.lutins.test", mailbox: "carol@lutins.test" },
      { domain: "ecole.test", smtpHost: "mx.ecole.test", imapHost: "imap.ecole.test", mailbox: "dan@ecole.test" },
    ],
  },
};

export function otherRole(role: Role): Role {
  return role === "sender" ? "receiver" : "sender";
}

export function hostedDomains(identity: ProviderIdentity): HostedDomain[] {
  return [identity, ...identity.extraDomains];
}

/** The domain part of an address, lower-cased ("" when it has none). */
export function domainOf(address: string): string {
  return address.split("@")[1]?.toLowerCase() ?? "";
}

/** The provider and domain that hold an address's mailbox (undefined outside the world). */
export function findMailbox(address: string): { role: Role; hosted: HostedDomain } | undefined {
  const domain = domainOf(address);
  for (const role of Object.keys(PROVIDERS) as Role[]) {
    const hosted = hostedDomains(PROVIDERS[role]).find((candidate) => candidate.domain === domain);
    if (hosted) return { role, hosted };
  }
  return undefined;
}

/** Every mailbox in the world, with its provider. */
export function allMailboxes(): Array<{ role: Role; hosted: HostedDomain }> {
  return (Object.keys(PROVIDERS) as Role[]).flatMap((role) => hostedDomains(PROVIDERS[role]).map((hosted) => ({ role, hosted })));
}

/** Names a domain's certificate covers: its MX, its IMAP host and the bare domain. */
export function certificateNames(hosted: HostedDomain): string[] {
  return [hosted.smtpHost, hosted.imapHost, hosted.domain];
}

/**
 * Network aliases of a provider's container: every hosted domain's IMAP name,
 * and its SMTP (MX) names unless the wire stands in front of them: Bob's
 * provider answers only as its backend name, and the wire takes its MX names
 * so that every connection from Alice's provider crosses the wire.
 */
export function hostAliases(identity: ProviderIdentity): string[] {
  const imap = hostedDomains(identity).map((hosted) => hosted.imapHost);
  return identity.role === "receiver" ? [backendHost(identity), ...imap] : [...mxHosts(identity), ...imap];
}

/** Every hosted domain's MX name. */
export function mxHosts(identity: ProviderIdentity): string[] {
  return hostedDomains(identity).map((hosted) => hosted.smtpHost);
}

/** The receiver's own name behind the wire, which only the wire connects to. */
export function backendHost(identity: ProviderIdentity): string {
  return `backend.${identity.domain}`;
}

const SNI_DIR = "/etc/starttls-lab/tls/sni";

/** Where a domain's SNI credentials live in the container. */
export function sniFiles(hosted: HostedDomain): { cert: string; key: string } {
  return { cert: `${SNI_DIR}/${hosted.domain}.crt`, key: `${SNI_DIR}/${hosted.domain}.key` };
}

/** How the providers reach the world's DNS container. */
export interface WorldDns {
  /** The validating resolver's address. */
  resolver: string;
  /** postfix-mta-sts-resolver's socketmap port on the same host. */
  mtaStsPort: number;
}

/** main.cf settings that make the shared image into this provider. */
export function roleSettings(identity: ProviderIdentity, dns: WorldDns): string[] {
  return [
    ...(identity.role === "sender"
      ? [
          // Alice's provider trusts DNSSEC answers (needed for DANE) and asks
          // for each domain's MTA-STS policy, as a careful provider does.
          "smtp_dns_support_level = dnssec",
          `smtp_tls_policy_maps = socketmap:inet:${dns.resolver}:${dns.mtaStsPort}:postfix`,
        ]
      : []),
    `myhostname = ${identity.smtpHost}`,
    `mydomain = ${identity.domain}`,
    `myorigin = ${identity.domain}`,
    `virtual_mailbox_domains = ${hostedDomains(identity)
      .map((hosted) => hosted.domain)
      .join(" ")}`,
    // A server with several domains picks each one's certificate by SNI.
    ...(identity.extraDomains.length > 0 ? ["tls_server_sni_maps = texthash:/etc/starttls-lab/sni"] : []),
  ];
}

/**
 * Routes: the provider's own domains to Dovecot, the other provider's
 * domains over SMTP to whatever their MX records name (an empty next hop
 * means: look up the domain's MX, as on the Internet), and everything else
 * to an error, so that no message can ever leave the test world.
 */
export function transportTable(identity: ProviderIdentity): string {
  const other = PROVIDERS[otherRole(identity.role)];
  return [
    ...hostedDomains(identity).map((hosted) => `${hosted.domain}\tlmtp:unix:private/dovecot-lmtp`),
    ...hostedDomains(other).map((hosted) => `${hosted.domain}\tsmtp:`),
    `*\terror:5.1.2 starttls-lab: only the test world's domains are reachable`,
    "",
  ].join("\n");
}

export function mailboxTable(identity: ProviderIdentity): string {
  return hostedDomains(identity)
    .map((hosted) => `${hosted.mailbox}\tOK\n`)
    .join("");
}

/** Dovecot passwd-file, one line per mailbox: user:{PLAIN}password:uid:gid::home */
export function dovecotUsers(identity: ProviderIdentity, password: string): string {
  return hostedDomains(identity)
    .map((hosted) => {
      const [local] = hosted.mailbox.split("@");
      return `${hosted.mailbox}:{PLAIN}${password}:5000:5000::/var/mail/vhosts/${hosted.domain}/${local}\n`;
    })
    .join("");
}

/** The files of the certificate a provider presents by default (the scenario's variant). */
export const PRESENTED_FILES = { cert: "/etc/starttls-lab/tls/server.pem", key: "/etc/starttls-lab/tls/server.key" } as const;

/**
 * Postfix's SNI table: each hosted domain's MX name → its key file, then its
 * certificate chain. The primary domain's name maps to the presented
 * certificate, so a scenario's variant holds whether or not the client sends
 * SNI (a DANE client always does).
 */
export function sniTable(identity: ProviderIdentity): string {
  if (identity.extraDomains.length === 0) return "";
  return hostedDomains(identity)
    .map((hosted) => {
      const files = hosted === identity ? PRESENTED_FILES : sniFiles(hosted);
      return `${hosted.smtpHost}\t${files.key} ${files.cert}\n`;
    })
    .join("");
}

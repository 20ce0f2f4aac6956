/**
 * The files every mail provider's container starts from, whichever MTA it
 * runs: what the harness copies into /etc/starttls-lab before start (the
 * mailboxes, Dovecot's passwd-file, the harness CA and the provider's
 * certificates), so that Postfix and Exim providers hold the same identity.
 */
import type { ProviderCredentials, WorldCertificates } from "./credentials.js";
import { dovecotUsers, mailboxTable, sniFiles, type ProviderIdentity } from "./providers.js";

export const LAB_DIR = "/etc/starttls-lab";

export interface LabFile {
  content: string;
  target: string;
  mode: number;
}

export function labFile(name: string, content: string): LabFile {
  // Anything holding a private key gets mode 0600.
  return { content, target: `${LAB_DIR}/${name}`, mode: name.endsWith(".key") ? 0o600 : 0o644 };
}

/** Who has a mailbox here (one address per line, "OK") and Dovecot's passwd-file with their password. */
export function mailboxFiles(identity: ProviderIdentity, password: string): LabFile[] {
  return [labFile("mailboxes", mailboxTable(identity)), labFile("users", dovecotUsers(identity, password))];
}

/**
 * The harness CA and the provider's certificates. Ports 25 and 465 start
 * with its own valid RSA certificate, the one scenarios ask for by
 * default, so the first scenario has nothing to install; IMAPS keeps it.
 */
export function certificateFiles(world: WorldCertificates, credentials: ProviderCredentials): LabFile[] {
  const strip = (file: string) => file.slice(`${LAB_DIR}/`.length);
  return [
    labFile("tls/ca.pem", world.caCertPem),
    labFile("tls/server.pem", credentials.own.certPem),
    labFile("tls/server.key", credentials.own.keyPem),
    labFile("tls/imap.pem", credentials.own.certPem),
    labFile("tls/imap.key", credentials.own.keyPem),
    ...credentials.sni.flatMap(({ hosted, credentials: domain }) => [
      labFile(strip(sniFiles(hosted).cert), domain.certPem),
      labFile(strip(sniFiles(hosted).key), domain.keyPem),
    ]),
  ];
}

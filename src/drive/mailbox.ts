/**
 * Reading a mailbox as its owner would: imapflow over IMAPS (993), trusting
 * only the harness CA and checking the server's name. Used for Bob's inbox
 * and for the bounces in Alice's.
 */
import { ImapFlow } from "imapflow";
import type { HostedDomain } from "../world/providers.js";
import type { StartedMtaContainer as Provider } from "../world/mtaContainer.js";

export interface FoundMessage {
  uid: number;
  /** The raw RFC 5322 message. */
  source: string;
}

/**
 * The UIDs an imapflow search found. imapflow answers `false` when the server
 * refused the search and `undefined` when no mailbox was open: either is an
 * error, never "no copy", or a missing message would pass for one that never
 * arrived.
 */
export function searchedUids(result: number[] | false | undefined, what: string): number[] {
  if (Array.isArray(result)) return result;
  throw new Error(result === false ? `the IMAP server refused the search for ${what}` : `the IMAP search for ${what} ran with no mailbox open`);
}

/**
 * The messages in a mailbox's INBOX whose header `name` contains `value`
 * (by default the provider's primary mailbox). The client checks that the
 * server presents the certificate of that mailbox's domain (SNI).
 */
export async function findInInbox(
  provider: Provider,
  caCertPem: string,
  header: { name: string; value: string },
  hosted: HostedDomain = provider.identity,
): Promise<FoundMessage[]> {
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: provider.imapsPort,
    secure: true,
    auth: { user: hosted.mailbox, pass: provider.password },
    tls: { ca: [caCertPem], servername: hosted.imapHost, minVersion: "TLSv1.2" },
    logger: false,
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      const what = `${header.name}: ${header.value} in ${hosted.mailbox}'s INBOX`;
      const uids = searchedUids(await client.search({ header: { [header.name]: header.value } }, { uid: true }), what);
      const found: FoundMessage[] = [];
      for (const uid of uids) {
        const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (!message || !message.source) throw new Error(`the search for ${what} found UID ${uid}, but fetching it returned no message`);
        found.push({ uid, source: message.source.toString("utf8") });
      }
      return found;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
}

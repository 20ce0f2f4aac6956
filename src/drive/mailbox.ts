/**
 * Reading a mailbox as its owner would: imapflow over IMAPS (993), trusting
 * only the harness CA and checking the server's name. Used for Bob's inbox
 * and for the bounces in Alice's.
 */
import { ImapFlow } from "imapflow";
import type { HostedDomain } from "../world/providers.js";
import type { StartedProviderContainer as Provider } from "../world/providerContainer.js";

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
 * One IMAPS session per mailbox, opened on first use and kept while its
 * server runs: a scenario looks into every mailbox of the world (the
 * message's, then the accounting of all four), and a fresh login with its
 * TLS handshake each time cost more than the search itself. A session the
 * server closed (a restarted container, its idle timeout) is dropped and
 * the next look opens another.
 */
const sessions = new WeakMap<Provider, Map<string, Promise<ImapFlow>>>();

function openSession(provider: Provider, caCertPem: string, hosted: HostedDomain): Promise<ImapFlow> {
  let byMailbox = sessions.get(provider);
  if (!byMailbox) sessions.set(provider, (byMailbox = new Map()));
  const open = byMailbox.get(hosted.mailbox);
  if (open) return open;
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: provider.imapsPort,
    secure: true,
    auth: { user: hosted.mailbox, pass: provider.password },
    tls: { ca: [caCertPem], servername: hosted.imapHost, minVersion: "TLSv1.2" },
    logger: false,
    // The session only searches when asked; IDLE between scenarios would be one more thing to interrupt.
    disableAutoIdle: true,
  });
  const forget = () => {
    if (byMailbox.get(hosted.mailbox) === opening) byMailbox.delete(hosted.mailbox);
  };
  // A dropped connection is reported to whoever uses the session next (as a failed command), not as an uncaught event.
  client.on("error", forget);
  client.on("close", forget);
  const opening = client.connect().then(
    () => client,
    (error: unknown) => {
      forget();
      throw error;
    },
  );
  byMailbox.set(hosted.mailbox, opening);
  return opening;
}

/** Log out of every kept session to this provider's mailboxes (a process done with a world that runs on). */
export async function closeMailboxSessions(provider: Provider): Promise<void> {
  const byMailbox = sessions.get(provider);
  sessions.delete(provider);
  const open = [...(byMailbox?.values() ?? [])];
  await Promise.allSettled(open.map(async (opening) => (await opening).logout()));
}

/** Runs `work` on the mailbox's INBOX, in the kept session; once more in a new session if the kept one had been closed. */
async function inInbox<T>(provider: Provider, caCertPem: string, hosted: HostedDomain, work: (client: ImapFlow) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await openSession(provider, caCertPem, hosted);
    if (!client.usable) {
      sessions.get(provider)?.delete(hosted.mailbox);
      if (attempt === 1) continue;
      throw new Error(`the IMAP session to ${hosted.mailbox} closed as it opened`);
    }
    const lock = await client.getMailboxLock("INBOX");
    try {
      // NOOP makes the server report what arrived since the session last looked.
      await client.noop();
      return await work(client);
    } finally {
      lock.release();
    }
  }
}

async function searchInbox(client: ImapFlow, header: { name: string; value: string }, what: string): Promise<number[]> {
  return searchedUids(await client.search({ header: { [header.name]: header.value } }, { uid: true }), what);
}

function describeSearch(header: { name: string; value: string }, hosted: HostedDomain): string {
  return `${header.name}: ${header.value} in ${hosted.mailbox}'s INBOX`;
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
  const what = describeSearch(header, hosted);
  return inInbox(provider, caCertPem, hosted, async (client) => {
    const found: FoundMessage[] = [];
    for (const uid of await searchInbox(client, header, what)) {
      const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
      if (!message || !message.source) throw new Error(`the search for ${what} found UID ${uid}, but fetching it returned no message`);
      found.push({ uid, source: message.source.toString("utf8") });
    }
    return found;
  });
}

/** How many messages in a mailbox's INBOX have header `name` containing `value` (nothing fetched). */
export async function countInInbox(provider: Provider, caCertPem: string, header: { name: string; value: string }, hosted: HostedDomain): Promise<number> {
  const what = describeSearch(header, hosted);
  return inInbox(provider, caCertPem, hosted, async (client) => (await searchInbox(client, header, what)).length);
}

/**
 * The named header fields of every message in a mailbox's INBOX, raw, one
 * entry per message: one fetch instead of a search per message, for
 * counting many messages at once (the soak).
 */
export async function headersOfInbox(provider: Provider, caCertPem: string, hosted: HostedDomain, names: readonly string[]): Promise<string[]> {
  return inInbox(provider, caCertPem, hosted, async (client) => {
    const exists = client.mailbox === false ? 0 : client.mailbox.exists;
    if (exists === 0) return [];
    const messages = await client.fetchAll("1:*", { headers: [...names] });
    return messages.map((message) => message.headers?.toString("utf8") ?? "");
  });
}

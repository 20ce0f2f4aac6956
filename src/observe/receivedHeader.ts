/**
 * Parses a Received header (RFC 5321 §4.4 trace field) as Postfix's smtpd
 * writes it, including the TLS comment it adds with
 * `smtpd_tls_received_header = yes`:
 *
 *   from smtp.infomaniak.test (m-sender.manualnet [172.18.0.2])
 *   	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) …)
 *   	by mx.iroco.test (Postfix) with ESMTPS id 2426C178491
 *   	for <bob@iroco.test>; Fri, 27 Nov 2026 22:47:19 +0000 (UTC)
 *
 * and as Exim 4.98 writes it by default (received_header_text), the client
 * by address with its HELO name in a comment, the TLS version in a comment
 * and the suite's standard name after "tls":
 *
 *   from [172.19.0.3] (helo=smtp.infomaniak.test)
 *   	by mx.iroco.test with esmtps  (TLS1.3) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
 *   	(Exim 4.98.2)
 *   	(envelope-from <alice@infomaniak.test>)
 *   	id 1xYb8E-0000000001J-0TtA; Wed, 02 Dec 2026 03:35:46 +0000
 */
import type { Transport } from "../scenario/types.js";
import { openSslVersion, sameCipherSuite } from "./cipherSuite.js";

export interface ReceivedHeader {
  /** The name the client greeted with (HELO/EHLO), e.g. "smtp.infomaniak.test". */
  from: string;
  /** The comment after `from`, e.g. "m-sender.manualnet [172.18.0.2]". */
  fromDetail?: string;
  /** The receiving host, e.g. "mx.iroco.test". */
  by: string;
  /** The protocol, e.g. "ESMTPS", "ESMTP", "ESMTPSA", "LMTP". */
  with: string;
  /** The receiver's queue id. */
  id?: string;
  /** The recipient, without angle brackets. */
  for?: string;
  /** The date after the ";". */
  date?: string;
  /** Postfix's "(using TLSv1.3 with cipher …)" comment, or Exim's "(TLS1.3) tls NAME" (the version as OpenSSL writes it, "TLSv1.3"). */
  tls?: { version: string; cipher: string };
}

interface Split {
  /** The text outside comments, comments replaced by a space. */
  text: string;
  /** Top-level comments (contents without the outer parentheses), with their offset in `text`. */
  comments: { at: number; content: string }[];
}

/** Separates top-level (possibly nested) comments from the rest of an unfolded header. */
function splitComments(value: string): Split {
  let text = "";
  const comments: Split["comments"] = [];
  let depth = 0;
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && depth > 0 && i + 1 < value.length) {
      current += c + value[++i]!;
    } else if (c === "(") {
      if (depth > 0) current += c;
      depth++;
    } else if (c === ")" && depth > 0) {
      depth--;
      if (depth > 0) current += c;
      else {
        comments.push({ at: text.length, content: current.trim() });
        current = "";
        text += " ";
      }
    } else if (depth > 0) {
      current += c;
    } else {
      text += c;
    }
  }
  if (depth > 0) throw new Error(`unbalanced parentheses in Received header: ${value}`);
  return { text, comments };
}

const TLS_COMMENT = /^using (\S+) with cipher (\S+)/;
/** Exim's "(TLS1.3)" comment after the protocol. */
const EXIM_TLS_VERSION = /^TLS(\d\.\d)$/;
/** Exim's HELO comment after a client known only by address: "(helo=smtp.infomaniak.test)". */
const EXIM_HELO = /^helo=(\S+)$/;

/** Parses one Received header value (folded or not; a leading "Received:" is tolerated). */
export function parseReceived(headerValue: string): ReceivedHeader {
  const unfolded = headerValue
    .replace(/\r?\n(?=[ \t])/g, "")
    .replace(/\s+/g, " ")
    .replace(/^\s*Received:\s*/i, "")
    .trim();
  const { text, comments } = splitComments(unfolded);

  const semicolon = text.lastIndexOf(";");
  const clauses = semicolon >= 0 ? text.slice(0, semicolon) : text;
  const date = semicolon >= 0 ? unfolded.slice(unfolded.lastIndexOf(";") + 1).trim() : undefined;

  const clause = (name: string): { value: string; end: number } | undefined => {
    const m = new RegExp(`(?:^|\\s)${name}\\s+(\\S+)`, "i").exec(clauses);
    return m ? { value: m[1]!, end: m.index + m[0].length } : undefined;
  };
  const from = clause("from");
  const by = clause("by");
  const protocol = clause("with");
  if (!from || !by || !protocol) {
    const missing = [!from && "from", !by && "by", !protocol && "with"].filter(Boolean).join(", ");
    throw new Error(`Received header lacks ${missing}: ${unfolded}`);
  }

  const header: ReceivedHeader = { from: from.value, by: by.value, with: protocol.value };
  // The comment right after "from NAME" says who really connected.
  const fromComment = comments.find((c) => c.at >= from.end && clauses.slice(from.end, c.at).trim() === "");
  const helo = fromComment && from.value.startsWith("[") ? EXIM_HELO.exec(fromComment.content)?.[1] : undefined;
  if (helo !== undefined) {
    // Exim: "from [address] (helo=NAME)", the greeting's name in the comment.
    header.from = helo;
    header.fromDetail = from.value;
  } else if (fromComment && !TLS_COMMENT.test(fromComment.content)) header.fromDetail = fromComment.content;
  const id = clause("id");
  if (id) header.id = id.value;
  const forClause = clause("for");
  if (forClause) header.for = forClause.value.replace(/^<(.*)>$/, "$1");
  if (date !== undefined && date !== "") header.date = date;

  for (const c of comments) {
    const m = TLS_COMMENT.exec(c.content);
    if (m) {
      header.tls = { version: m[1]!, cipher: m[2]! };
      break;
    }
  }
  const eximVersion = comments.map((c) => EXIM_TLS_VERSION.exec(c.content)?.[1]).find((version) => version !== undefined);
  const eximSuite = /(?:^|\s)tls\s+(\S+)/.exec(clauses)?.[1];
  if (!header.tls && eximVersion !== undefined && eximSuite !== undefined) header.tls = { version: `TLSv${eximVersion}`, cipher: eximSuite };
  return header;
}

const SMTP_FAMILY = /^(ESMTP|LMTP|UTF8SMTP|UTF8LMTP)(S?)(A?)$/i;

/**
 * The hop's transport from the `with` protocol (RFC 3848, RFC 6531):
 * ESMTPS, ESMTPSA, LMTPS, UTF8SMTPS… → tls; SMTP, ESMTP, ESMTPA, LMTP… → plaintext.
 * Throws for a protocol that is not SMTP-like (e.g. "local", "HTTP").
 */
export function transportFromReceived(r: Pick<ReceivedHeader, "with">): Transport {
  if (/^SMTP$/i.test(r.with)) return "plaintext";
  const m = SMTP_FAMILY.exec(r.with);
  if (!m) throw new Error(`cannot tell the transport from "with ${r.with}" in a Received header`);
  return m[2] ? "tls" : "plaintext";
}

/**
 * The topmost SMTP hop received by `byHost` among Received header values
 * (top first, as in the message): skips Dovecot's own "with LMTP" header
 * that sits above Postfix's, and headers added by other hosts.
 */
export function findSmtpReceived(headerValues: readonly string[], byHost: string): ReceivedHeader | undefined {
  for (const value of headerValues) {
    let header: ReceivedHeader;
    try {
      header = parseReceived(value);
    } catch {
      continue;
    }
    if (header.by.toLowerCase() !== byHost.toLowerCase()) continue;
    if (/^(?:E?SMTP|UTF8SMTP)S?A?$/i.test(header.with)) return header;
  }
  return undefined;
}

/**
 * Where the sending MTA's log and the receiver's Received header disagree
 * about the hop between them: TLS or not, then the version and the cipher
 * when the header names them (Postfix writes them with
 * `smtpd_tls_received_header = yes`, Exim by default). The version is
 * compared as OpenSSL writes it (Exim's log says "TLS1.3"), the cipher as
 * the same suite whichever library named it (cipherSuite.ts). Empty when
 * the two witnesses agree.
 */
export function witnessDisagreements(logged: { version: string; cipher: string } | undefined, received: ReceivedHeader): string[] {
  const headerSaysTls = transportFromReceived(received) === "tls";
  if ((logged !== undefined) !== headerSaysTls) {
    return [`the log ${logged ? "shows a" : "shows no"} TLS session, but the Received header says "with ${received.with}"`];
  }
  if (!logged || !received.tls) return [];
  const disagreements: string[] = [];
  if (openSslVersion(logged.version) !== received.tls.version) {
    disagreements.push(`the log says ${logged.version}, but the Received header says ${received.tls.version}`);
  }
  if (!sameCipherSuite(received.tls.version, logged.cipher, received.tls.cipher)) {
    disagreements.push(`the log says cipher ${logged.cipher}, but the Received header says cipher ${received.tls.cipher}`);
  }
  return disagreements;
}

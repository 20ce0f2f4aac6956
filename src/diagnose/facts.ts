/**
 * What the customer's text states outright: the hosts, the recipient, the
 * MTA that wrote it, a TLS version, the security levels when a configuration
 * line is quoted. Only what is written; the situation infers the rest, and
 * says "probably" when it does.
 */
import { CLIENT_SECURITY_LEVELS, SERVER_SECURITY_LEVELS } from "../scenario/postfixValues.js";
import type { CustomerText } from "./customerText.js";

export type MtaName = "Postfix" | "Exim" | "OpenSMTPD" | "Gmail" | "Microsoft";

export type ClientLevel = (typeof CLIENT_SECURITY_LEVELS)[number];
export type ServerLevel = (typeof SERVER_SECURITY_LEVELS)[number];

export interface Facts {
  /** The MTA whose wording the text carries (the one that reported the failure). */
  reportedBy?: MtaName;
  /** The receiving server the sender talked to, as the text names it. */
  remoteHost?: { name: string; address?: string };
  recipient?: string;
  /** The version the failing hop negotiated, when the text shows an established session. */
  tlsVersion?: string;
  /** smtp_tls_security_level as quoted in the input. */
  senderLevel?: ClientLevel;
  /** smtpd_tls_security_level as quoted in the input. */
  receiverLevel?: ServerLevel;
  /** Each fact with the text it was read from, for the report. */
  quotes: string[];
}

const MTA_WORDINGS: ReadonlyArray<readonly [MtaName, RegExp]> = [
  ["Postfix", /X-Postfix|postfix\/[a-z]+\[\d+\]|\(Postfix\)|MAILER-DAEMON \(Mail Delivery System\)/i],
  ["Exim", /\bExim\b|\bR=\w+ T=\w+|SMTP error from remote mail server/i],
  // smtpd -d writes no program name: its session lines ("<session> mta error reason=…") and its queue's summary are its wording.
  ["OpenSMTPD", /\bOpenSMTPD\b|\b[0-9a-f]{16} mta [a-z-]+ |Network error on destination MXs/i],
  ["Gmail", /\bgsmtp\b|mx\.google\.com|googlemail\.com/i],
  ["Microsoft", /outlook\.com|protection\.outlook|Microsoft Exchange|\bNDR\b/i],
];

const HOST_WORDINGS: readonly RegExp[] = [
  // Postfix: "host mx.example.net[203.0.113.5]", "relay=mx.example.net[203.0.113.5]:25"
  /\b(?:host|relay=)\s*([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\[([0-9a-f.:]+)\]/i,
  // Exim: "host mx.example.net [203.0.113.5]", "H=mx.example.net [203.0.113.5]"
  /\b(?:host|H=)\s*([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\s+\[([0-9a-f.:]+)\]/i,
  // DSN: "Remote-MTA: dns; mx.example.net"
  /^Remote-MTA:\s*dns;\s*([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\.?\s*(?:\[([0-9a-f.:]+)\])?/im,
];

const RECIPIENT_WORDINGS: readonly RegExp[] = [
  /^(?:Final|Original)-Recipient:\s*rfc822;\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$/im,
  /\bto=<([^>\s]+@[^>\s]+)>/i,
  /<([^>\s]+@[^>\s]+)>:\s/,
  // Exim's main log: "** addr" failed, "== addr" deferred
  /(?:^|\s)(?:\*\*|==) ([^\s<>]+@[^\s<>]+)/m,
];

function levelOf<T extends string>(text: string, parameter: string, levels: readonly T[]): T | undefined {
  const match = new RegExp(`\\b${parameter}\\s*[=:]\\s*([a-z-]+)`, "i").exec(text);
  const level = match?.[1]?.toLowerCase();
  return levels.find((known) => known === level);
}

export function readFacts(input: CustomerText): Facts {
  const { text } = input;
  const quotes: string[] = [];
  const facts: Facts = { quotes };
  // The first MTA the text quotes: the one that reports the failure (the sender's log, its bounce) comes before the receiving side's lines.
  const [mta] = MTA_WORDINGS.flatMap(([name, wording]) => {
    const match = wording.exec(text);
    return match ? [{ name, wording: match[0], at: match.index }] : [];
  }).sort((first, second) => first.at - second.at);
  if (mta) {
    facts.reportedBy = mta.name;
    quotes.push(`written by ${mta.name} (its wording: "${mta.wording}")`);
  }
  for (const wording of HOST_WORDINGS) {
    const match = wording.exec(text);
    if (!match) continue;
    facts.remoteHost = { name: match[1]!.toLowerCase(), ...(match[2] ? { address: match[2] } : {}) };
    quotes.push(`receiving server: ${match[1]}${match[2] ? ` [${match[2]}]` : ""}`);
    break;
  }
  for (const wording of RECIPIENT_WORDINGS) {
    const match = wording.exec(text);
    if (!match) continue;
    facts.recipient = match[1]!.toLowerCase();
    quotes.push(`recipient: ${facts.recipient}`);
    break;
  }
  // Only the version of the failing hop: a returned message's headers name the versions of other hops.
  // Exim's X= counts on a delivery (=> or ->) only: on an arrival (<=) it is the hop that brought the message in.
  const negotiated = /TLS connection established (?:to|from) \S+: (TLSv1(?:\.[0-3])?)\b|(?:=>|->) [^\n]*\bX=TLS(1(?:\.[0-3])?):/.exec(text);
  if (negotiated) {
    facts.tlsVersion = negotiated[1] ?? `TLSv${negotiated[2]}`;
    quotes.push(`TLS version negotiated: ${facts.tlsVersion}`);
  }
  const senderLevel = levelOf(text, "smtp_tls_security_level", CLIENT_SECURITY_LEVELS);
  if (senderLevel) {
    facts.senderLevel = senderLevel;
    quotes.push(`sender's smtp_tls_security_level = ${senderLevel}`);
  }
  const receiverLevel = levelOf(text, "smtpd_tls_security_level", SERVER_SECURITY_LEVELS);
  if (receiverLevel) {
    facts.receiverLevel = receiverLevel;
    quotes.push(`receiver's smtpd_tls_security_level = ${receiverLevel}`);
  }
  return facts;
}

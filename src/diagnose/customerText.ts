/**
 * What a customer sends, made readable: a bounce message (a DSN or any
 * .eml, MIME multipart with quoted-printable or base64 parts), log lines, or
 * a pasted error text. The recognisers read one flat text, so a message is
 * parsed by mailparser and only its readable parts are kept; folded lines
 * (DSN fields, Postfix's wrapped bounce text) are joined back.
 */
import { simpleParser, type Attachment, type HeaderLines } from "mailparser";

export interface CustomerText {
  /** "message" when the input parsed as a mail message, "text" otherwise. */
  kind: "message" | "text";
  /** The readable text, folded lines joined, whitespace runs collapsed. */
  text: string;
  /** Fields of the message/delivery-status part (or of any "Field: value" line of the text), lower-cased names. */
  fields: ReadonlyMap<string, string>;
}

/** Reads raw input (CRLF or LF). */
export async function readCustomerText(raw: string): Promise<CustomerText> {
  const normalised = lineFeeds(raw);
  const kind = looksLikeMessage(normalised) ? "message" : "text";
  const parts = kind === "message" ? await readableParts(normalised) : [normalised];
  const text = parts.map((part) => unfold(lineFeeds(part))).join("\n");
  return { kind, text: text.replace(/[ \t]+/g, " "), fields: dsnFields(text) };
}

function lineFeeds(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/** Join header continuation lines (RFC 5322 folding), also used by Postfix's bounce text. */
function unfold(text: string): string {
  return text.replace(/\n[ \t]+/g, " ");
}

/**
 * A header block that is a mail's, not a stray "Key: value" line of a log:
 * log lines and pasted text must stay as written, so they never reach the
 * MIME parser, which would take any first lines for headers.
 */
function looksLikeMessage(raw: string): boolean {
  const split = raw.indexOf("\n\n");
  const names = new Set<string>();
  for (const line of unfold(split === -1 ? raw : raw.slice(0, split)).split("\n")) {
    const field = /^([A-Za-z][A-Za-z0-9-]*):/.exec(line);
    if (!field) return false;
    names.add(field[1]!.toLowerCase());
  }
  return names.has("content-type") || (names.has("from") && (names.has("subject") || names.has("date") || names.has("received")));
}

function headerText(lines: HeaderLines): string {
  return lines.map((header) => header.line).join("\n");
}

/**
 * The top-level headers, the text parts, the delivery-status part and the
 * returned message's headers; the original body is left out: whatever Alice
 * wrote is not evidence of what happened to it.
 */
async function readableParts(raw: string): Promise<string[]> {
  // keepDeliveryStatus: the DSN part stays an attachment, read below as written, not merged into the text; no HTML is read.
  const message = await simpleParser(raw, { keepDeliveryStatus: true, skipTextToHtml: true });
  const attachments = await Promise.all(message.attachments.map(readableAttachment));
  return [headerText(message.headerLines), ...(message.text !== undefined ? [message.text] : []), ...attachments.flat()];
}

async function readableAttachment(attachment: Attachment): Promise<string[]> {
  const type = attachment.contentType.toLowerCase();
  const content = attachment.content.toString("utf8");
  if (type === "message/rfc822" || type === "message/global") return [headerText((await simpleParser(content)).headerLines)];
  if (type === "message/delivery-status" || type === "message/global-delivery-status" || type.startsWith("text/")) return [content];
  return [];
}

/** The DSN fields (Reporting-MTA, Remote-MTA, Diagnostic-Code, Status, Action…), the last of each name. */
function dsnFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of text.matchAll(/^(Reporting-MTA|Remote-MTA|Diagnostic-Code|Status|Action|Final-Recipient|Original-Recipient):[ \t]*(.+)$/gim)) {
    fields.set(match[1]!.toLowerCase(), match[2]!.trim());
  }
  return fields;
}

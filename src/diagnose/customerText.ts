/**
 * What a customer sends, made readable: a bounce message (a DSN or any
 * .eml, MIME multipart with quoted-printable or base64 parts), log lines, or
 * a pasted error text. The recognisers read one flat text, so the MIME
 * structure is walked here and only the readable parts are kept; folded
 * lines (DSN fields, Postfix's wrapped bounce text) are joined back.
 */

export interface CustomerText {
  /** "message" when the input parsed as a mail message, "text" otherwise. */
  kind: "message" | "text";
  /** The readable text, folded lines joined, whitespace runs collapsed. */
  text: string;
  /** Fields of the message/delivery-status part (or of any "Field: value" line of the text), lower-cased names. */
  fields: ReadonlyMap<string, string>;
}

/** Reads raw input (CRLF or LF). */
export function readCustomerText(raw: string): CustomerText {
  const normalised = raw.replace(/\r\n?/g, "\n");
  const message = parseEntity(normalised);
  const kind = message !== undefined && looksLikeMessage(message.headers) ? "message" : "text";
  const parts = kind === "message" ? readableParts(message!) : [normalised];
  const text = parts.map(unfold).join("\n");
  return { kind, text: text.replace(/[ \t]+/g, " "), fields: dsnFields(text) };
}

interface Entity {
  headers: Map<string, string>;
  headerText: string;
  body: string;
}

function parseEntity(raw: string): Entity | undefined {
  const split = raw.indexOf("\n\n");
  const headerText = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? "" : raw.slice(split + 2);
  const headers = new Map<string, string>();
  for (const line of unfold(headerText).split("\n")) {
    const field = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (!field) return undefined;
    headers.set(field[1]!.toLowerCase(), field[2]!);
  }
  return { headers, headerText, body };
}

/** A header block that is a mail's, not a stray "Key: value" line of a log. */
function looksLikeMessage(headers: ReadonlyMap<string, string>): boolean {
  return headers.has("content-type") || (headers.has("from") && (headers.has("subject") || headers.has("date") || headers.has("received")));
}

/** Join header continuation lines (RFC 5322 folding), also used by Postfix's bounce text. */
function unfold(text: string): string {
  return text.replace(/\n[ \t]+/g, " ");
}

function parameter(value: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

function decodeBody(entity: Entity): string {
  return decodeTransfer(entity).replace(/\r\n?/g, "\n");
}

function decodeTransfer(entity: Entity): string {
  const encoding = (entity.headers.get("content-transfer-encoding") ?? "").trim().toLowerCase();
  if (encoding === "base64") return Buffer.from(entity.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = entity.body.replace(/=\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return entity.body;
}

/**
 * The text parts, the delivery-status part and the returned message's
 * headers, depth first; the original body is left out: whatever Alice wrote
 * is not evidence of what happened to it.
 */
function readableParts(entity: Entity, depth = 0): string[] {
  const type = (entity.headers.get("content-type") ?? "text/plain").toLowerCase();
  const boundary = parameter(entity.headers.get("content-type") ?? "", "boundary");
  const own = depth === 0 ? [entity.headerText] : [];
  if (type.startsWith("multipart/") && boundary !== undefined && depth < 8) {
    const sections = entity.body.split(new RegExp(`^--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \t]*$`, "m"));
    // The preamble before the first boundary and the epilogue after the last are not parts.
    const parts = sections.slice(1, -1).map((section) => parseEntity(section.replace(/^\n/, "")));
    return [...own, ...parts.flatMap((part) => (part ? readableParts(part, depth + 1) : []))];
  }
  if (type.startsWith("message/rfc822") || type.startsWith("text/rfc822-headers")) {
    const inner = parseEntity(decodeBody(entity));
    return [...own, inner ? inner.headerText : decodeBody(entity)];
  }
  if (type.startsWith("message/delivery-status") || type.startsWith("message/global-delivery-status") || type.startsWith("text/")) {
    return [...own, decodeBody(entity)];
  }
  return own;
}

/** The DSN fields (Reporting-MTA, Remote-MTA, Diagnostic-Code, Status, Action…), the last of each name. */
function dsnFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of text.matchAll(/^(Reporting-MTA|Remote-MTA|Diagnostic-Code|Status|Action|Final-Recipient|Original-Recipient):[ \t]*(.+)$/gim)) {
    fields.set(match[1]!.toLowerCase(), match[2]!.trim());
  }
  return fields;
}

import { simpleParser } from "mailparser";

/** One header field of a raw message, unfolded, its name as the message spells it. */
export interface HeaderField {
  name: string;
  value: string;
}

/** The header fields of a raw RFC 5322 message, unfolded, in order. */
export function headerFields(source: string): HeaderField[] {
  const end = source.search(/\r?\n\r?\n/);
  const block = end === -1 ? source : source.slice(0, end);
  return block.split(/\r?\n(?![ \t])/).flatMap((field) => {
    const colon = field.indexOf(":");
    if (colon <= 0) return [];
    return [{ name: field.slice(0, colon).trim(), value: field.slice(colon + 1).replace(/\r?\n[ \t]+/g, " ").trim() }];
  });
}

/** The values of header `name` (any case) of a raw message, unfolded, in order. */
export function headerValues(source: string, name: string): string[] {
  const wanted = name.toLowerCase();
  return headerFields(source)
    .filter((field) => field.name.toLowerCase() === wanted)
    .map((field) => field.value);
}

/** The fields of a raw message whose names (any case) are among `names`, in the message's order and spelling. */
export function fieldsNamed(source: string, names: readonly string[]): HeaderField[] {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  return headerFields(source).filter((field) => wanted.has(field.name.toLowerCase()));
}

/**
 * The raw message a non-delivery report returns (its message/rfc822 part,
 * or the text/rfc822-headers part when only the headers came back), or
 * undefined when the report returns none.
 */
export async function returnedMessage(report: string): Promise<string | undefined> {
  // The delivery-status part stays an attachment of its own type, so only the returned message can be one of these.
  const parsed = await simpleParser(report, { keepDeliveryStatus: true, skipTextToHtml: true });
  const returned = parsed.attachments.find((part) => ["message/rfc822", "message/global", "text/rfc822-headers"].includes(part.contentType.toLowerCase()));
  return returned?.content.toString("utf8");
}

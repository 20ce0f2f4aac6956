/**
 * Pure SMTP helpers for the wire's attacker modes.
 *
 * Runs inside the wire container on nodejs 18: no npm dependencies.
 */
import { parseReplyLine } from "./dialogue.js";

/** The client's STARTTLS command (case-insensitive, line ending optional). */
export function isStarttlsCommand(line: string): boolean {
  return /^STARTTLS[ \t]*(\r?\n)?$/i.test(line);
}

/** A reply line announcing the STARTTLS extension, e.g. "250-STARTTLS". */
export function isStarttlsOfferLine(line: string): boolean {
  const reply = parseReplyLine(line);
  return reply !== undefined && /^STARTTLS[ \t]*(\r?\n)?$/i.test(reply.text);
}

/**
 * Removes the STARTTLS line from a (multi-line) EHLO reply and keeps the
 * reply well-formed: every line but the last uses "<code>-", the last
 * "<code> ". Each line's own ending ("\r\n", "\n" or none) is kept. Lines that
 * are not reply lines are left as they are.
 */
export function stripStarttlsFromEhloReply(lines: string[]): string[] {
  const kept = lines.filter((line) => !isStarttlsOfferLine(line));
  if (kept.length === lines.length) return [...lines];
  return kept.map((line, index) => {
    const ending = /\r?\n$/.exec(line)?.[0] ?? "";
    const body = line.slice(0, line.length - ending.length);
    const reply = parseReplyLine(body);
    if (!reply) return line;
    const separator = index === kept.length - 1 ? " " : "-";
    return `${reply.code}${separator}${reply.text}${ending}`;
  });
}

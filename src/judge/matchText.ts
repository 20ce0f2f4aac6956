/**
 * TextMatcher: a substring (case-sensitive) or a regular expression, as a
 * scenario writes it. Shared by judge/ and the reports.
 */
import type { TextMatcher } from "../scenario/types.js";

/** True when `text` contains the substring, or the regex matches somewhere in it. Throws on an invalid regex. */
export function matchText(matcher: TextMatcher, text: string): boolean {
  if (matcher.kind === "substring") return text.includes(matcher.text);
  let re: RegExp;
  try {
    re = new RegExp(matcher.source, matcher.flags);
  } catch (err) {
    throw new Error(`invalid regex /${matcher.source}/${matcher.flags}: ${err instanceof Error ? err.message : String(err)}`);
  }
  re.lastIndex = 0;
  return re.test(text);
}

/** A matcher as the user wrote it: the substring itself, or `/source/flags`. */
export function formatMatcher(m: TextMatcher): string {
  return m.kind === "substring" ? m.text : `/${m.source}/${m.flags}`;
}

/** For humans: `contains “TLS is required”` or `matches /5\.7\.\d/i`. */
export function describeMatcher(matcher: TextMatcher): string {
  return matcher.kind === "substring"
    ? `contains “${matcher.text}”`
    : `matches /${matcher.source}/${matcher.flags}`;
}

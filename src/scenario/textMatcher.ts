import { z } from "zod";
import type { TextMatcher } from "./types.js";

const regexLiteral = /^\/(.+)\/([a-z]*)$/s;
/** `g` and `y` make RegExp#test stateful; the rest are harmless. */
const allowedFlags = /^[dimsuv]*$/;

/**
 * `/…/flags` is a regular expression; anything else is a substring to find.
 * Returns an error text instead when the regex does not compile.
 */
export function parseTextMatcher(written: string): TextMatcher | { error: string } {
  const literal = regexLiteral.exec(written);
  if (!literal) return { kind: "substring", text: written };
  const [, source = "", flags = ""] = literal;
  if (!allowedFlags.test(flags)) {
    return { error: `invalid regular expression ${written}: flags may only be d, i, m, s, u, v (not "${flags}")` };
  }
  try {
    new RegExp(source, flags);
  } catch (error) {
    return { error: `invalid regular expression ${written}: ${(error as Error).message}` };
  }
  return { kind: "regex", source, flags };
}

export const textMatcherSchema = z
  .string()
  .min(1, "must not be empty")
  .transform((written, ctx): TextMatcher => {
    const matcher = parseTextMatcher(written);
    if ("error" in matcher) {
      ctx.addIssue({ code: "custom", message: matcher.error });
      return z.NEVER;
    }
    return matcher;
  });

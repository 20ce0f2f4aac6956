/**
 * Text into HTML and SVG, safely: everything that reaches the HTML report
 * (scenario names, Postfix reasons, SMTP lines read off the network) goes
 * through escapeMarkup first.
 */

/** C0/C1 control characters other than tab, newline and carriage return. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes a text for HTML or SVG element content and quoted attribute values.
 * Control characters (which HTML forbids and terminals interpret) become U+FFFD.
 */
export function escapeMarkup(text: string): string {
  return text.replace(CONTROL, "\uFFFD").replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

/** `name="value"` pairs, values escaped; undefined values are left out. */
export function attributes(attrs: Record<string, string | number | undefined>): string {
  return Object.entries(attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeMarkup(String(value))}"`)
    .join("");
}

/** The header fields of a raw RFC 5322 message, unfolded, in order. */
export function headerValues(source: string, name: string): string[] {
  const end = source.search(/\r?\n\r?\n/);
  const block = end === -1 ? source : source.slice(0, end);
  const fields = block.split(/\r?\n(?![ \t])/);
  const wanted = name.toLowerCase() + ":";
  return fields
    .filter((field) => field.toLowerCase().startsWith(wanted))
    .map((field) => field.slice(wanted.length).replace(/\r?\n[ \t]+/g, " ").trim());
}

import { isMap, isScalar, isSeq, type Document, type LineCounter } from "yaml";

export type FieldPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export interface Located {
  position: Position;
  /** False when the path leads to a key the document does not have: position is then its parent mapping. */
  found: boolean;
}

/** Finds where a field of a parsed document is written: a scalar value, else its key. */
export type Locator = (path: FieldPath, prefer?: "key" | "value") => Located;

interface Ranged {
  range?: readonly [number, number, number] | null;
}

export function yamlLocator(document: Document, lineCounter: LineCounter): Locator {
  const positionOf = (node: unknown, fallback: Position): Position => {
    const offset = (node as Ranged | null)?.range?.[0];
    if (offset === undefined) return fallback;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  return (path, prefer = "value") => {
    let node: unknown = document.contents;
    let position = positionOf(node, { line: 1, column: 1 });
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) return { position, found: false };
        const keyPosition = positionOf(pair.key, position);
        const value = pair.value;
        const showValue = prefer === "value" && isScalar(value) && value.range;
        position = showValue ? positionOf(value, keyPosition) : keyPosition;
        node = value;
      } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
        node = node.items[segment];
        position = positionOf(node, position);
      } else {
        return { position, found: false };
      }
    }
    return { position, found: true };
  };
}

/** `expect.tls.version`, `matrix.cells[2].when`. */
export function formatFieldPath(path: FieldPath): string {
  return path.reduce<string>(
    (text, segment) => (typeof segment === "number" ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
    "",
  );
}

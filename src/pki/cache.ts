import { createHash, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";

// The cache is a set of entries; an entry is a directory of files that only
// make sense together (a certificate and its key). Entries are built in a
// private temp directory and renamed into place in one step, so another
// process sees either no entry or a complete one — never a certificate
// paired with some other process's key. rename(2) refuses to replace a
// non-empty directory, which also settles races: the first entry to land
// wins and everybody else uses it.

export interface EntryFile {
  file: string;
  mode: number;
}

export type EntryLayout<K extends string> = Record<K, EntryFile>;
export type EntryContents<K extends string> = Record<K, string>;

/** SHA-256 of a canonical JSON rendering: equal specs give equal names whatever their key order. */
export function specHash(spec: unknown): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export interface ObtainOptions<K extends string> {
  /** Returns why cached contents cannot be used (expired, damaged…), or undefined if they can. */
  problem: (contents: EntryContents<K>) => string | undefined;
  /** May be async: WebCrypto signing (ECDSA and variant certificates) is. */
  create: () => EntryContents<K> | Promise<EntryContents<K>>;
}

/** Returns the entry at `dir`, creating (or replacing an unusable) one when needed. */
export async function obtainEntry<K extends string>(
  dir: string,
  layout: EntryLayout<K>,
  options: ObtainOptions<K>,
): Promise<{ contents: EntryContents<K>; created: boolean }> {
  const cached = await readEntry(dir, layout);
  if (cached === "missing") {
    // Nothing to evict: removing here could delete an entry another process
    // installs in the meantime.
  } else if (cached === "damaged" || options.problem(cached) !== undefined) {
    await evictEntry(dir);
  } else {
    return { contents: cached, created: false };
  }

  const contents = await options.create();
  if (await installEntry(dir, layout, contents)) return { contents, created: true };
  const winner = await readEntry(dir, layout);
  if (typeof winner === "string") {
    throw new Error(`pki cache: ${dir} appeared while this process was filling it, but it is ${winner}`);
  }
  return { contents: winner, created: false };
}

async function readEntry<K extends string>(
  dir: string,
  layout: EntryLayout<K>,
): Promise<EntryContents<K> | "missing" | "damaged"> {
  try {
    await fs.stat(dir);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return "missing";
    throw error;
  }
  const contents = {} as EntryContents<K>;
  for (const key of Object.keys(layout) as K[]) {
    const { file, mode } = layout[key];
    const filePath = path.join(dir, file);
    try {
      contents[key] = await fs.readFile(filePath, "utf8");
      // Someone may have loosened a key file's mode since it was written.
      const stat = await fs.stat(filePath);
      if ((stat.mode & 0o777) !== mode) await fs.chmod(filePath, mode);
    } catch (error) {
      if (isErrno(error, "ENOENT")) return "damaged";
      throw error;
    }
  }
  return contents;
}

/** True if this call's entry landed; false if another process's entry was already there. */
async function installEntry<K extends string>(
  dir: string,
  layout: EntryLayout<K>,
  contents: EntryContents<K>,
): Promise<boolean> {
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true, mode: 0o700 });
  // Same parent as the target, so the final rename never crosses filesystems.
  const temp = await fs.mkdtemp(path.join(parent, `.tmp-${path.basename(dir)}-`));
  try {
    for (const key of Object.keys(layout) as K[]) {
      const { file, mode } = layout[key];
      await writeFileDurably(path.join(temp, file), contents[key], mode);
    }
    await fs.rename(temp, dir);
    return true;
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    if (isErrno(error, "ENOTEMPTY") || isErrno(error, "EEXIST")) return false;
    throw error;
  }
}

async function writeFileDurably(filePath: string, data: string, mode: number): Promise<void> {
  const handle = await fs.open(filePath, "wx", mode);
  try {
    await handle.writeFile(data, "utf8");
    // The open() mode is filtered through the umask; set it explicitly.
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves the entry aside before deleting it, so readers never see it half-removed. */
async function evictEntry(dir: string): Promise<void> {
  const trash = path.join(path.dirname(dir), `.evicted-${path.basename(dir)}-${randomUUID()}`);
  try {
    await fs.rename(dir, trash);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return; // another process evicted it first
    throw error;
  }
  await fs.rm(trash, { recursive: true, force: true });
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).code === code;
}

/** Finding scenario files and reading them as text, refusing what cannot be a scenario file. */
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { ScenarioProblem } from "./errors.js";

export const maxScenarioFileBytes = 1024 * 1024;
const scenarioExtension = /\.ya?ml$/i;

export interface ScenarioFile {
  absolute: string;
  /** As shown in messages and reports: relative to the working directory. */
  shown: string;
}

export interface FoundFiles {
  files: ScenarioFile[];
  problems: ScenarioProblem[];
}

/** Files as given, directories searched recursively for *.yaml and *.yml (sorted); each file once. */
export async function findScenarioFiles(paths: readonly string[], cwd: string): Promise<FoundFiles> {
  const found: FoundFiles = { files: [], problems: [] };
  const seen = new Set<string>();
  const shownAs = (absolute: string) => path.relative(cwd, absolute) || absolute;
  const add = async (absolute: string) => {
    const real = await realpath(absolute);
    if (seen.has(real)) return;
    seen.add(real);
    found.files.push({ absolute, shown: shownAs(absolute) });
  };

  for (const given of paths) {
    const absolute = path.resolve(cwd, given);
    const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) {
      found.problems.push({ file: shownAs(absolute), message: describeFsError(info) });
    } else if (info.isDirectory()) {
      const inside = await filesUnder(absolute, new Set());
      if (inside.length === 0) found.problems.push({ file: shownAs(absolute), message: "no *.yaml or *.yml file in this directory" });
      for (const file of inside) await add(file);
    } else {
      await add(absolute);
    }
  }
  return found;
}

async function filesUnder(directory: string, visited: Set<string>): Promise<string[]> {
  const real = await realpath(directory);
  if (visited.has(real)) return [];
  visited.add(real);
  const entries = (await readdir(directory)).filter((name) => !name.startsWith(".")).sort();
  const files: string[] = [];
  for (const name of entries) {
    const entry = path.join(directory, name);
    const info = await stat(entry).catch(() => undefined); // a dangling link inside a directory is not ours to judge
    if (info?.isDirectory()) files.push(...(await filesUnder(entry, visited)));
    else if (info?.isFile() && scenarioExtension.test(name)) files.push(entry);
  }
  return files;
}

/** The file's text, or why it is not a scenario file. */
export async function readScenarioFile(file: ScenarioFile): Promise<{ text: string } | { problem: ScenarioProblem }> {
  const refuse = (message: string, line?: number) => ({ problem: { file: file.shown, ...(line && { line }), message } });
  try {
    const { size } = await stat(file.absolute);
    if (size > maxScenarioFileBytes) return refuse(`file too large (${size} bytes; a scenario file is at most 1 MiB)`);
    const bytes = await readFile(file.absolute);
    const nul = bytes.indexOf(0);
    if (nul >= 0) return refuse("binary file (NUL byte); a scenario file is YAML text", lineOfByte(bytes, nul));
    try {
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      return refuse("not UTF-8 text; a scenario file is YAML text in UTF-8");
    }
  } catch (error) {
    return refuse(describeFsError(error as NodeJS.ErrnoException));
  }
}

function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset; index += 1) if (bytes[index] === 0x0a) line += 1;
  return line;
}

function describeFsError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return error.message;
  }
}

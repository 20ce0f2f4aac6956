/** Where the package's own files are, whether the harness runs from src/ (tests) or dist/ (the CLI). */
import path from "node:path";
import { fileURLToPath } from "node:url";

export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
}

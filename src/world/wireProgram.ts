/**
 * The wire's program as JavaScript files for /opt/wire in its container.
 * From dist/ (the CLI, the published package) they are the compiled
 * dist/wire/*.js; from src/ (vitest runs the TypeScript directly) the
 * sources in src/wire are transpiled here with the TypeScript compiler, for
 * the target src/wire/tsconfig.json names, so a test never runs a stale
 * build of the wire.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** File name in /opt/wire → its JavaScript. */
export type WireProgram = Record<string, string>;

const here = fileURLToPath(import.meta.url);
const wireDir = path.join(path.dirname(here), "..", "wire");

export async function wireProgram(): Promise<WireProgram> {
  const fromSources = here.endsWith(".ts");
  const names = (await readdir(wireDir)).filter((name) =>
    fromSources ? name.endsWith(".ts") && !name.endsWith(".d.ts") : name.endsWith(".js"),
  );
  if (!names.includes(fromSources ? "main.ts" : "main.js")) {
    throw new Error(`the wire's program is missing in ${wireDir} (run \`npm run build\`)`);
  }
  const program: WireProgram = {};
  if (!fromSources) {
    for (const name of names) program[name] = await readFile(path.join(wireDir, name), "utf8");
    return program;
  }
  // typescript is a development dependency: present whenever the sources are.
  const { default: ts } = await import("typescript");
  // The wire's own tsconfig says which Node it targets (its container's nodejs 18).
  const configFile = path.join(wireDir, "tsconfig.json");
  const { config, error } = ts.readConfigFile(configFile, (file) => ts.sys.readFile(file));
  if (error) throw new Error(`${configFile}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, wireDir);
  for (const name of names) {
    const source = await readFile(path.join(wireDir, name), "utf8");
    const output = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: { target: options.target ?? ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
    });
    program[name.replace(/\.ts$/, ".js")] = output.outputText;
  }
  return program;
}

/**
 * The wire's program as it goes into its container (src/world/wireProgram.ts):
 * every file of src/wire transpiled, every import resolving inside the
 * program, and the modules loading in a bare folder with nothing else around.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { wireProgram } from "../../src/world/wireProgram.js";

it("holds the dialogue model, imports nothing from outside, and loads on its own", async () => {
  const program = await wireProgram();
  expect(Object.keys(program)).toEqual(expect.arrayContaining(["main.js", "proxy.js", "recorder.js", "dialogue.js", "transcript.js"]));
  for (const [name, code] of Object.entries(program)) {
    const imports = [...code.matchAll(/\bfrom\s+"([^"]+)"/g)].map((m) => m[1] ?? "");
    for (const target of imports) {
      if (target.startsWith("node:")) continue;
      expect(target, `${name} imports ${target}`).toMatch(/^\.\/[^/]+\.js$/);
      expect(Object.keys(program), `${name} imports ${target}`).toContain(target.slice(2));
    }
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "wire-program-"));
  try {
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    for (const [name, code] of Object.entries(program)) writeFileSync(path.join(dir, name), code);
    // Everything but main.js, which starts listening when loaded.
    const modules = Object.keys(program).filter((name) => name !== "main.js");
    const script = `for (const m of ${JSON.stringify(modules)}) await import("./" + m); console.log("loaded");`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, encoding: "utf8" });
    expect(out.trim()).toBe("loaded");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

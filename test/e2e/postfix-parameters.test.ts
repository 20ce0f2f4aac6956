/**
 * The parameter names `validate` knows (schema/postfix-parameters/) must be
 * those of the Postfix the harness really runs: the image is asked again, by
 * the same script that recorded them, and any difference fails, so the list
 * cannot go stale when docker/mta or its Debian release changes.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { postfixParametersDir, recordedLines } from "../../src/scenario/postfixNames.js";
import { ensureImage } from "../../src/world/images.js";
import { defaultCacheDir } from "../../src/world/world.js";

const run = promisify(execFile);
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "postfix-parameters-"));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test("the recorded names of the provider image's release are its postconf -d, service-defined names included", async () => {
  const { tag } = await ensureImage("mta", path.join(defaultCacheDir(), "locks"));
  const { stdout } = await run("bash", [path.join(packageRoot(), "scripts", "record-postfix-parameters.sh"), tag], {
    env: { ...process.env, POSTFIX_PARAMETERS_DIR: scratch },
  });
  const release = /^recorded Postfix (\d+\.\d+)\.\d+ from /m.exec(stdout)?.[1];
  expect(release, `the script recorded no release from ${tag}: ${stdout}`).toBeDefined();

  for (const file of [`${release}.txt`, `${release}.service-suffixes.txt`]) {
    const committed = recordedLines(path.join(postfixParametersDir(), file));
    const fromImage = recordedLines(path.join(scratch, file));
    expect(fromImage.length).toBeGreaterThan(0);
    expect(committed, `schema/postfix-parameters/${file} is stale: run scripts/record-postfix-parameters.sh`).toEqual(fromImage);
  }
});

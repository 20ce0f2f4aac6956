/**
 * The parameter names `validate` knows (schema/postfix-parameters/) must be
 * those of the Postfix the harness really runs: the image is asked again, by
 * the same script that recorded them, and any difference fails, so the list
 * cannot go stale when docker/mta or its Debian release changes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { packageRoot } from "../../src/paths.js";
import { postfixParametersDir, recordedLines } from "../../src/scenario/postfixNames.js";
import { execFile, execFileSync } from "node:child_process";
import { DEBIAN_RELEASE_OF, POSTFIX_RELEASES } from "../../src/core/releases.js";
import { baseImageOf, ensureImage } from "../../src/world/images.js";
import { defaultCacheDir } from "../../src/world/world.js";

const run = promisify(execFile);
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "postfix-parameters-"));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** forky (3.11) is built only when a run asks for it: its list is checked wherever its base image exists. */
function baseImagePresent(suite: Parameters<typeof baseImageOf>[0]): boolean {
  try {
    execFileSync("docker", ["image", "inspect", baseImageOf(suite)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test.for(POSTFIX_RELEASES.map((release) => ({ release, suite: DEBIAN_RELEASE_OF[release].suite })))(
  "the recorded names of Postfix $release ($suite) are its postconf -d, service-defined names included",
  async ({ release: asked, suite }, { skip }) => {
    if (asked === "3.11" && !baseImagePresent(suite)) skip(`no ${baseImageOf(suite)} on this machine: 3.11 is built only when a run asks for it`);
    const { tag } = await ensureImage("mta", path.join(defaultCacheDir(), "locks"), () => {}, asked);
    const { stdout } = await run("bash", [path.join(packageRoot(), "scripts", "record-postfix-parameters.sh"), tag], {
      env: { ...process.env, POSTFIX_PARAMETERS_DIR: scratch },
    });
    const release = /^recorded Postfix (\d+\.\d+)\.\d+ from /m.exec(stdout)?.[1];
    expect(release, `the script recorded no release from ${tag}: ${stdout}`).toBe(asked);

    for (const file of [`${asked}.txt`, `${asked}.service-suffixes.txt`]) {
      const committed = recordedLines(path.join(postfixParametersDir(), file));
      const fromImage = recordedLines(path.join(scratch, file));
      expect(fromImage.length).toBeGreaterThan(0);
      expect(committed, `schema/postfix-parameters/${file} is stale: run scripts/record-postfix-parameters.sh`).toEqual(fromImage);
    }
  },
);

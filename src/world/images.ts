/**
 * The images of the test world. The base images (one per Debian release:
 * starttls-lab/<suite>:base) are made by docker/setup.sh (pulled, or built
 * with mmdebstrap where no registry answers), which the harness runs itself
 * for a missing one when it can. The world's images are built here, each
 * tagged with a hash of its folders and its base image's id, so each is
 * rebuilt only when its files or its base change:
 *   - docker/mta, once per Postfix release a run uses, on that release's
 *     Debian (starttls-lab/mta-3.10:trixie-<hash>-<base id>);
 *   - docker/exim and docker/opensmtpd, the other MTAs, on trixie;
 *   - docker/wire and docker/dns, on bookworm whatever the providers run:
 *     they stand in for the network, not for a mail server under test, and
 *     bookworm is the release their packages (nodejs 18, knot, unbound,
 *     postfix-mta-sts-resolver) were checked on.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { DEBIAN_RELEASE_OF, type DebianRelease, type PostfixRelease } from "../core/releases.js";
import { packageRoot } from "../paths.js";
import { withLock } from "./buildLock.js";
import { dockerClient } from "./docker.js";

type DebianSuite = DebianRelease["suite"];

/** The Debian release of the images that do not depend on the Postfix release (wire, dns). */
const INFRASTRUCTURE_SUITE: DebianSuite = "bookworm";

export function baseImageOf(suite: DebianSuite): string {
  return `starttls-lab/${suite}:base`;
}

/** The images the harness builds, each from docker/<name>: Postfix's (mta), the other MTAs', and the network's. */
export type WorldImage = "mta" | "exim" | "opensmtpd" | "wire" | "dns";

/** The Debian release the other MTAs come from: stable's Exim 4.98 (GnuTLS) and OpenSMTPD 7.6. */
const OTHER_MTA_SUITE: DebianSuite = "trixie";

/**
 * Folders of docker/ an image's Dockerfile copies from besides its own:
 * every mail provider image installs the same Dovecot configuration. The
 * build context is docker/ itself, holding only these folders, so a
 * Dockerfile names its files with their folder (COPY mta/main.cf …).
 */
const SHARED_FOLDERS: Record<WorldImage, readonly string[]> = { mta: ["dovecot"], exim: ["dovecot"], opensmtpd: ["dovecot"], wire: [], dns: [] };

/**
 * The docker/ folder with the image definitions: the repository's, wherever
 * the harness runs from (src/ or dist/), unless STARTTLS_LAB_DOCKER_DIR
 * names another (a fork's images, or a deliberately broken one in tests).
 */
export function dockerDir(): string {
  return process.env.STARTTLS_LAB_DOCKER_DIR ?? path.join(packageRoot(), "docker");
}

export class ImageBuildError extends Error {
  constructor(
    readonly image: string,
    readonly logTail: string[],
    reason: string,
  ) {
    super(`Building image ${image} failed: ${reason}\n--- last lines of the build log ---\n${logTail.join("\n")}`);
    this.name = "ImageBuildError";
  }
}

/** The files of the given folders of docker/, as paths relative to it, sorted. */
async function contextFiles(folders: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const folder of folders) {
    const entries = await readdir(path.join(dockerDir(), folder), { recursive: true, withFileTypes: true });
    for (const entry of entries) if (entry.isFile()) files.push(path.relative(dockerDir(), path.join(entry.parentPath, entry.name)));
  }
  return files.sort();
}

/** sha256 over every file's path (relative to docker/) and bytes in the given folders, first 12 hex digits. */
export async function contextHash(folders: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await contextFiles(folders)) {
    hash.update(file).update("\0").update(await readFile(path.join(dockerDir(), file))).update("\0");
  }
  return hash.digest("hex").slice(0, 12);
}

async function isDirectory(folder: string): Promise<boolean> {
  return stat(folder).then((info) => info.isDirectory(), () => false);
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await dockerClient().getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/** How to make a base image by hand: the exact command. */
function setupCommand(suite: DebianSuite): string {
  return `sudo bash ${path.join(packageRoot(), "docker", "setup.sh")} ${suite}`;
}

/**
 * Make sure starttls-lab/<suite>:base exists: as root the harness runs
 * docker/setup.sh for it (its "setup: …" lines become progress lines);
 * otherwise it stops with the exact command to run.
 */
export async function ensureBaseImage(suite: DebianSuite, lockDir: string, onProgress: (line: string) => void = () => {}): Promise<void> {
  const image = baseImageOf(suite);
  if (await imageExists(image)) return;
  if (process.getuid?.() !== 0) {
    throw new ImageBuildError(image, [], `the base image is missing.\n  Fix: run \`${setupCommand(suite)}\` once (it pulls or builds ${image}).`);
  }
  await withLock(
    lockDir,
    image,
    async () => {
      if (await imageExists(image)) return;
      onProgress(`making the base image ${image} with docker/setup.sh ${suite}`);
      await runSetup(suite, onProgress);
      if (!(await imageExists(image))) throw new ImageBuildError(image, [], `docker/setup.sh ${suite} ended without making it.\n  Fix: run \`${setupCommand(suite)}\` and read its messages.`);
    },
    () => onProgress(`waiting for another process making ${image}`),
  );
}

function runSetup(suite: DebianSuite, onProgress: (line: string) => void): Promise<void> {
  const child = spawn("bash", [path.join(packageRoot(), "docker", "setup.sh"), suite], { stdio: ["ignore", "ignore", "pipe"] });
  const logTail: string[] = [];
  createInterface({ input: child.stderr }).on("line", (line) => {
    logTail.push(line);
    if (logTail.length > 30) logTail.shift();
    if (line.startsWith("setup: ")) onProgress(line);
  });
  return new Promise((resolve, reject) => {
    child.once("error", (error) => reject(new ImageBuildError(baseImageOf(suite), logTail, error.message)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new ImageBuildError(baseImageOf(suite), logTail, `docker/setup.sh ${suite} failed (${signal ?? `exit ${code}`}).\n  Fix: run \`${setupCommand(suite)}\` and read its messages.`));
    });
  });
}

export interface EnsuredImage {
  tag: string;
  built: boolean;
  durationMs: number;
}

/**
 * Build docker/<name> unless its tag already exists: the mta image for the
 * given Postfix release (on that release's Debian), exim and opensmtpd on
 * trixie, the wire and the dns on bookworm. `lockDir` serialises builds across processes (parallel test files).
 */
export function ensureImage(name: "mta", lockDir: string, onProgress: (line: string) => void, release: PostfixRelease): Promise<EnsuredImage>;
export function ensureImage(name: Exclude<WorldImage, "mta">, lockDir: string, onProgress?: (line: string) => void): Promise<EnsuredImage>;
export async function ensureImage(
  name: WorldImage,
  lockDir: string,
  onProgress: (line: string) => void = () => {},
  release?: PostfixRelease,
): Promise<EnsuredImage> {
  const started = Date.now();
  const suite = release !== undefined ? DEBIAN_RELEASE_OF[release].suite : name === "exim" || name === "opensmtpd" ? OTHER_MTA_SUITE : INFRASTRUCTURE_SUITE;
  const folders = [name, ...SHARED_FOLDERS[name]];
  for (const folder of folders) {
    if (!(await isDirectory(path.join(dockerDir(), folder)))) {
      throw new ImageBuildError(`starttls-lab/${name}`, [], `${path.join(dockerDir(), folder)} is missing: docker/${name} needs docker/${folder} beside it.`);
    }
  }
  await ensureBaseImage(suite, lockDir, onProgress);
  const baseImage = baseImageOf(suite);
  const baseId = (await dockerClient().getImage(baseImage).inspect()).Id.replace("sha256:", "").slice(0, 12);
  // The base image's id is part of the tag: a rebuilt base means rebuilt images.
  const hash = await contextHash(folders);
  const tag = release !== undefined ? `starttls-lab/${name}-${release}:${suite}-${hash}-${baseId}` : `starttls-lab/${name}:${hash}-${baseId}`;
  if (await imageExists(tag)) return { tag, built: false, durationMs: Date.now() - started };

  return withLock(
    lockDir,
    tag,
    async () => {
      // Another process may have built it while this one waited for the lock.
      if (await imageExists(tag)) return { tag, built: false, durationMs: Date.now() - started };
      onProgress(`building image ${tag} on ${baseImage} (first run after a change in docker/${name} or its base; about a minute)`);
      await buildImage(name, folders, tag, baseImage, onProgress);
      return { tag, built: true, durationMs: Date.now() - started };
    },
    () => onProgress(`waiting for another process building ${tag}`),
  );
}

async function buildImage(name: WorldImage, folders: readonly string[], tag: string, baseImage: string, onProgress: (line: string) => void): Promise<void> {
  const docker = dockerClient();
  const src = await contextFiles(folders);
  const logTail: string[] = [];
  const remember = (text: string) => {
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      logTail.push(line);
      if (logTail.length > 30) logTail.shift();
      if (/^Step \d+\/\d+/.test(line)) onProgress(line.trim());
    }
  };
  // forcerm: the classic builder keeps the container of a failed step unless told.
  const stream = await docker.buildImage({ context: dockerDir(), src }, { t: tag, dockerfile: `${name}/Dockerfile`, buildargs: { BASE_IMAGE: baseImage }, forcerm: true });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: Array<{ error?: string }>) => {
        const failed = error?.message ?? output.find((event) => event.error)?.error;
        if (failed) reject(new ImageBuildError(tag, logTail, failed));
        else resolve();
      },
      (event: { stream?: string; error?: string }) => {
        if (event.stream) remember(event.stream);
        if (event.error) remember(event.error);
      },
    );
  });
  if (!(await imageExists(tag))) throw new ImageBuildError(tag, logTail, "the engine reported no error but the image is missing");
}

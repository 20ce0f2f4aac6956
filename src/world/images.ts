/**
 * The images of the test world. The base image (Debian bookworm) is made by
 * docker/setup.sh (pulled, or built with mmdebstrap where no registry
 * answers); the world's images (docker/mta, docker/wire) are built here and
 * tagged with a hash of their folder, so each is rebuilt only when its files
 * change.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { packageRoot } from "../paths.js";
import { withLock } from "./buildLock.js";
import { dockerClient } from "./docker.js";

export const BASE_IMAGE = "starttls-lab/bookworm:base";

/** The images the harness builds, each from docker/<name>, tagged starttls-lab/<name>:<hash>. */
export type WorldImage = "mta" | "wire" | "dns";

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

/** sha256 over every file's relative path and bytes in a build context, first 12 hex digits. */
export async function contextHash(contextDir: string): Promise<string> {
  const hash = createHash("sha256");
  const files = (await readdir(contextDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(contextDir, path.join(entry.parentPath, entry.name)))
    .sort();
  for (const file of files) {
    hash.update(file).update("\0").update(await readFile(path.join(contextDir, file))).update("\0");
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

export async function assertBaseImage(): Promise<void> {
  if (!(await imageExists(BASE_IMAGE))) {
    throw new ImageBuildError(BASE_IMAGE, [], `the base image is missing.\n  Fix: run \`sudo bash docker/setup.sh\` once (it pulls or builds ${BASE_IMAGE}).`);
  }
}

export interface EnsuredImage {
  tag: string;
  built: boolean;
  durationMs: number;
}

/**
 * Build docker/<name> as starttls-lab/<name>:<hash> unless that tag already
 * exists. `lockDir` serialises builds across processes (parallel test files).
 */
export async function ensureImage(name: WorldImage, lockDir: string, onProgress: (line: string) => void = () => {}): Promise<EnsuredImage> {
  const started = Date.now();
  const context = path.join(dockerDir(), name);
  if (!(await isDirectory(context))) {
    throw new ImageBuildError(`starttls-lab/${name}`, [], `${context} is missing: the world needs docker/${name} beside docker/mta.`);
  }
  const baseId = (await dockerClient().getImage(BASE_IMAGE).inspect()).Id.replace("sha256:", "").slice(0, 12);
  // The base image's id is part of the tag: a rebuilt base means rebuilt images.
  const tag = `starttls-lab/${name}:${await contextHash(context)}-${baseId}`;
  if (await imageExists(tag)) return { tag, built: false, durationMs: Date.now() - started };

  return withLock(
    lockDir,
    tag,
    async () => {
      // Another process may have built it while this one waited for the lock.
      if (await imageExists(tag)) return { tag, built: false, durationMs: Date.now() - started };
      onProgress(`building image ${tag} (first run after a change in docker/${name}; about a minute)`);
      await buildImage(context, tag, onProgress);
      return { tag, built: true, durationMs: Date.now() - started };
    },
    () => onProgress(`waiting for another process building ${tag}`),
  );
}

async function buildImage(context: string, tag: string, onProgress: (line: string) => void): Promise<void> {
  const docker = dockerClient();
  const src = (await readdir(context, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(context, path.join(entry.parentPath, entry.name)));
  const logTail: string[] = [];
  const remember = (text: string) => {
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      logTail.push(line);
      if (logTail.length > 30) logTail.shift();
      if (/^Step \d+\/\d+/.test(line)) onProgress(line.trim());
    }
  };
  const stream = await docker.buildImage({ context, src }, { t: tag, buildargs: { BASE_IMAGE } });
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

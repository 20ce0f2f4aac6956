/**
 * A lock across processes (vitest runs test files in parallel, each starting
 * a world) so that one image is built once, not once per process, and one
 * kept world is used by one process at a time. The lock
 * is a directory (mkdir is atomic) holding the owner's pid; a lock whose
 * owner died is taken over. Waiting wakes on the lock's removal (fs.watch),
 * with a periodic re-check in case an event is missed.
 */
import { watch } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const RECHECK_MS = 2_000;

/** Whether a process of this pid exists on this host (one we may not signal counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function tryAcquire(lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir);
    await writeFile(path.join(lockDir, "pid"), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const owner = Number(await readFile(path.join(lockDir, "pid"), "utf8").catch(() => ""));
    // An owner that has not written its pid yet is alive (it just made the directory).
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      await rm(lockDir, { recursive: true, force: true });
      return tryAcquire(lockDir);
    }
    return false;
  }
}

function lockReleased(lockDir: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(path.dirname(lockDir), () => finish());
    const timer = setTimeout(() => finish(), RECHECK_MS);
    function finish() {
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
  });
}

async function lockPath(dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return path.join(dir, `${name.replace(/[^a-zA-Z0-9_.-]/g, "_")}.lock`);
}

/** The named lock in `dir` if nobody holds it now, as the function that releases it; undefined if another process holds it. */
export async function tryLock(dir: string, name: string): Promise<(() => Promise<void>) | undefined> {
  const lockDir = await lockPath(dir, name);
  if (!(await tryAcquire(lockDir))) return undefined;
  return () => rm(lockDir, { recursive: true, force: true });
}

/** Run `work` while holding the named lock in `dir`; `onWait` is told once if another process holds it. */
export async function withLock<T>(dir: string, name: string, work: () => Promise<T>, onWait: () => void = () => {}): Promise<T> {
  const lockDir = await lockPath(dir, name);
  let told = false;
  while (!(await tryAcquire(lockDir))) {
    if (!told) onWait();
    told = true;
    await lockReleased(lockDir);
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tryLock, withLock } from "../../src/world/buildLock.js";

describe("the image build lock", () => {
  it("lets one holder work at a time; the other waits and is told so", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lock-"));
    const events: string[] = [];
    const signal = () => {
      let fire!: () => void;
      const fired = new Promise<void>((resolve) => (fire = resolve));
      return { fire, fired };
    };
    const firstIn = signal();
    const secondWaits = signal();
    const firstMayFinish = signal();
    const first = withLock(dir, "mta:abc", async () => {
      events.push("first in");
      firstIn.fire();
      await firstMayFinish.fired;
      events.push("first out");
    });
    await firstIn.fired;
    const second = withLock(
      dir,
      "mta:abc",
      async () => {
        events.push("second in");
      },
      () => {
        events.push("second waits");
        secondWaits.fire();
      },
    );
    await secondWaits.fired;
    firstMayFinish.fire();
    await Promise.all([first, second]);
    expect(events).toEqual(["first in", "second waits", "first out", "second in"]);
  });

  it("takes over a lock whose owner process is gone", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lock-"));
    const stale = path.join(dir, "mta_abc.lock");
    await mkdir(stale);
    await writeFile(path.join(stale, "pid"), "999999999");
    await expect(withLock(dir, "mta:abc", async () => "built")).resolves.toBe("built");
  });

  it("tryLock takes a free lock, refuses a held one without waiting, and a released or abandoned one is free again", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lock-"));
    const release = await tryLock(dir, "world-a");
    expect(release).toBeTypeOf("function");
    await expect(tryLock(dir, "world-a")).resolves.toBeUndefined();
    // Another name is another lock.
    const other = await tryLock(dir, "world-b");
    expect(other).toBeTypeOf("function");
    await release!();
    const again = await tryLock(dir, "world-a");
    expect(again).toBeTypeOf("function");
    // The holder died without releasing.
    await writeFile(path.join(dir, "world-b.lock", "pid"), "999999999");
    await expect(tryLock(dir, "world-b")).resolves.toBeTypeOf("function");
  });
});

import { expect } from "chai";
import { mkdir, mkdtemp, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireDataDirLock } from "../../lib/provision/data-dir-lock";
import { ConflictError } from "../../lib/errors";

describe("acquireDataDirLock", () => {
  it("takes over the lock of a process that died without releasing it, once the lock has gone stale", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-lock-"));
    // What a crashed holder leaves: the lock, no longer refreshed.
    await mkdir(join(dir, "service.lock"));
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(join(dir, "service.lock"), longAgo, longAgo);
    const lock = await acquireDataDirLock(dir, { staleMs: 5_000 });
    await lock.release();
  });

  it("waits for a live holder as long as asked, then refuses naming the directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-lock-"));
    const holder = await acquireDataDirLock(dir);
    const started = Date.now();
    try {
      await acquireDataDirLock(dir, { waitMs: 1_500 });
      expect.fail("took a lock another process holds");
    } catch (err) {
      expect(err).to.be.instanceOf(ConflictError);
      expect((err as Error).message).to.include(dir);
      expect(Date.now() - started).to.be.at.least(1_000);
    } finally {
      await holder.release();
    }
  });

  it("gets the lock as soon as the holder releases it while it waits", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-lock-"));
    const holder = await acquireDataDirLock(dir);
    setTimeout(() => void holder.release(), 300);
    const lock = await acquireDataDirLock(dir, { waitMs: 5_000 });
    await lock.release();
  });
});

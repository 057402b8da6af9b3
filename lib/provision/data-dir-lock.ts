import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import * as lockfile from "proper-lockfile";
import { ConflictError } from "../errors";

export interface DataDirLock {
  release(): Promise<void>;
}

export interface DataDirLockOptions {
  /** A lock not refreshed for this long is taken over (its process died without releasing it). @default 30000 */
  staleMs?: number;
  /** Called if another process takes the lock over while we hold it; the service must stop. @default throws */
  onCompromised?: (err: Error) => void;
  /** Keep trying this long while the lock is held (a crashed holder's lock goes stale after `staleMs`). @default 0 */
  waitMs?: number;
}

/**
 * One provisioner process per data directory: stack locks, operation queues and restart recovery
 * live in the process, and a second one would mark the first one's running operations interrupted
 * and start recovering them. The lock is refreshed while held, so a crashed holder's lock goes stale.
 */
export async function acquireDataDirLock(dataDir: string, options: DataDirLockOptions = {}): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const lockfilePath = join(dataDir, "service.lock");
  const stale = options.staleMs ?? 30_000;
  try {
    const wait = options.waitMs ?? 0;
    // Retries every second or so until `wait` has passed.
    const retries = wait > 0 ? { retries: Math.ceil(wait / 1000), factor: 1, minTimeout: 1000, maxTimeout: 1000 } : 0;
    const release = await lockfile.lock(dataDir, { lockfilePath, stale, update: Math.max(1000, Math.floor(stale / 3)), realpath: false, retries, ...(options.onCompromised ? { onCompromised: options.onCompromised } : {}) });
    return { release: () => release().catch(() => undefined) };
  } catch (err) {
    if ((err as { code?: string }).code === "ELOCKED")
      throw new ConflictError(`data directory ${dataDir} is in use by another provisioner process (lock ${lockfilePath}); stop it, or start this one with another --data-dir`, undefined, { cause: err });
    throw err;
  }
}

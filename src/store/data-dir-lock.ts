/**
 * One broker per data directory. Two processes writing one LMDB environment each keep their own
 * view of sessions and retained messages and overwrite each other's records: acknowledged
 * messages are lost. The store takes `<data-dir>/junction.lock` before it opens anything.
 *
 * With the native module the lock is flock(2) on that file: the kernel holds it for the open
 * descriptor and drops it when the process ends however it ends, so it is never stale. Without
 * it (a build without Rust) the file's pid and process start time are checked instead: a live
 * process with the same start time holds the directory; anything else is a stale lock and is
 * taken over. That check has a window (two brokers started in the same instant may both pass
 * it), which the flock does not. Either way the file names the holder, for the refusal.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreLockedError } from './errors.js';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'junction.lock';

/** What the lock file says about the process holding the directory. */
export interface LockHolder {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22); '' if unknown. */
  startTime: string;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** flock(fd, LOCK_EX | LOCK_NB) as the native module offers it: true when taken. */
export type FlockFn = (fd: number) => boolean;

/** The start time of process `pid` from /proc, or '' where there is no /proc. */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

/** True when `holder` names a process that is still running (the same one, not a reused pid). */
function holderAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // another machine (a shared volume): cannot tell, assume it runs
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStartTime(holder.pid);
  return holder.startTime === '' || now === '' || now === holder.startTime;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== 'number') return null;
    return { pid: value.pid, startTime: String(value.startTime ?? ''), host: String(value.host ?? ''), since: String(value.since ?? '') };
  } catch {
    return null;
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    return parseHolder(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** The lock on one data directory, held until release(). */
export class DataDirLock {
  private constructor(
    private fd: number,
    readonly path: string,
  ) {}

  /**
   * Takes the lock of `dataDir` (which must exist), or throws StoreLockedError naming the
   * process that holds it. `flock` is the native module's; without it the pid check decides.
   */
  static acquire(dataDir: string, flock: FlockFn | null): DataDirLock {
    const path = join(dataDir, LOCK_FILE);
    const fd = openSync(path, 'a+');
    try {
      if (flock !== null) {
        if (!flock(fd)) throw new StoreLockedError(dataDir, path, readHolder(path));
      } else {
        const holder = readHolder(path);
        if (holder !== null && holder.pid !== process.pid && holderAlive(holder)) throw new StoreLockedError(dataDir, path, holder);
      }
      const me: LockHolder = { pid: process.pid, startTime: processStartTime(process.pid), host: hostname(), since: new Date().toISOString() };
      try {
        ftruncateSync(fd, 0);
        writeSync(fd, `${JSON.stringify(me)}\n`, 0);
      } catch {
        // A full disk: the broker must still start. The flock holds regardless; only the name of
        // the holder is missing for a second broker's refusal (and the pid check has nothing to go on).
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new DataDirLock(fd, path);
  }

  /** Empties the file (no holder) and closes it, which drops the flock. */
  release(): void {
    if (this.fd < 0) return;
    try {
      ftruncateSync(this.fd, 0);
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

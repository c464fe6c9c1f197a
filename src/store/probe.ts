/**
 * The full check of a store before the broker opens it (--store-check full): a child process reads
 * every record (probe-child.ts). A damaged B-tree can make LMDB read wild memory (SIGSEGV, SIGBUS,
 * an abort in free()): no check inside the process can catch that, but the child's death can be
 * seen, and the broker then refuses to start naming the file instead of dying without a word.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreCorruptError } from './errors.js';

const CHILD = fileURLToPath(new URL('./probe-child.js', import.meta.url));

/** A minute, plus a second per 20 MB of file (reads run at hundreds of MB/s): a damaged tree may loop. */
function deadlineMs(bytes: number): number {
  return 60_000 + Math.ceil(bytes / 20_000_000) * 1000;
}

/** Reads every record of `dataDir` in a child process; throws StoreCorruptError when that fails or crashes. */
export function probeStore(dataDir: string): void {
  const file = join(dataDir, 'data.mdb');
  if (!existsSync(file)) return;
  const timeout = deadlineMs(statSync(file).size);
  const result = spawnSync(process.execPath, [CHILD, dataDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout, killSignal: 'SIGKILL' });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    throw new StoreCorruptError(file, `reading every record did not finish within ${timeout / 1000} s in a check process (a loop in a damaged tree?); --store-check header skips this read`);
  }
  if (result.error !== undefined) throw result.error;
  if (result.signal !== null) {
    throw new StoreCorruptError(file, `reading every record crashed LMDB in a check process (${result.signal})`);
  }
  if (result.status !== 0) {
    const line = result.stderr.split('\n').find((l) => /^\w*Error\b/.test(l));
    throw new StoreCorruptError(file, `reading every record failed in a check process (${line?.trim() ?? `exit ${result.status}`})`);
  }
}

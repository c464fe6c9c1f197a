/** The store's typed errors: a write that cannot be made durable, a data dir in use, a damaged file. */
import { JunctionError } from '../errors.js';
import type { LockHolder } from './data-dir-lock.js';

/**
 * 0x97 Quota exceeded: writes were not made durable, because the store reached --max-store-size
 * or its disk failed the commit (full, I/O error). Whoever waits on them is refused.
 */
export class StoreFullError extends JunctionError {
  constructor(
    message: string,
    /** 'limit' (--max-store-size) or 'disk' (the commit failed: full disk, I/O error) */
    readonly kind: 'limit' | 'disk',
  ) {
    super('JN_STORE_FULL', 0x97, message);
    this.name = 'StoreFullError';
  }
}

/** Another process holds the data directory; names it. */
export class StoreLockedError extends JunctionError {
  constructor(
    readonly dataDir: string,
    readonly lockPath: string,
    readonly holder: LockHolder | null,
  ) {
    const who =
      holder === null ? 'another process (its lock file names none)' : `process ${holder.pid}${holder.host !== '' ? ` on ${holder.host}` : ''}${holder.since !== '' ? ` since ${holder.since}` : ''}`;
    super('JN_STORE_LOCKED', 0, `${dataDir} is in use by ${who} (lock ${lockPath}): stop that broker, or give this one its own --data-dir`);
    this.name = 'StoreLockedError';
  }
}

/** The data file is damaged before LMDB could read it safely; the message names the file and what to do. */
export class StoreCorruptError extends JunctionError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(
      'JN_STORE_CORRUPT',
      0,
      `${file} is damaged: ${problem}. Junction did not open it (reading it could crash the process or serve wrong data). ` +
        `Restore the data dir from a backup, or move ${file} aside to start with an empty store`,
    );
    this.name = 'StoreCorruptError';
  }
}

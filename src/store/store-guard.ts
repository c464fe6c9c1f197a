/**
 * What the LMDB store may still write: --max-store-size against the live size (measured after
 * commits), and whether the disk refuses commits. Says so in the log when the state changes, and
 * keeps the counters of StoreHealth.
 */
import type { Logger } from '../log/logger.js';
import { StoreFullError } from './errors.js';
import { autoStoreLimit, liveBytes, type StatsSource } from './store-size.js';
import type { StoreHealth } from './types.js';

/** Live size is measured at most this often (about 40 µs per database), and at open. */
const MEASURE_INTERVAL_MS = 250;

/** What a record costs beyond its payload: key, encoded fields, the leaf entry (an estimate that errs high). */
export const RECORD_OVERHEAD_BYTES = 96;

/**
 * lmdb-js rejects a promise of its own (the turn's batch start) when a transaction fails, which no
 * caller can reach: it would end the process as an unhandled rejection although the store has
 * already failed the writes' own promises and told their waiters. Only that rejection (an Error
 * carrying lmdb-js's `commitError`) is ignored; any other is rethrown, as Node would, unless
 * another listener is there to decide.
 */
let rejectionFilterInstalled = false;
function ignoreLmdbBatchRejections(): void {
  if (rejectionFilterInstalled) return;
  rejectionFilterInstalled = true;
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof Error && 'commitError' in reason) return;
    // Another listener decides for the rest; alone, this one does what Node does without any.
    if (process.listenerCount('unhandledRejection') === 1) throw reason;
  });
}

export class StoreGuard {
  #dbs: readonly StatsSource[] = [];
  #limit = 0;
  #size = 0;
  #lastMeasure = 0;
  /**
   * Bytes put since the last measure (estimated): once the last size plus these could reach the
   * limit, the next commit measures at once instead of at the interval, so how far a fast writer
   * overshoots is one turn's batch, not the writes of a whole interval.
   */
  #pendingBytes = 0;
  /** Set while the live size is at the limit: puts are refused. */
  #limitFull: StoreFullError | null = null;
  /** Set from a failed commit until one commits again. */
  #diskFull: StoreFullError | null = null;
  #failedCommits = 0;
  #refusedWrites = 0;

  constructor(
    private readonly dataDir: string,
    /** --max-store-size; 0 = 90% of the file system */
    private readonly maxStoreSize: number,
    private readonly log: Logger | undefined,
  ) {}

  /** The store opened `dbs` (a list it keeps adding to): sets the limit and measures. */
  start(dbs: readonly StatsSource[]): void {
    ignoreLmdbBatchRejections();
    this.#dbs = dbs;
    this.#limit = this.maxStoreSize > 0 ? this.maxStoreSize : autoStoreLimit(this.dataDir);
    this.#measure(Date.now());
  }

  /** The store closed: nothing to measure any more. */
  stop(): void {
    this.#dbs = [];
  }

  /** The error a put of about `bytes` gets while the store is at --max-store-size (counted), or null. */
  refusePut(bytes: number): StoreFullError | null {
    const full = this.#limitFull;
    if (full !== null) this.#refusedWrites++;
    else this.#pendingBytes += bytes;
    return full;
  }

  /** A transaction failed (or a write threw): the error its waiters get; the first of a streak is logged. */
  commitFailed(error: unknown): StoreFullError {
    this.#failedCommits++;
    // lmdb-js rejects with "Commit failed" and puts the cause (ENOSPC, EIO, MDB_MAP_FULL) in a promise.
    const commitError = (error as { commitError?: PromiseLike<unknown> } | null)?.commitError;
    const first = this.#diskFull === null;
    const full = this.#diskFull ?? new StoreFullError(`the disk refused the store's commit in ${this.dataDir}`, 'disk');
    this.#diskFull = full;
    const report = (cause: unknown): void => {
      if (!first) return;
      this.log?.error('store commit failed: publishers waiting on it are refused (MQTT 5 0x97, 3.1.1 disconnected) until it commits again', {
        dataDir: this.dataDir,
        cause,
        hint: 'a full disk shows as an I/O error: check the free space of the file system of --data-dir (df)',
        failedCommits: this.#failedCommits,
      });
    };
    if (commitError !== undefined) commitError.then(undefined, report);
    else report(error);
    return full;
  }

  /** A transaction committed: the disk takes writes; the live size is measured now and then. */
  committed(): void {
    if (this.#diskFull !== null) {
      this.#diskFull = null;
      this.log?.info('store commits again', { dataDir: this.dataDir, failedCommits: this.#failedCommits });
    }
    const now = Date.now();
    const mayBeOver = this.#size + this.#pendingBytes >= this.#limit;
    if (mayBeOver || now - this.#lastMeasure >= MEASURE_INTERVAL_MS || this.#limitFull !== null) this.#measure(now);
  }

  /** The counters and state of StoreHealth, with the store's count of damaged records. */
  health(corruptRecords: number): StoreHealth {
    return {
      full: this.#limitFull ?? this.#diskFull,
      failedCommits: this.#failedCommits,
      refusedWrites: this.#refusedWrites,
      sizeBytes: this.#size,
      limitBytes: this.#limit,
      corruptRecords,
    };
  }

  /** Measures the live size and sets or clears the --max-store-size refusal. */
  #measure(now: number): void {
    if (this.#dbs.length === 0) return;
    this.#lastMeasure = now;
    this.#pendingBytes = 0;
    this.#size = liveBytes(this.#dbs);
    const over = this.#size >= this.#limit;
    if (over && this.#limitFull === null) {
      this.#limitFull = new StoreFullError(`the store reached --max-store-size (${this.#size} of ${this.#limit} bytes)`, 'limit');
      this.log?.warn('store at --max-store-size: new records are refused (MQTT 5 0x97, 3.1.1 disconnected) until some are removed', {
        dataDir: this.dataDir,
        sizeBytes: this.#size,
        limitBytes: this.#limit,
      });
    } else if (!over && this.#limitFull !== null) {
      this.#limitFull = null;
      this.log?.info('store below --max-store-size again: records are accepted', { dataDir: this.dataDir, sizeBytes: this.#size, limitBytes: this.#limit });
    }
  }
}

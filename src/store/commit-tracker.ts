/**
 * Which writes of the LMDB store became durable, and which did not. Writes are numbered as they
 * are issued; an afterCommit batch covers the writes issued before it was sealed. lmdb-js returns
 * one promise per transaction (every write of the transaction gets the same one), so following
 * each new promise tells which range of writes a failed commit (full disk, I/O error) lost: the
 * batches whose own writes meet that range settle with a StoreFullError, the others when
 * `flushed` says their writes are on disk. Callbacks always run, in registration order.
 */
import { reportStoreError, runCommitCallbacks } from './commit-callbacks.js';
import type { StoreFullError } from './errors.js';

/** Callbacks registered in one turn, settled by one flush (or one failure). */
class CommitBatch {
  readonly fns: Array<(arg: never, failure: StoreFullError | null) => void> = [];
  readonly args: unknown[] = [];
  /** Writes issued before this batch began taking callbacks: its own writes come after. */
  constructor(readonly startMark: number) {}
  /** Writes issued when the batch was sealed (Infinity while it still collects). */
  writeMark = Number.POSITIVE_INFINITY;
  settled = false;
  /** Why its writes are not durable; null when they are. */
  error: StoreFullError | null = null;
}

/** Writes [first, last] that went into one lmdb-js transaction. */
interface TxnRange {
  first: number;
  last: number;
}

/** What the tracker needs from its store. */
export interface CommitTrackerHooks {
  /** Resolves when every committed write is on disk; null once the store is closed. */
  flushed(): PromiseLike<unknown> | null;
  /** Turns lmdb-js's rejection of a transaction into the error its waiters get. */
  failed(error: unknown): StoreFullError;
  /** A transaction committed (the disk took writes again). */
  committed(): void;
  onError: ((error: unknown) => void) | undefined;
}

export class CommitTracker {
  #writes = 0;
  #durableWrites = 0;
  #collecting: CommitBatch | null = null;
  readonly #sealed: CommitBatch[] = [];
  #txnPromise: unknown = null;
  #txn: TxnRange = { first: 0, last: 0 };

  constructor(private readonly hooks: CommitTrackerHooks) {}

  /** Counts one write and follows the transaction promise lmdb-js returned for it. */
  wrote(promise: PromiseLike<unknown>): void {
    const n = ++this.#writes;
    if (promise === this.#txnPromise) {
      this.#txn.last = n;
      return;
    }
    this.#txnPromise = promise;
    const txn: TxnRange = { first: n, last: n };
    this.#txn = txn;
    promise.then(this.#onCommitted, (error: unknown) => this.#onFailed(txn, error));
  }

  /** A write the store refused before it reached LMDB: the batch of this turn fails with `error`. */
  refused(error: StoreFullError): void {
    const batch = this.#current();
    batch.error ??= error;
  }

  /** Queues fn(arg, failure) on the batch of this turn. */
  add<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void {
    const batch = this.#current();
    batch.fns.push(fn as (arg: never, failure: StoreFullError | null) => void);
    batch.args.push(arg);
  }

  #current(): CommitBatch {
    let batch = this.#collecting;
    if (batch === null) {
      const last = this.#sealed[this.#sealed.length - 1];
      batch = new CommitBatch(last === undefined ? this.#durableWrites : last.writeMark);
      this.#collecting = batch;
      // Sealing after the turn's synchronous code lets every write of the turn join the mark.
      queueMicrotask(this.#seal);
    }
    return batch;
  }

  readonly #onCommitted = (): void => this.hooks.committed();

  #onFailed(txn: TxnRange, error: unknown): void {
    const failure = this.hooks.failed(error);
    const failedSome = (batch: CommitBatch): void => {
      if (!batch.settled && batch.startMark < txn.last && batch.writeMark >= txn.first) {
        batch.error ??= failure;
        batch.settled = true;
      }
    };
    for (const batch of this.#sealed) failedSome(batch);
    if (this.#collecting !== null) failedSome(this.#collecting);
    // A batch sealed while the failed transaction was the newest waits on a flush that never
    // comes: ask again, now that later transactions carry the flush.
    for (const batch of this.#sealed) if (!batch.settled) this.#waitFlush(batch);
    this.#runSettled();
  }

  readonly #seal = (): void => {
    const batch = this.#collecting;
    if (batch === null) return;
    this.#collecting = null;
    batch.writeMark = this.#writes;
    this.#sealed.push(batch);
    if (batch.settled || batch.error !== null || batch.writeMark === this.#durableWrites) {
      // Failed already, or nothing pending: settle from this microtask.
      batch.settled = true;
      this.#runSettled();
      return;
    }
    this.#waitFlush(batch);
  };

  #waitFlush(batch: CommitBatch): void {
    const flushed = this.hooks.flushed();
    if (flushed === null) {
      // Closed after a final flush: nothing can be pending.
      this.#settle(batch);
      return;
    }
    flushed.then(
      () => this.#settle(batch),
      (error: unknown) => reportStoreError(this.hooks.onError, error),
    );
  }

  /** Marks batch durable and runs every settled batch in order up to the first unsettled one. */
  #settle(batch: CommitBatch): void {
    if (batch.settled) return;
    batch.settled = true;
    if (batch.writeMark > this.#durableWrites) this.#durableWrites = batch.writeMark;
    this.#runSettled();
  }

  #runSettled(): void {
    const sealed = this.#sealed;
    while (sealed.length > 0 && (sealed[0] as CommitBatch).settled) {
      const done = sealed.shift() as CommitBatch;
      runCommitCallbacks(done.fns, done.args, done.error, this.hooks.onError);
    }
  }
}

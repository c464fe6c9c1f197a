/**
 * The password hashing pool: scrypt and PBKDF2 checks on their own worker threads, one per core
 * by default (--auth-hash-threads), behind one FIFO queue.
 *
 * Why not libuv's thread pool (crypto.scrypt): it has 4 threads unless UV_THREADPOOL_SIZE is
 * set before it starts, and Node's ES module loader starts it (reading our own module files)
 * before any line of the CLI runs, so the size cannot be set from inside the process; the pool
 * is also shared with file system and DNS work, which a login storm would starve. A piscina pool
 * is sized from a flag, leaves libuv's pool alone, and the queue in front of it lets a check
 * that is no longer wanted (its address started backing off while it waited) be dropped
 * without hashing.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { StoredHash } from './password-hash.js';
import type { PasswordTask } from './password-worker.js';

/** One queued check. */
interface Waiting {
  readonly task: PasswordTask;
  /** Asked when the check reaches a thread: false drops it unhashed (resolved null). */
  readonly wanted: (() => boolean) | null;
  readonly resolve: (ok: boolean | null) => void;
  readonly reject: (err: unknown) => void;
}

/** Threads by default: one per core the process may use. */
export function defaultHashThreads(): number {
  return availableParallelism();
}

export class PasswordPool {
  private readonly pool: Piscina<PasswordTask, boolean>;
  private readonly threads: number;
  private readonly queue: Waiting[] = [];
  private head = 0;
  private running = 0;
  /** Checks hashed so far (dropped ones are not). */
  hashed = 0;

  constructor(threads: number, idleTimeoutMs = 60_000) {
    this.threads = threads;
    this.pool = new Piscina<PasswordTask, boolean>({
      filename: new URL('./password-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: idleTimeoutMs,
    });
  }

  /** Checks waiting for a thread. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /**
   * True when `password` hashes to `stored`; null when `wanted` said no once the check's turn
   * came (nothing was hashed). Checks run in arrival order, `threads` at a time.
   */
  verify(stored: StoredHash, password: Buffer, wanted: (() => boolean) | null = null): Promise<boolean | null> {
    if (stored.kind === 'sha512') throw new Error('sha512 hashes are checked inline');
    const task: PasswordTask = { kind: stored.kind, password, salt: stored.salt, hash: stored.hash, iterations: stored.iterations, N: stored.N, r: stored.r, p: stored.p };
    return new Promise((resolve, reject) => {
      this.queue.push({ task, wanted, resolve, reject });
      this.next();
    });
  }

  /** Ends the threads; checks still queued reject. */
  async destroy(): Promise<void> {
    const left = this.queue.splice(this.head);
    this.head = 0;
    this.queue.length = 0;
    for (const w of left) w.reject(new Error('password pool closed'));
    await this.pool.destroy();
  }

  private next(): void {
    while (this.running < this.threads && this.head < this.queue.length) {
      const w = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Waiting;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (w.wanted !== null && !w.wanted()) {
        w.resolve(null);
        continue;
      }
      this.running++;
      this.hashed++;
      this.pool.run(w.task).then(
        (ok) => this.settled(w, ok),
        (err: unknown) => this.failed(w, err),
      );
    }
  }

  private settled(w: Waiting, ok: boolean): void {
    this.running--;
    w.resolve(ok);
    // After the answer's handlers ran: a failure it counted may make the next check unwanted.
    setImmediate(this.continue);
  }

  private failed(w: Waiting, err: unknown): void {
    this.running--;
    w.reject(err);
    setImmediate(this.continue);
  }

  private readonly continue = (): void => this.next();
}

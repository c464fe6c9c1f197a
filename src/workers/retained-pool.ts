/**
 * The piscina pool that reads and encodes retained batches (retained-task.ts) for bulk retained
 * delivery. Threads start on the first bulk delivery and exit when idle, so a broker that never
 * serves a big wildcard subscription runs no extra threads.
 */
import { Piscina } from 'piscina';
import type { WireBatch, WireBatchRequest, WireBatchSource } from '../core/retained-bulk.js';
import type { RetainedWorkerData } from './retained-task.js';

/** How the pool is sized. */
export interface RetainedPoolOptions {
  /** Folder of the LMDB store the workers read. */
  dataDir: string;
  /** Most worker threads. */
  threads: number;
  /** ms an idle thread lives. */
  idleTimeout?: number;
}

/** A WireBatchSource backed by worker threads; destroy() ends them. */
export class RetainedWorkerPool implements WireBatchSource {
  private readonly pool: Piscina<WireBatchRequest, WireBatch>;

  constructor(options: RetainedPoolOptions) {
    const workerData: RetainedWorkerData = { dataDir: options.dataDir };
    this.pool = new Piscina<WireBatchRequest, WireBatch>({
      filename: new URL('./retained-task.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: options.idleTimeout ?? 30_000,
      workerData,
    });
  }

  /** Reads the next batch on a worker thread. */
  read(request: WireBatchRequest): Promise<WireBatch> {
    return this.pool.run(request);
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.pool.threads.length;
  }

  /** Ends every worker thread; pending reads reject. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}

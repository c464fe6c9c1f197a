/**
 * The LMDB Store: one environment under dataDir with four named databases.
 *
 *   retained  topic              -> StoredMessage
 *   sessions  clientId           -> SessionRecord
 *   queues    [clientId, seq]    -> QueuedRecord   (array keys sort element-wise: a range read)
 *   incoming  [clientId, packetId] -> true
 *
 * Writes are issued without awaiting; lmdb-js puts every write of one event-loop turn into one
 * transaction, committed on its writer thread.
 *
 * Durability. We keep lmdb-js's default `overlappingSync` (on for Linux and macOS) and never set
 * `noSync`, `noMetaSync` or `mapAsync`. With overlappingSync a transaction is first committed (visible)
 * and then fsynced outside the writer lock; the promise of a put resolves at the first step, so
 * afterCommit waits for `db.flushed` (the fsync of the newest transaction) instead. A callback
 * therefore only runs when its writes survive a kill -9 and a power cut. Waiting on `committed`
 * would be enough for kill -9 alone (the page cache outlives the process, and lmdb-js reopens the
 * last committed transaction while the boot id is unchanged), but an acknowledged QoS 1/2 message
 * must also survive the machine going down.
 *
 * Loads read committed data only: a write issued this turn is not yet seen by load*; it is once
 * an afterCommit callback registered after it runs (or flush() resolves). The memory store sees
 * writes at once, so callers must not rely on either behaviour.
 *
 * Client ids must not contain U+0000: ordered-binary keys use 0x00 to separate array elements.
 * MQTT forbids U+0000 in its strings, so no MQTT client id can.
 */
import { reportStoreError, runCommitCallbacks } from './commit-callbacks.js';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { QueuedRecord, SessionRecord, Store, StoredMessage, StoreTable } from './types.js';

type PairKey = [string, number];

/**
 * Values use lmdb-js's msgpack with shared structures (property names stored once per database
 * under this key, which sorts before every string and array key). Measured on a queued record with
 * a 64-byte payload (bench/micro/store.bench.ts): 119 bytes, ~0.9 µs encode and ~0.7 µs decode, against
 * 236 bytes, ~1.6 µs and ~2.1 µs for plain msgpack; a hand-written codec was barely faster
 * (136 bytes, ~0.6 µs each way) and would be one more format to keep in step with types.ts.
 */
const STRUCTURES = Symbol.for('junction.structures');

/**
 * Makes payload and correlationData Buffers again. msgpackr (1.12) hands out plain Uint8Arrays for
 * binary fields decoded right after it loads shared structures from the database mid-decode (its
 * saveState swaps the source Buffer for a Uint8Array copy), which happens on the first reads after
 * a reopen. The Buffer is a view on the same bytes: no copy.
 */
function asBuffers(message: StoredMessage): StoredMessage {
  if (!Buffer.isBuffer(message.payload)) message.payload = toBuffer(message.payload);
  const p = message.properties;
  if (p !== null && p.correlationData !== undefined && !Buffer.isBuffer(p.correlationData)) {
    p.correlationData = toBuffer(p.correlationData);
  }
  return message;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Sorts after every [clientId, number] key and before every longer client id. */
const RANGE_END = '\uffff';

/** Options of an LmdbStore beyond its folder. */
export interface LmdbStoreOptions {
  /**
   * Called when a transaction fails (disk full, I/O error), in which case the callbacks waiting on
   * it never run as their writes are not durable, and when an afterCommit callback throws.
   * Without it the error is thrown from a microtask (an uncaught exception).
   */
  onError?: (error: unknown) => void;
}

/** Callbacks registered in one turn, settled by one flush. */
class CommitBatch {
  readonly fns: Array<(arg: never) => void> = [];
  readonly args: unknown[] = [];
  /** Writes issued when the batch was sealed; all of them are durable when it settles. */
  writeMark = 0;
  settled = false;
}

/** Store on LMDB; see the file header for layout and durability. */
export class LmdbStore implements Store {
  readonly #dataDir: string;
  readonly #onError: ((error: unknown) => void) | undefined;
  #root: RootDatabase | null = null;
  #retained: Database<StoredMessage, string> | null = null;
  #sessions: Database<SessionRecord, string> | null = null;
  #queues: Database<QueuedRecord, PairKey> | null = null;
  #incoming: Database<true, PairKey> | null = null;

  /** Writes issued so far; compared with #durableWrites to skip the flush when nothing is pending. */
  #writes = 0;
  #durableWrites = 0;
  /** The batch still taking callbacks in this turn; sealed by a microtask. */
  #collecting: CommitBatch | null = null;
  /** Sealed batches in registration order, waiting for their flush. */
  readonly #sealed: CommitBatch[] = [];
  /** beforeCommit functions of this turn, run before the next seal (or at the turn's end). */
  #beforeSeal: Array<() => void> = [];

  constructor(dataDir: string, options: LmdbStoreOptions = {}) {
    this.#dataDir = dataDir;
    this.#onError = options.onError;
  }

  /** Creates the folder and opens the environment and its databases. */
  async open(): Promise<void> {
    if (this.#root !== null) return;
    mkdirSync(this.#dataDir, { recursive: true });
    // noSubdir: false so a folder name with a dot is still a folder, not a file name.
    const root = open(this.#dataDir, { noSubdir: false, maxDbs: 16 });
    this.#root = root;
    this.#retained = root.openDB<StoredMessage, string>({ name: 'retained', sharedStructuresKey: STRUCTURES });
    this.#sessions = root.openDB<SessionRecord, string>({ name: 'sessions', sharedStructuresKey: STRUCTURES });
    // strictAsyncOrder: deleteSession runs a transaction callback, and a put issued after it in the
    // same turn (a new session under the same id) must not be applied before it and then deleted.
    this.#queues = root.openDB<QueuedRecord, PairKey>({
      name: 'queues',
      sharedStructuresKey: STRUCTURES,
      strictAsyncOrder: true,
    });
    this.#incoming = root.openDB<true, PairKey>({ name: 'incoming' });
  }

  /** Waits until every write is durable and every afterCommit callback has run, then closes. */
  async close(): Promise<void> {
    const root = this.#root;
    if (root === null) return;
    await this.flush();
    this.#root = this.#retained = this.#sessions = this.#queues = this.#incoming = null;
    await root.close();
  }

  /** Retained messages in topic order, read lazily from one snapshot. */
  loadRetained(): Iterable<StoredMessage> {
    return this.#db(this.#retained)
      .getRange()
      .map((entry) => asBuffers(entry.value));
  }

  /** Replaces the retained message of message.topic. */
  putRetained(message: StoredMessage): void {
    this.#writes++;
    void this.#db(this.#retained).put(message.topic, message);
  }

  /** Removes the retained message of topic, if any. */
  deleteRetained(topic: string): void {
    this.#writes++;
    void this.#db(this.#retained).remove(topic);
  }

  /** Every stored session, in client id order. */
  loadSessions(): Iterable<SessionRecord> {
    return this.#db(this.#sessions)
      .getRange()
      .map((entry) => entry.value);
  }

  /** Replaces the session of record.clientId. */
  putSession(record: SessionRecord): void {
    this.#writes++;
    void this.#db(this.#sessions).put(record.clientId, record);
  }

  /** Removes the session, its queue range and its incoming ids in one transaction. */
  deleteSession(clientId: string): void {
    const sessions = this.#db(this.#sessions);
    const queues = this.#db(this.#queues);
    const incoming = this.#db(this.#incoming);
    this.#writes++;
    // A transaction callback runs inside the write transaction, after the writes issued before it,
    // so its range reads see queued records put earlier in this very turn.
    void queues.transaction(() => {
      sessions.remove(clientId);
      const start: PairKey = [clientId, -Infinity];
      const end = [clientId, RANGE_END] as unknown as PairKey;
      for (const key of queues.getKeys({ start, end })) queues.remove(key);
      for (const key of incoming.getKeys({ start, end })) incoming.remove(key);
    });
  }

  /** The queue of clientId ordered by seq, with one range read. */
  loadQueue(clientId: string): QueuedRecord[] {
    const end = [clientId, RANGE_END] as unknown as PairKey;
    return Array.from(this.#db(this.#queues).getRange({ start: [clientId, -Infinity], end }), (entry) => {
      const record = entry.value;
      asBuffers(record.message);
      return record;
    });
  }

  /** Inserts or replaces the record with record.seq. */
  putQueued(clientId: string, record: QueuedRecord): void {
    this.#writes++;
    void this.#db(this.#queues).put([clientId, record.seq], record);
  }

  /** Removes one queued record. */
  deleteQueued(clientId: string, seq: number): void {
    this.#writes++;
    void this.#db(this.#queues).remove([clientId, seq]);
  }

  /** Inbound QoS 2 packet ids of clientId, ascending. */
  loadIncoming(clientId: string): number[] {
    const end = [clientId, RANGE_END] as unknown as PairKey;
    return Array.from(this.#db(this.#incoming).getKeys({ start: [clientId, -Infinity], end }), (key) => key[1]);
  }

  /** Records an inbound QoS 2 packet id. */
  putIncoming(clientId: string, packetId: number): void {
    this.#writes++;
    void this.#db(this.#incoming).put([clientId, packetId], true);
  }

  /** Forgets an inbound QoS 2 packet id. */
  deleteIncoming(clientId: string, packetId: number): void {
    this.#writes++;
    void this.#db(this.#incoming).remove([clientId, packetId]);
  }

  /** A module's table: the named database `table:<name>`, its writes counted like the store's own. */
  table<V>(name: string): StoreTable<V> {
    const db = this.#db(this.#root).openDB<V, PairKey>({ name: `table:${name}`, sharedStructuresKey: STRUCTURES });
    return {
      put: (group, seq, value) => {
        this.#writes++;
        void db.put([group, seq], value);
      },
      remove: (group, seq) => {
        this.#writes++;
        void db.remove([group, seq]);
      },
      load: (group) => Array.from(db.getRange({ start: [group, -Infinity], end: [group, RANGE_END] as unknown as PairKey }), (e) => ({ seq: e.key[1], value: e.value })),
    };
  }

  /** Queues fn(arg) on the batch of this turn; one flush promise settles the whole batch. */
  afterCommit<T>(fn: (arg: T) => void, arg: T): void {
    let batch = this.#collecting;
    if (batch === null) {
      batch = new CommitBatch();
      this.#collecting = batch;
      // Sealing after the turn's synchronous code lets every write of the turn join the mark.
      queueMicrotask(this.#seal);
    }
    batch.fns.push(fn as (arg: never) => void);
    batch.args.push(arg);
  }

  /** Runs fn before this turn's writes are sealed: from the seal, or from its own microtask when no callback waits. */
  beforeCommit(fn: () => void): void {
    if (this.#beforeSeal.push(fn) === 1) queueMicrotask(this.#runBeforeSeal);
  }

  readonly #runBeforeSeal = (): void => {
    const fns = this.#beforeSeal;
    if (fns.length === 0) return;
    this.#beforeSeal = [];
    for (const fn of fns) {
      try {
        fn();
      } catch (error) {
        reportStoreError(this.#onError, error);
      }
    }
  };

  /** Resolves when every write issued so far is durable (and earlier callbacks have run). */
  flush(): Promise<void> {
    return new Promise((resolve) => this.afterCommit(resolve, undefined));
  }

  readonly #seal = (): void => {
    const batch = this.#collecting;
    if (batch === null) return;
    this.#collecting = null;
    // Writes gathered during the turn join the mark, so the batch's callbacks wait for them.
    this.#runBeforeSeal();
    batch.writeMark = this.#writes;
    this.#sealed.push(batch);
    const root = this.#root;
    if (batch.writeMark === this.#durableWrites || root === null) {
      // Nothing pending (or already closed after a final flush): settle from this microtask.
      this.#settle(batch);
      return;
    }
    root.flushed.then(
      () => this.#settle(batch),
      (error: unknown) => reportStoreError(this.#onError, error),
    );
  };

  /** Marks batch durable and runs, in order, every sealed batch up to the first unsettled one. */
  #settle(batch: CommitBatch): void {
    batch.settled = true;
    if (batch.writeMark > this.#durableWrites) this.#durableWrites = batch.writeMark;
    const sealed = this.#sealed;
    while (sealed.length > 0 && (sealed[0] as CommitBatch).settled) {
      const done = sealed.shift() as CommitBatch;
      runCommitCallbacks(done.fns, done.args, this.#onError);
    }
  }

  #db<D>(db: D | null): D {
    if (db === null) throw new Error('LMDB store is not open');
    return db;
  }
}

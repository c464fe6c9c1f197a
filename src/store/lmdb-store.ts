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
 *
 * Data safety. open() takes the data dir's lock (data-dir-lock.ts), checks data.mdb before LMDB
 * maps it (file-check.ts; with check 'full' a child process also reads every record, probe.ts),
 * and walks every database's keys against LMDB's count: a damaged file refuses the start with
 * StoreCorruptError. Every record carries a checksum (record-codec.ts); one that fails it is
 * reported and not served. A commit the disk refuses, or a put past --max-store-size, fails the
 * afterCommit batches whose writes it held with StoreFullError (commit-tracker.ts, store-guard.ts):
 * the broker stays up and the waiting publishers are refused.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import type { Logger } from '../log/logger.js';
import type { QueuedRecord, SessionRecord, Store, StoredMessage, StoreHealth, StoreTable } from './types.js';
import { DataDirLock, type FlockFn } from './data-dir-lock.js';
import { CommitTracker } from './commit-tracker.js';
import { StoreCorruptError, type StoreFullError } from './errors.js';
import type { StatsSource } from './store-size.js';
import { RECORD_OVERHEAD_BYTES, StoreGuard } from './store-guard.js';
import { checkDataFile } from './file-check.js';
import { probeStore } from './probe.js';
import type { StoreCheck } from './flags.js';
import { checksummed, isCorrupt } from './record-codec.js';
import { guarded } from './damage.js';

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
   * Called when an afterCommit callback throws (a failed transaction is no error here: its
   * callbacks get a StoreFullError). Without it the error is thrown from a microtask.
   */
  onError?: (error: unknown) => void;
  /**
   * flock(2) from the native module for the data directory's lock; null or absent: the lock
   * file's pid and start time decide (data-dir-lock.ts).
   */
  flock?: FlockFn | null;
  /** --max-store-size: bytes of live pages past which puts are refused; 0 = 90% of the file system. */
  maxStoreSize?: number;
  /**
   * 'full': before opening, a child process reads every record (probe.ts), so a file that would
   * crash LMDB refuses the start instead; 'header': only the meta pages are checked (file-check.ts).
   */
  check?: StoreCheck;
  /** Where the store says it is full, failing or back (without it: silent, health() still tells). */
  log?: Logger;
}

/** Damaged records logged one by one, then only counted. */
const MAX_CORRUPT_LOGS = 20;

/** Store on LMDB; see the file header for layout and durability. */
export class LmdbStore implements Store {
  readonly #dataDir: string;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #flock: FlockFn | null;
  #lock: DataDirLock | null = null;
  #root: RootDatabase | null = null;
  #retained: Database<StoredMessage, string> | null = null;
  #sessions: Database<SessionRecord, string> | null = null;
  #queues: Database<QueuedRecord, PairKey> | null = null;
  #incoming: Database<true, PairKey> | null = null;
  /** Every database opened, for the live size. */
  readonly #all: StatsSource[] = [];
  readonly #tracker: CommitTracker;
  readonly #log: Logger | undefined;
  readonly #check: StoreCheck;
  readonly #guard: StoreGuard;
  /** Records that failed their checksum, or that the tree counts but cannot reach. */
  #corrupt = 0;

  constructor(dataDir: string, options: LmdbStoreOptions = {}) {
    this.#dataDir = dataDir;
    this.#onError = options.onError;
    this.#flock = options.flock ?? null;
    this.#log = options.log;
    this.#guard = new StoreGuard(dataDir, options.maxStoreSize ?? 0, options.log);
    this.#check = options.check ?? 'header';
    this.#tracker = new CommitTracker({
      flushed: () => this.#root?.flushed ?? null,
      failed: (error) => this.#guard.commitFailed(error),
      committed: () => this.#guard.committed(),
      onError: this.#onError,
    });
  }

  /**
   * Creates the folder, takes its lock (StoreLockedError when another process holds it), and
   * opens the environment and its databases.
   */
  async open(): Promise<void> {
    if (this.#root !== null) return;
    mkdirSync(this.#dataDir, { recursive: true });
    this.#lock = DataDirLock.acquire(this.#dataDir, this.#flock);
    // noSubdir: false so a folder name with a dot is still a folder, not a file name.
    let root: RootDatabase;
    try {
      checkDataFile(this.#dataDir);
      if (this.#check === 'full') probeStore(this.#dataDir);
      root = open(this.#dataDir, { noSubdir: false, maxDbs: 16 });
    } catch (err) {
      this.#releaseLock();
      throw err;
    }
    this.#root = root;
    try {
      this.#openDatabases(root);
    } catch (err) {
      this.#root = this.#retained = this.#sessions = this.#queues = this.#incoming = null;
      this.#all.length = 0;
      await root.close();
      this.#releaseLock();
      // Only reads happen here: whatever fails (an lmdb-js error, a key that does not decode) is the file.
      throw err instanceof StoreCorruptError ? err : new StoreCorruptError(join(this.#dataDir, 'data.mdb'), `LMDB cannot read it (${(err as Error).message})`);
    }
    this.#guard.start(this.#all);
  }

  /** Opens the databases and walks their keys: a damaged tree fails here (an lmdb-js error), not mid-run. */
  #openDatabases(root: RootDatabase): void {
    this.#retained = root.openDB<StoredMessage, string>(checksummed({ name: 'retained', sharedStructuresKey: STRUCTURES }));
    this.#sessions = root.openDB<SessionRecord, string>(checksummed({ name: 'sessions', sharedStructuresKey: STRUCTURES }));
    // strictAsyncOrder: deleteSession runs a transaction callback, and a put issued after it in the
    // same turn (a new session under the same id) must not be applied before it and then deleted.
    this.#queues = root.openDB<QueuedRecord, PairKey>(
      checksummed({
        name: 'queues',
        sharedStructuresKey: STRUCTURES,
        strictAsyncOrder: true,
      }),
    );
    this.#incoming = root.openDB<true, PairKey>(checksummed({ name: 'incoming' }));
    this.#all.push(this.#retained, this.#sessions, this.#queues, this.#incoming);
    this.#checkReachable('retained', this.#retained);
    this.#checkReachable('sessions', this.#sessions);
    this.#checkReachable('queues', this.#queues);
    this.#checkReachable('incoming', this.#incoming);
  }

  /** Waits until every write is durable and every afterCommit callback has run, then closes. */
  async close(): Promise<void> {
    const root = this.#root;
    if (root === null) return;
    await this.flush();
    this.#root = this.#retained = this.#sessions = this.#queues = this.#incoming = null;
    this.#all.length = 0;
    this.#guard.stop();
    await root.close();
    this.#releaseLock();
  }

  #releaseLock(): void {
    this.#lock?.release();
    this.#lock = null;
  }

  /** Retained messages in topic order, read lazily from one snapshot. */
  loadRetained(): Iterable<StoredMessage> {
    const range = this.#db(this.#retained)
      .getRange()
      .filter((entry) => this.#trusted('retained', entry.key, entry.value))
      .map((entry) => asBuffers(entry.value));
    return guarded(this.#dataDir, range);
  }

  /** Replaces the retained message of message.topic. */
  putRetained(message: StoredMessage): void {
    const db = this.#db(this.#retained);
    if (!this.#refused(message.payload.length + message.topic.length)) this.#wrote(() => db.put(message.topic, message));
  }

  /** Removes the retained message of topic, if any. */
  deleteRetained(topic: string): void {
    const db = this.#db(this.#retained);
    this.#wrote(() => db.remove(topic));
  }

  /** Every stored session, in client id order. */
  loadSessions(): Iterable<SessionRecord> {
    const range = this.#db(this.#sessions)
      .getRange()
      .filter((entry) => this.#trusted('sessions', entry.key, entry.value))
      .map((entry) => entry.value);
    return guarded(this.#dataDir, range);
  }

  /** Replaces the session of record.clientId. */
  putSession(record: SessionRecord): void {
    const db = this.#db(this.#sessions);
    if (!this.#refused(record.clientId.length * 2)) this.#wrote(() => db.put(record.clientId, record));
  }

  /** Removes the session, its queue range and its incoming ids in one transaction. */
  deleteSession(clientId: string): void {
    const sessions = this.#db(this.#sessions);
    const queues = this.#db(this.#queues);
    const incoming = this.#db(this.#incoming);
    // A transaction callback runs inside the write transaction, after the writes issued before it,
    // so its range reads see queued records put earlier in this very turn.
    this.#wrote(() =>
      queues.transaction(() => {
        sessions.remove(clientId);
        const start: PairKey = [clientId, -Infinity];
        const end = [clientId, RANGE_END] as unknown as PairKey;
        for (const key of queues.getKeys({ start, end })) queues.remove(key);
        for (const key of incoming.getKeys({ start, end })) incoming.remove(key);
      }),
    );
  }

  /** The queue of clientId ordered by seq, with one range read. */
  loadQueue(clientId: string): QueuedRecord[] {
    const end = [clientId, RANGE_END] as unknown as PairKey;
    const out: QueuedRecord[] = [];
    const range = this.#db(this.#queues).getRange({ start: [clientId, -Infinity], end });
    for (const entry of guarded(this.#dataDir, range)) {
      if (!this.#trusted('queues', entry.key, entry.value)) continue;
      asBuffers(entry.value.message);
      out.push(entry.value);
    }
    return out;
  }

  /** Inserts or replaces the record with record.seq. */
  putQueued(clientId: string, record: QueuedRecord): void {
    const db = this.#db(this.#queues);
    if (!this.#refused(record.message.payload.length + record.message.topic.length)) this.#wrote(() => db.put([clientId, record.seq], record));
  }

  /** Removes one queued record. */
  deleteQueued(clientId: string, seq: number): void {
    const db = this.#db(this.#queues);
    this.#wrote(() => db.remove([clientId, seq]));
  }

  /** Inbound QoS 2 packet ids of clientId, ascending. */
  loadIncoming(clientId: string): number[] {
    const end = [clientId, RANGE_END] as unknown as PairKey;
    return Array.from(this.#db(this.#incoming).getKeys({ start: [clientId, -Infinity], end }), (key) => key[1]);
  }

  /** Records an inbound QoS 2 packet id. */
  putIncoming(clientId: string, packetId: number): void {
    const db = this.#db(this.#incoming);
    if (!this.#refused(clientId.length)) this.#wrote(() => db.put([clientId, packetId], true));
  }

  /** Forgets an inbound QoS 2 packet id. */
  deleteIncoming(clientId: string, packetId: number): void {
    const db = this.#db(this.#incoming);
    this.#wrote(() => db.remove([clientId, packetId]));
  }

  /** A module's table: the named database `table:<name>`, its writes counted like the store's own. */
  table<V>(name: string): StoreTable<V> {
    const db = this.#db(this.#root).openDB<V, PairKey>(checksummed({ name: `table:${name}`, sharedStructuresKey: STRUCTURES }));
    this.#all.push(db);
    return {
      put: (group, seq, value) => {
        if (!this.#refused(Buffer.isBuffer(value) ? value.length : 0)) this.#wrote(() => db.put([group, seq], value));
      },
      remove: (group, seq) => this.#wrote(() => db.remove([group, seq])),
      load: (group) => {
        const out: Array<{ seq: number; value: V }> = [];
        for (const e of db.getRange({ start: [group, -Infinity], end: [group, RANGE_END] as unknown as PairKey })) {
          if (this.#trusted(`table:${name}`, e.key, e.value)) out.push({ seq: e.key[1], value: e.value });
        }
        return out;
      },
    };
  }

  /** Queues fn(arg, failure) on the batch of this turn; one flush (or one failure) settles the whole batch. */
  afterCommit<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void {
    this.#tracker.add(fn, arg);
  }

  /** Runs fn before this turn's writes are sealed (see Store.beforeCommit). */
  beforeCommit(fn: () => void): void {
    this.#tracker.beforeSeal(fn);
  }

  /** Resolves when every write issued so far is durable or has failed (and earlier callbacks have run). */
  flush(): Promise<void> {
    return new Promise((resolve) => this.afterCommit(resolve, undefined));
  }

  /** Whether writes are refused, and why; the live size against --max-store-size. */
  health(): StoreHealth {
    return this.#guard.health(this.#corrupt);
  }

  /** False (reported, counted) for a record that failed its checksum or does not decode. */
  #trusted(db: string, key: unknown, value: unknown): boolean {
    if (!isCorrupt(value)) return true;
    this.#corrupt++;
    if (this.#corrupt <= MAX_CORRUPT_LOGS) {
      this.#log?.error('stored record damaged: not served', { dataDir: this.#dataDir, db, record: JSON.stringify(key), problem: value.problem, corruptRecords: this.#corrupt });
    }
    return false;
  }

  /**
   * Walks the keys of a database and compares with the count LMDB keeps: damaged tree pages hide
   * whole ranges, which no checksum of a record can see (the broker would start with a part of
   * its records and write into a broken tree). StoreCorruptError when records are missing.
   */
  #checkReachable<K extends Key>(name: string, db: Database<unknown, K>): void {
    const expected = (db.getStats() as { entryCount: number }).entryCount;
    let reachable = 0;
    for (const _ of db.getKeys({ snapshot: true })) reachable++;
    // The shared structures live under a symbol key that getKeys() does not return.
    if (db.getBinary(STRUCTURES as unknown as K) !== undefined) reachable++;
    if (reachable >= expected) return;
    throw new StoreCorruptError(join(this.#dataDir, 'data.mdb'), `${expected - reachable} of the ${expected} records of its "${name}" database cannot be reached: its tree is damaged`);
  }

  /** Issues one write; a synchronous throw (lmdb-js saving its shared structures on a full disk) fails this turn's batch. */
  #wrote(write: () => PromiseLike<unknown>): void {
    let promise: PromiseLike<unknown>;
    try {
      promise = write();
    } catch (error) {
      this.#tracker.refused(this.#guard.commitFailed(error));
      return;
    }
    this.#tracker.wrote(promise);
  }

  /** True (and this turn's batch fails) when the store is at --max-store-size: a put of about `bytes` (plus a record's overhead) could grow it. */
  #refused(bytes: number): boolean {
    const full = this.#guard.refusePut(bytes + RECORD_OVERHEAD_BYTES);
    if (full === null) return false;
    this.#tracker.refused(full);
    return true;
  }

  #db<D>(db: D | null): D {
    if (db === null) throw new Error('LMDB store is not open');
    return db;
  }
}

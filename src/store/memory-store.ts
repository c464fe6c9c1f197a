/**
 * A Store held in Maps: for tests and for brokers that need no persistence. It keeps the same
 * semantics as the LMDB store: records are copied on the way in and out, so a caller mutating a
 * record after putX() or after a load changes nothing until it calls putX() again.
 */
import { runCommitCallbacks } from './commit-callbacks.js';
import type { StoreFullError } from './errors.js';
import type { QueuedRecord, SessionRecord, Store, StoredMessage, StoreHealth, StoreTable } from './types.js';

/** Copies a message shallowly; payload and correlationData Buffers are shared, never mutated. */
function copyStoredMessage(message: StoredMessage): StoredMessage {
  const p = message.properties;
  return {
    topic: message.topic,
    payload: message.payload,
    qos: message.qos,
    retain: message.retain,
    expiresAt: message.expiresAt,
    properties: p === null ? null : p.userProperties === undefined ? { ...p } : { ...p, userProperties: p.userProperties.map((u) => ({ key: u.key, value: u.value })) },
    origin: message.origin,
  };
}

function copyQueued(record: QueuedRecord): QueuedRecord {
  return {
    seq: record.seq,
    state: record.state,
    packetId: record.packetId,
    qos: record.qos,
    retain: record.retain,
    subscriptionIds: record.subscriptionIds === null ? null : record.subscriptionIds.slice(),
    message: copyStoredMessage(record.message),
  };
}

function copySession(record: SessionRecord): SessionRecord {
  return {
    clientId: record.clientId,
    expiryInterval: record.expiryInterval,
    disconnectedAt: record.disconnectedAt,
    protocol: record.protocol,
    subscriptions: record.subscriptions.map((s) => ({ ...s })),
  };
}

function ascending(a: number, b: number): number {
  return a - b;
}

/** Options of a MemoryStore. */
export interface MemoryStoreOptions {
  /** Called when an afterCommit callback throws; without it the error is thrown from a microtask. */
  onError?: (error: unknown) => void;
}

/** In-memory Store; every write is "durable" at once, so afterCommit only defers to a microtask. */
export class MemoryStore implements Store {
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #retained = new Map<string, StoredMessage>();
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #queues = new Map<string, Map<number, QueuedRecord>>();
  readonly #incoming = new Map<string, Set<number>>();
  readonly #tables = new Map<string, Map<string, Map<number, unknown>>>();
  // Callbacks and their arguments side by side, drained by one microtask per batch.
  #pendingFns: Array<(arg: never, failure: null) => void> = [];
  #pendingArgs: unknown[] = [];
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#onError = options.onError;
  }

  /** Nothing to open; resolves at once. */
  async open(): Promise<void> {
    this.#closed = false;
  }

  /** Runs pending callbacks first, like the LMDB store committing its last batch. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  /** Retained messages in no particular order. */
  loadRetained(): Iterable<StoredMessage> {
    return Array.from(this.#retained.values(), copyStoredMessage);
  }

  /** Replaces the retained message of message.topic. */
  putRetained(message: StoredMessage): void {
    this.#checkOpen();
    this.#retained.set(message.topic, copyStoredMessage(message));
  }

  /** Removes the retained message of topic, if any. */
  deleteRetained(topic: string): void {
    this.#checkOpen();
    this.#retained.delete(topic);
  }

  /** Every stored session. */
  loadSessions(): Iterable<SessionRecord> {
    return Array.from(this.#sessions.values(), copySession);
  }

  /** Replaces the session of record.clientId. */
  putSession(record: SessionRecord): void {
    this.#checkOpen();
    this.#sessions.set(record.clientId, copySession(record));
  }

  /** Removes the session, its queue and its incoming QoS 2 ids. */
  deleteSession(clientId: string): void {
    this.#checkOpen();
    this.#sessions.delete(clientId);
    this.#queues.delete(clientId);
    this.#incoming.delete(clientId);
  }

  /** The queue of clientId ordered by seq. */
  loadQueue(clientId: string): QueuedRecord[] {
    const queue = this.#queues.get(clientId);
    if (queue === undefined) return [];
    const out = Array.from(queue.values(), copyQueued);
    out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  /** Inserts or replaces the record with record.seq. */
  putQueued(clientId: string, record: QueuedRecord): void {
    this.#checkOpen();
    let queue = this.#queues.get(clientId);
    if (queue === undefined) {
      queue = new Map();
      this.#queues.set(clientId, queue);
    }
    queue.set(record.seq, copyQueued(record));
  }

  /** Removes one queued record. */
  deleteQueued(clientId: string, seq: number): void {
    this.#checkOpen();
    const queue = this.#queues.get(clientId);
    if (queue === undefined) return;
    queue.delete(seq);
    if (queue.size === 0) this.#queues.delete(clientId);
  }

  /** Inbound QoS 2 packet ids of clientId, ascending. */
  loadIncoming(clientId: string): number[] {
    const ids = this.#incoming.get(clientId);
    return ids === undefined ? [] : Array.from(ids).sort(ascending);
  }

  /** Records an inbound QoS 2 packet id. */
  putIncoming(clientId: string, packetId: number): void {
    this.#checkOpen();
    let ids = this.#incoming.get(clientId);
    if (ids === undefined) {
      ids = new Set();
      this.#incoming.set(clientId, ids);
    }
    ids.add(packetId);
  }

  /** Forgets an inbound QoS 2 packet id. */
  deleteIncoming(clientId: string, packetId: number): void {
    this.#checkOpen();
    const ids = this.#incoming.get(clientId);
    if (ids === undefined) return;
    ids.delete(packetId);
    if (ids.size === 0) this.#incoming.delete(clientId);
  }

  /** A module's table in Maps; values are kept as given (the caller never mutates them). */
  table<V>(name: string): StoreTable<V> {
    let table = this.#tables.get(name) as Map<string, Map<number, V>> | undefined;
    if (table === undefined) {
      table = new Map();
      this.#tables.set(name, table as Map<string, Map<number, unknown>>);
    }
    const groups = table;
    return {
      put: (group, seq, value) => {
        let rows = groups.get(group);
        if (rows === undefined) groups.set(group, (rows = new Map()));
        rows.set(seq, value);
      },
      remove: (group, seq) => void groups.get(group)?.delete(seq),
      load: (group) => Array.from(groups.get(group) ?? [], ([seq, value]) => ({ seq, value })).sort((a, b) => a.seq - b.seq),
    };
  }

  /** Calls fn(arg, null) from a microtask shared by every callback registered before it runs. */
  afterCommit<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void {
    if (this.#pendingFns.length === 0) queueMicrotask(this.#drain);
    this.#pendingFns.push(fn as (arg: never, failure: null) => void);
    this.#pendingArgs.push(arg);
  }

  /** Resolves after every callback registered so far has run. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.afterCommit(resolve, undefined));
  }

  /** Never full: it holds what memory holds (the broker's own limits bound it). */
  health(): StoreHealth {
    return { full: null, failedCommits: 0, refusedWrites: 0, sizeBytes: 0, limitBytes: 0, corruptRecords: 0 };
  }

  readonly #drain = (): void => {
    const fns = this.#pendingFns;
    const args = this.#pendingArgs;
    this.#pendingFns = [];
    this.#pendingArgs = [];
    runCommitCallbacks(fns, args, null, this.#onError);
  };

  #checkOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }
}

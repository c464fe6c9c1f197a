/**
 * What the broker persists, and the interface every store implements (memory and LMDB).
 * Records are plain data so any backend can serialise them.
 */
import type { MessageProperties, QoS } from '../core/message.js';
import type { StoreFullError } from './errors.js';

export type { StoreFullError };

/** A store's state for operators (the admin metrics read it at scrape time). */
export interface StoreHealth {
  /** Why writes are refused now (--max-store-size reached, the disk failing commits), or null. */
  full: StoreFullError | null;
  /** Transactions the disk refused (full, I/O error) since start. */
  failedCommits: number;
  /** Writes refused before reaching the disk because the store was at --max-store-size. */
  refusedWrites: number;
  /** Bytes of pages holding live records at the last measurement (0 for the memory store). */
  sizeBytes: number;
  /** --max-store-size in bytes as applied (0 = none). */
  limitBytes: number;
  /** Records whose checksum failed at load: reported, not served. */
  corruptRecords: number;
}

export interface StoredMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** ms since the epoch; 0 = never */
  expiresAt: number;
  properties: MessageProperties | null;
  origin: string | null;
}

export interface StoredSubscription {
  /** The filter as the client sent it, including any $share/{group}/ or $queue/ prefix. */
  filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  /** MQTT 5 Subscription Identifier; 0 = none */
  subscriptionId: number;
}

export interface SessionRecord {
  clientId: string;
  /** Session Expiry Interval in seconds; 0xFFFFFFFF = never expires */
  expiryInterval: number;
  /** ms since the epoch when the last connection ended; 0 while connected */
  disconnectedAt: number;
  /** protocol family and version that created it, e.g. 'mqtt/5' */
  protocol: string;
  subscriptions: StoredSubscription[];
  /** Who the session belongs to; absent in records written before sessions were bound to identities. */
  identity?: SessionIdentity;
}

/** The identity a session is bound to (only that identity may resume or take it over). */
export interface SessionIdentity {
  /** The identity authentication settled on (the ACL's user); null for none. */
  readonly name: string | null;
  /** False for clients the anonymous rule let in, whose name is only a claim. */
  readonly authenticated: boolean;
  /** True when the client's rights came as topic grants (token, JWT, hook), not from the ACL file. */
  readonly grants: boolean;
}

/** Outbound delivery state for one queued message of a session. */
export const enum QueuedState {
  /** waiting to be sent (offline, or inflight window full) */
  Queued = 0,
  /** sent with packetId, awaiting PUBACK (QoS 1) or PUBREC (QoS 2) */
  Sent = 1,
  /** QoS 2: PUBREC received, PUBREL sent, awaiting PUBCOMP; the message body is no longer needed */
  Released = 2,
}

export interface QueuedRecord {
  /** Per-session monotonically increasing sequence; defines delivery order. */
  seq: number;
  state: QueuedState;
  /** 0 until a packet id is assigned */
  packetId: number;
  /** QoS of this delivery (min of message and subscription) */
  qos: QoS;
  /** retain flag as delivered (Retain As Published / retained-on-subscribe) */
  retain: boolean;
  subscriptionIds: number[] | null;
  message: StoredMessage;
}

/**
 * Records a module keeps in the store's environment (a bridge's outbox), keyed by
 * (group, sequence): its writes share the store's transactions, so afterCommit covers them.
 */
export interface StoreTable<V> {
  put(group: string, seq: number, value: V): void;
  remove(group: string, seq: number): void;
  /** The committed records of `group` in sequence order. */
  load(group: string): Array<{ seq: number; value: V }>;
}

export interface Store {
  /** Opens the backend; returns once every load* method may be called. */
  open(): Promise<void>;
  /** Commits everything pending, then closes. */
  close(): Promise<void>;

  loadRetained(): Iterable<StoredMessage>;
  putRetained(message: StoredMessage): void;
  deleteRetained(topic: string): void;

  loadSessions(): Iterable<SessionRecord>;
  putSession(record: SessionRecord): void;
  /** Deletes the session with its queue and incoming QoS 2 ids. */
  deleteSession(clientId: string): void;

  loadQueue(clientId: string): QueuedRecord[];
  putQueued(clientId: string, record: QueuedRecord): void;
  deleteQueued(clientId: string, seq: number): void;

  /** Packet ids of inbound QoS 2 PUBLISHes received but not yet released (PUBREL). */
  loadIncoming(clientId: string): number[];
  putIncoming(clientId: string, packetId: number): void;
  deleteIncoming(clientId: string, packetId: number): void;

  /** The table `name` of a module (created on first use); call after open(). */
  table<V>(name: string): StoreTable<V>;

  /**
   * Calls fn(arg, null) once every write issued before this call is durable, or fn(arg, error)
   * once one of them cannot be (StoreFullError: --max-store-size reached, or the disk failed the
   * commit). Calls are batched: one commit serves every callback registered in the same
   * event-loop turn; callbacks run in registration order.
   */
  afterCommit<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void;
  /** Resolves when every write issued so far is durable or has failed. */
  flush(): Promise<void>;
  /** How full and how healthy the store is, for logs and metrics. */
  health(): StoreHealth;
}

/**
 * A session: what the broker keeps for one client id across connections. Subscriptions,
 * the outbound QoS 1/2 window (inflight) and queue, and inbound QoS 2 packet ids.
 * The attached protocol connection, if any, is the session's `owner`.
 */
import type { Message, QoS } from './message.js';
import { RingQueue } from './ring-queue.js';
import type { SessionIdentity, StoredSubscription } from '../store/types.js';
import type { WheelItem, WheelLink } from './timer-wheel.js';
import type { BulkWireTarget } from './retained-bulk.js';

/** Session Expiry Interval meaning "never". */
export const EXPIRY_NEVER = 0xffffffff;

/** The key two identities must share to use one session: authenticated names, or "anonymous". */
export function bindingKey(identity: SessionIdentity): string {
  return identity.authenticated && identity.name !== null ? 'user:' + identity.name : 'anonymous';
}

/** Result of a receipt (PUBREC): send the release with this reason code, or nothing. */
export const NO_RELEASE = -1;

/** Why the broker ends a connection; each protocol says it its own way (MQTT 5: a DISCONNECT reason code). */
export type KickReason =
  /** another connection took the client id over */
  | 'takeover'
  /** the server is shutting down */
  | 'shutdown'
  /** an operator (or the policy) removed the client */
  | 'kicked'
  /** the credentials it logged in with expired (a JWT's exp, a token's expiry) */
  | 'expired';

/** One delivery to a session as its connection sees it. Read it during the call only: QoS 0 descriptors are reused. */
export interface Delivery {
  readonly msg: Message;
  readonly qos: QoS;
  readonly retain: boolean;
  /** Its id in the session's window (1..65535) for QoS 1/2, which the client acknowledges; 0 for QoS 0. */
  readonly id: number;
  /** True when it was sent before and is sent again (after a reconnect). */
  readonly redelivered: boolean;
  /** Subscription Identifiers of the subscriptions it matched, or null. */
  readonly subscriptionIds: readonly number[] | null;
}

/** What became of one delivery handed to a connection. */
export const enum Delivered {
  Written = 0,
  /** larger than the client accepts */
  TooLarge = 1,
  /** QoS 0 to a client that is not reading */
  SocketBuffer = 2,
  /** the client's protocol cannot carry it */
  Refused = 3,
}

/** What the core needs from a protocol connection to deliver to it. */
export interface SessionOwner {
  /** Largest number of unacknowledged QoS 1/2 deliveries the client accepts. */
  readonly sendWindow: number;
  /** Writes one delivery; anything but Written means the client cannot take it and the core drops it. */
  deliver(delivery: Delivery): Delivered;
  /** QoS 2 only: resends the release of a delivery whose receipt arrived before the connection dropped. */
  release?(id: number): void;
  /** Ends the connection because the broker says so. */
  kick(reason: KickReason): void;
  /** Capability: a connection that takes ready-made MQTT PUBLISH packets (bulk retained delivery). */
  bulkTarget?(): BulkWireTarget | null;
  /**
   * Capability: the topic a point-to-point message to this client stands for (a device's
   * downlink topic); a sender must be allowed to publish there to reach it that way.
   */
  readonly downlinkTopic?: string | null;
}

export const enum OutState {
  Queued = 0,
  Sent = 1,
  Released = 2,
}

/**
 * A delivery an external journal holds (the cluster's durable QoS, docs/CLUSTER.md): its
 * acknowledgements go to the journal, and it is not written to the local store.
 */
export interface JournalRef {
  /** the journal's sequence: the packet id derives from it, so a redelivery on another node keeps the id */
  readonly seq: number;
  /** the client is done with it (PUBACK; PUBCOMP for QoS 2) */
  done(): void;
  /** QoS 2: the client received it (PUBREC); the journal calls `release` once it recorded that, and PUBREL may go */
  received(release: () => void): void;
  /** the delivery is given up here (dropped, or its session left): the journal may hand it out again */
  abandon(): void;
}

/** The packet id of a journal delivery: fixed by its sequence, so every node that sends it uses the same one. */
export function journalPacketId(seq: number): number {
  return (seq % 65535) + 1;
}

/** One QoS 1/2 delivery owed to a session. */
export class Outgoing implements Delivery {
  seq: number;
  msg: Message;
  qos: QoS;
  retain: boolean;
  subscriptionIds: number[] | null;
  id = 0;
  redelivered = false;
  state: OutState = OutState.Queued;
  /** Set when the delivery came through a shared group: it may move to another member. */
  group: SharedGroupRef | null;
  /** Set for a delivery from an external journal (its id is journalPacketId(seq)). */
  journal: JournalRef | null = null;

  constructor(seq: number, msg: Message, qos: QoS, retain: boolean, subscriptionIds: number[] | null, group: SharedGroupRef | null) {
    this.seq = seq;
    this.msg = msg;
    this.qos = qos;
    this.retain = retain;
    this.subscriptionIds = subscriptionIds;
    this.group = group;
  }
}

/** Opaque to the session: the router's shared group. */
export interface SharedGroupRef {
  readonly name: string;
  readonly filter: string;
}

/** A subscription as the router holds it; `id` is its slot in the router's table. */
export interface SessionSubscription extends StoredSubscription {
  id: number;
}

/** What callers may do with a session's queue without going through the session. */
export type ReadonlyQueue<T> = Pick<RingQueue<T>, 'length' | 'peek' | typeof Symbol.iterator>;

/** Session.routeFlags: the merged delivery keeps the retain flag. */
export const ROUTE_RETAIN = 4;

/** What an empty collection reads as until the session makes its own; never written to. */
const EMPTY_MAP: ReadonlyMap<unknown, unknown> = new Map();
const EMPTY_QUEUE: ReadonlyQueue<unknown> = new RingQueue<unknown>();

/** Who ends a session when its expiry deadline passes (the broker's SessionEnds). */
export interface SessionExpiry {
  expire(session: Session): void;
}

/**
 * A disconnected session's expiry on the timer wheel: made when the session is first filed, so a
 * connected session (most of them) carries one null field instead of the wheel's three.
 */
export class ExpiryTimer implements WheelItem {
  wheelPrev: WheelLink | null = null;
  wheelNext: WheelLink | null = null;
  wheelDeadline = 0;
  constructor(
    readonly session: Session,
    private readonly ends: SessionExpiry,
  ) {}

  onTimer(): number {
    this.ends.expire(this.session);
    return 0;
  }
}

/** What a session with QoS 1/2 traffic keeps; Session reads defaults while it has none. */
class QosState {
  inflight: Map<number, Outgoing> | null = null;
  queue: RingQueue<Outgoing> | null = null;
  /** Inbound QoS 2 packet ids between PUBLISH and PUBREL. */
  incoming: Set<number> | null = null;
  nextPacketId = 1;
  nextSeq = 1;
  droppedMessages = 0;
  /** Payload bytes waiting in `queue`, against --max-queued-bytes. */
  queuedBytes = 0;
  /** QoS 1/2 messages held by an external journal reach this session from it alone (see Broker.deliver). */
  journalFed = false;
}

export class Session {
  readonly clientId: string;
  protocol: string;
  /** Session Expiry Interval in seconds; 0 ends the session with its connection. */
  expiryInterval = 0;
  /** True once the session was written to the store (so it must be deleted from it later). */
  stored = false;
  owner: SessionOwner | null = null;
  disconnectedAt = 0;
  /** Who the session belongs to; null for a session stored before sessions were bound (the next login binds it). */
  identity: SessionIdentity | null = null;

  // Made on first use (the subscription map dropped when it empties), and everything QoS 1/2
  // traffic needs in one object made with the first of it: most sessions of an idle fleet hold
  // nothing, and each collection or counter would cost an object or a field per device.
  #subscriptions: Map<string, SessionSubscription> | null = null;
  #qos: QosState | null = null;

  // Per-publish merge state used by the router; avoids a Map per PUBLISH.
  routeStamp = 0;
  /** The merged delivery's QoS (bits 0-1) and retain flag (ROUTE_RETAIN): one field, not two. */
  routeFlags = 0;
  routeSubIds: number[] | null = null;

  /** Its expiry on the timer wheel once it was disconnected (SessionEnds files it). */
  expiryTimer: ExpiryTimer | null = null;

  constructor(clientId: string, protocol: string) {
    this.clientId = clientId;
    this.protocol = protocol;
  }

  /** Subscriptions by filter; changed through setSubscription and deleteSubscription. */
  get subscriptions(): ReadonlyMap<string, SessionSubscription> {
    return this.#subscriptions ?? (EMPTY_MAP as ReadonlyMap<string, SessionSubscription>);
  }

  /** Adds or replaces the subscription of `filter`. */
  setSubscription(filter: string, entry: SessionSubscription): void {
    (this.#subscriptions ??= new Map()).set(filter, entry);
  }

  /** Removes the subscription of `filter`; false when there was none. */
  deleteSubscription(filter: string): boolean {
    const subs = this.#subscriptions;
    if (subs === null || !subs.delete(filter)) return false;
    if (subs.size === 0) this.#subscriptions = null;
    return true;
  }

  /** The QoS 1/2 state, made on the first write. */
  private get qos(): QosState {
    return (this.#qos ??= new QosState());
  }

  /** Sent but unacknowledged deliveries, by packet id, in send order; changed through setInflight and deleteInflight. */
  get inflight(): ReadonlyMap<number, Outgoing> {
    return this.#qos?.inflight ?? (EMPTY_MAP as ReadonlyMap<number, Outgoing>);
  }

  /** Files a delivery sent (or about to be) under its packet id. */
  setInflight(id: number, out: Outgoing): void {
    (this.qos.inflight ??= new Map()).set(id, out);
  }

  /** Forgets the delivery of packet id `id`; false when there was none. */
  deleteInflight(id: number): boolean {
    const qos = this.#qos;
    const inflight = qos?.inflight ?? null;
    if (inflight === null || !inflight.delete(id)) return false;
    if (inflight.size === 0) qos!.inflight = null;
    return true;
  }

  /** Deliveries waiting for the window or for the client to come back; changed through enqueue, dequeue and dropQueued. */
  get queue(): ReadonlyQueue<Outgoing> {
    return this.#qos?.queue ?? (EMPTY_QUEUE as ReadonlyQueue<Outgoing>);
  }

  /** Appends a delivery to the queue. */
  enqueue(out: Outgoing): void {
    (this.qos.queue ??= new RingQueue<Outgoing>()).push(out);
  }

  /** The oldest queued delivery, taken off the queue; undefined when it is empty. */
  dequeue(): Outgoing | undefined {
    const queue = this.#qos?.queue ?? null;
    return queue === null ? undefined : queue.shift();
  }

  /** Keeps only the queued deliveries `keep` accepts, in order; returns how many were removed. */
  dropQueued(keep: (out: Outgoing) => boolean): number {
    const queue = this.#qos?.queue ?? null;
    return queue === null ? 0 : queue.filter(keep);
  }

  /** Inbound QoS 2 packet ids between PUBLISH and PUBREL (null: none yet). */
  get incoming(): Set<number> | null {
    return this.#qos?.incoming ?? null;
  }
  set incoming(ids: Set<number> | null) {
    if (ids !== null || this.#qos !== null) this.qos.incoming = ids;
  }

  /** The packet id allocateId tries next. */
  get nextPacketId(): number {
    return this.#qos?.nextPacketId ?? 1;
  }
  set nextPacketId(id: number) {
    if (id !== 1 || this.#qos !== null) this.qos.nextPacketId = id;
  }

  /** The sequence number of the next QoS 1/2 delivery (the store's order). */
  get nextSeq(): number {
    return this.#qos?.nextSeq ?? 1;
  }
  set nextSeq(seq: number) {
    if (seq !== 1 || this.#qos !== null) this.qos.nextSeq = seq;
  }

  /** Deliveries dropped for this session (queue full, expired). */
  get droppedMessages(): number {
    return this.#qos?.droppedMessages ?? 0;
  }
  set droppedMessages(n: number) {
    if (n !== 0 || this.#qos !== null) this.qos.droppedMessages = n;
  }

  /** Payload bytes waiting in `queue`, against --max-queued-bytes. */
  get queuedBytes(): number {
    return this.#qos?.queuedBytes ?? 0;
  }
  set queuedBytes(n: number) {
    if (n !== 0 || this.#qos !== null) this.qos.queuedBytes = n;
  }

  /** True when journaled QoS 1/2 messages reach this session through its journal feed, not the router. */
  get journalFed(): boolean {
    return this.#qos?.journalFed ?? false;
  }
  set journalFed(fed: boolean) {
    if (fed || this.#qos !== null) this.qos.journalFed = fed;
  }

  get persistent(): boolean {
    return this.expiryInterval > 0;
  }

  get online(): boolean {
    return this.owner !== null;
  }

  /** The next free delivery id for an outbound QoS 1/2 delivery (1..65535, skipping ids in use). */
  allocateId(): number {
    // On the QoS state itself: once per delivery, not through the accessors each turn of the loop.
    const qos = this.qos;
    for (let i = 0; i < 65535; i++) {
      const id = qos.nextPacketId;
      qos.nextPacketId = id === 65535 ? 1 : id + 1;
      if (qos.inflight === null || !qos.inflight.has(id)) return id;
    }
    return 0;
  }
}

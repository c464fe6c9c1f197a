/**
 * The protocol-neutral broker: the one seam every protocol (MQTT, STOMP, JT/T 808, GB/T 32960)
 * talks to. It never sees packets: protocols call connect / subscribe / publish / acknowledge /
 * detach and receive deliveries through their SessionOwner. What is not on the publish path lives
 * beside it: how sessions end (session-ends.ts), moving them between processes
 * (session-transfer.ts), restoring them (store-restore.ts), inbound QoS 2 ids (qos2-receipt.ts).
 */
import type { Message, QoS } from './message.js';
import { Metrics } from './metrics.js';
import { ROUTE_ALL, ROUTE_PLAIN, Router, type RouteSink, type TopicMatcher, type SharedGroup } from './router.js';
import { Session, bindingKey, type JournalRef, type SessionOwner } from './session.js';
import { SessionTable } from './session-table.js';
import { Deliveries } from './delivery.js';
import { Hooks, type DropReason, type PublishRight } from './hooks.js';
import { RetainedMessages } from './retained.js';
import { BulkRetained, type BulkRetainedOptions } from './retained-bulk.js';
import { TimerWheel } from './timer-wheel.js';
import { PendingWills, type Will } from './will.js';
import { sessionRecord } from './records.js';
import { SessionTransfer } from './session-transfer.js';
import { restoreFromStore } from './store-restore.js';
import { SessionEnds } from './session-ends.js';
import { redispatchShared } from './shared-redispatch.js';
import type { SessionIdentity, Store, StoredSubscription, StoreFullError } from '../store/types.js';
import type { Logger } from '../log/logger.js';
import type { BrokerLimits, ConnectResult, PublishOutcome } from './broker-types.js';

export type { BrokerLimits, ConnectResult, PublishOutcome } from './broker-types.js';

export class Broker implements RouteSink {
  readonly metrics = new Metrics();
  /** Listeners of what happens to messages, clients and sessions (bridges, metrics, $SYS events). */
  readonly hooks = new Hooks();
  readonly wheel = new TimerWheel();
  readonly sessions = new SessionTable();
  readonly store: Store;
  readonly log: Logger;
  private readonly limits: BrokerLimits;
  private readonly router: Router;
  private readonly delivery: Deliveries;
  private readonly retained: RetainedMessages;
  private readonly wills: PendingWills;
  private readonly outcome: PublishOutcome = { matched: 0, stored: false };
  /** Moving sessions between processes (the cluster): exportSession, importSession, appendQueued. */
  readonly transfer: SessionTransfer;
  private readonly ends: SessionEnds;
  /** Big wildcard retained searches served in paced slices; null = always synchronous. */
  private bulk: BulkRetained | null = null;
  private stopping = false;
  /** What a publish routes to here: everything, or plain subscriptions while shared groups are served elsewhere. */
  private publishKinds = ROUTE_ALL;
  /** Sessions with a connection attached, over every protocol. */
  onlineCount = 0;
  /** Who holds acknowledgements after the store's commit (the cluster, until NATS confirmed); null: the store alone. */
  commitGate: { afterCommit<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void } | null = null;
  private subscribeHolds: Promise<void>[] | null = null;

  constructor(limits: BrokerLimits, store: Store, matcher: TopicMatcher, log: Logger) {
    this.limits = limits;
    this.store = store;
    this.log = log;
    this.router = new Router(matcher, this.hooks);
    this.delivery = new Deliveries(limits, store, this.metrics, this.hooks, log, this.wheel);
    this.retained = new RetainedMessages(limits.maxRetainedMessages, limits.maxRetainedBytes ?? 0, store, this.metrics, log);
    this.wills = new PendingWills(this.wheel, log, (msg) => {
      this.publish(msg);
    });
    const parts = { sessions: this.sessions, store, hooks: this.hooks, router: this.router, delivery: this.delivery, wheel: this.wheel, wills: this.wills, log, online: this };
    this.ends = new SessionEnds(parts);
    this.transfer = new SessionTransfer(parts, this.ends);
  }

  get retainedCount(): number {
    return this.retained.size;
  }

  get subscriptionCount(): number {
    return this.router.subscriptionCount;
  }

  /** Whether anyone could receive a `$SYS/...` message: events skip their work when nobody can. */
  get hasDollarSubscriptions(): boolean {
    return this.router.hasDollarSubscriptions;
  }

  /** The live retained message of `topic`, or undefined (the admin API). */
  retainedMessage(topic: string): Message | undefined {
    return this.retained.get(topic, this.wheel.now);
  }

  /** Visits the live retained messages matching a valid, non-shared filter (the admin API). */
  searchRetained(filter: string, visit: (msg: Message) => void): void {
    this.retained.search(filter, this.wheel.now, visit);
  }

  /** Removes a retained message without publishing an empty one to subscribers; true if there was one. */
  clearRetained(topic: string): boolean {
    if (!this.retained.remove(topic)) return false;
    const cleared = this.hooks.retainedCleared;
    if (cleared !== null) cleared(topic);
    return true;
  }

  /**
   * An operator ends a session: its connection (if any) is kicked, then the session, its
   * subscriptions and its queue are gone (also from the store); false if there was none.
   */
  discardSession(clientId: string): boolean {
    return this.ends.discard(clientId);
  }

  /** Opens the store and restores retained messages and persistent sessions. */
  async start(): Promise<void> {
    await this.store.open();
    const now = Date.now();
    this.wheel.tick(now);
    const { retained, sessions, expired } = restoreFromStore(
      { store: this.store, retained: this.retained, sessions: this.sessions, router: this.router, scheduleExpiry: (session) => this.ends.scheduleExpiry(session) },
      now,
    );
    this.wheel.start();
    const health = this.store.health();
    this.log.info('store loaded', { retained, sessions, expiredSessions: expired, sizeBytes: health.sizeBytes, limitBytes: health.limitBytes, corruptRecords: health.corruptRecords });
  }

  /** Serves big wildcard retained searches off the synchronous path (server.ts, from the flags). */
  useBulkRetained(options: BulkRetainedOptions): void {
    const delivery = this.delivery;
    this.bulk = new BulkRetained(
      {
        retained: this.retained,
        store: this.store,
        log: this.log,
        now: () => this.wheel.now,
        deliver: (session, msg, qos, retain, subIds) => delivery.deliver(session, msg, qos, retain, subIds, null),
      },
      options,
    );
  }

  /** Tells every client the server is shutting down, then flushes and closes the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.bulk?.stopAll();
    for (const session of this.sessions.values()) session.owner?.kick('shutdown');
    this.wheel.stop();
    await this.store.close();
  }

  /**
   * Attaches a connection to the session for clientId: takes over a connected one, cancels a
   * pending will, resumes or (cleanStart) replaces the stored session. A new session is bound to
   * `identity`; an existing one keeps its binding (the gateway checked it) and learns the
   * identity's current name and grants when it is the same.
   */
  connect(clientId: string, protocol: string, cleanStart: boolean, expiryInterval: number, owner: SessionOwner, identity: SessionIdentity | null = null): ConnectResult {
    this.wills.cancel(clientId);
    let session = this.sessions.get(clientId);
    if (session !== undefined && session.owner !== null) {
      this.ends.kickOwner(session, 'takeover');
      session = this.sessions.get(clientId);
    }
    // The taken-over connection's delayed will: this new connection cancels it [MQTT-3.1.3-9].
    this.wills.cancel(clientId);
    if (session !== undefined && cleanStart) {
      this.ends.destroy(session, 'clean-start');
      session = undefined;
    }
    const sessionPresent = session !== undefined;
    if (session === undefined) {
      session = new Session(clientId, protocol);
      this.sessions.set(clientId, session);
      const created = this.hooks.sessionCreated;
      if (created !== null) created(session);
    } else if (session.expiryTimer !== null) {
      // Back online: it no longer expires (the timer object stays for its next disconnect).
      this.wheel.cancel(session.expiryTimer);
    }
    session.protocol = protocol;
    if (identity !== null && (session.identity === null || bindingKey(session.identity) === bindingKey(identity))) session.identity = identity;
    session.owner = owner;
    this.onlineCount++;
    session.disconnectedAt = 0;
    this.setExpiry(session, expiryInterval);
    return { session, sessionPresent };
  }

  /** The connection of `session` declared its will (null: none); told to the hooks (the cluster keeps it for a node loss). */
  declareWill(session: Session, will: Will | null): void {
    const hook = this.hooks.willDeclared;
    if (hook !== null) hook(session, will);
  }

  /** After CONNACK: resends unacknowledged deliveries and drains the queue. */
  resume(session: Session): void {
    this.delivery.resume(session);
  }

  /** Changes a session's expiry (MQTT 5 DISCONNECT may), capped by --max-session-expiry. */
  setExpiry(session: Session, expiryInterval: number): void {
    const capped = Math.min(expiryInterval, this.limits.maxSessionExpiry);
    session.expiryInterval = capped;
    if (capped > 0) {
      this.store.putSession(sessionRecord(session));
      session.stored = true;
    } else if (session.stored) {
      this.store.deleteSession(session.clientId);
      session.stored = false;
    }
  }

  /** The expiry a client asked for, after the operator's cap (for CONNACK). */
  cappedExpiry(expiryInterval: number): number {
    return Math.min(expiryInterval, this.limits.maxSessionExpiry);
  }

  /**
   * A connection ended. `will` is published now, after its delay, or when the session ends,
   * whichever comes first; a session with expiry 0 ends here.
   */
  detach(session: Session, owner: SessionOwner, will: Will | null): void {
    if (session.owner !== owner) return;
    session.owner = null;
    this.onlineCount--;
    redispatchShared(this.delivery, this.router, session, session.expiryInterval > 0);
    if (will !== null && !this.stopping) this.wills.add(session.clientId, will, session.expiryInterval);
    if (session.expiryInterval === 0) {
      this.ends.destroy(session, this.stopping ? 'shutdown' : 'disconnected');
      return;
    }
    session.disconnectedAt = Date.now();
    this.store.putSession(sessionRecord(session));
    session.stored = true;
    this.ends.scheduleExpiry(session);
  }

  /** Adds or replaces a subscription; returns true if the filter was already subscribed. */
  subscribe(session: Session, sub: StoredSubscription): boolean {
    // Holds a caller before did not take are not this subscription's.
    this.subscribeHolds = null;
    const existed = this.router.subscribe(session, sub);
    if (session.persistent) this.store.putSession(sessionRecord(session));
    return existed;
  }

  /**
   * Makes the acknowledgement of the subscription being added wait for `until` (a cluster's
   * durable route reaching every node); called by a subscriptionAdded hook, which runs inside
   * subscribe(). `until` must settle within a bound of its own.
   */
  holdSubscribe(until: Promise<void>): void {
    (this.subscribeHolds ??= []).push(until);
  }

  /** What the subscription subscribe() just added waits for before its acknowledgement, or null. */
  takeSubscribeHolds(): Promise<void>[] | null {
    const holds = this.subscribeHolds;
    this.subscribeHolds = null;
    return holds;
  }

  /** Sends the retained messages a new subscription asks for (Retain Handling honoured). */
  sendRetained(session: Session, sub: StoredSubscription, existed: boolean): void {
    if (sub.retainHandling === 2 || (sub.retainHandling === 1 && existed)) return;
    // Retained messages are not sent to shared subscriptions [MQTT-4.8.2].
    if (sub.filter.startsWith('$share/') || sub.filter.startsWith('$queue/')) return;
    const subIds = sub.subscriptionId > 0 ? [sub.subscriptionId] : null;
    if (this.bulk?.serve(session, sub, subIds)) return;
    const maxQos = sub.qos;
    this.retained.search(sub.filter, this.wheel.now, (msg) => {
      const qos = (msg.qos < maxQos ? msg.qos : maxQos) as QoS;
      this.delivery.deliver(session, msg, qos, true, subIds, null);
    });
  }

  unsubscribe(session: Session, filter: string): boolean {
    const removed = this.router.unsubscribe(session, filter);
    this.bulk?.cancel(session, filter);
    if (removed && session.persistent) this.store.putSession(sessionRecord(session));
    return removed;
  }

  /** Routes a message (and stores it when retained); read the outcome before the next call. */
  publish(msg: Message): PublishOutcome {
    const outcome = this.outcome;
    this.metrics.messagesReceived++;
    const accepted = this.hooks.messageAccepted;
    if (accepted !== null) accepted(msg);
    const forward = this.hooks.messageForward;
    let stored = forward !== null ? forward(msg) : false;
    const published = this.hooks.messagePublished;
    if (published !== null) published(msg);
    this.delivery.stored = false;
    if (msg.retain && this.retained.update(msg, this.wheel.now) && msg.qos > 0) stored = true;
    outcome.matched = this.router.route(msg, this, this.publishKinds);
    outcome.stored = stored || this.delivery.stored;
    return outcome;
  }

  /**
   * A message another node published (the cluster): routed to this node's plain subscriptions
   * only, without the hooks of an accepted message (its own node told them) and without touching
   * the retained messages (they are synchronised on their own); returns the deliveries made.
   */
  routeRemote(msg: Message): number {
    this.delivery.stored = false;
    return this.router.route(msg, this, ROUTE_PLAIN);
  }

  /** Hands a message to one member of this node's shared group `group` on `filter`; false when it has none. */
  routeShared(msg: Message, group: string, filter: string): boolean {
    return this.router.routeShared(msg, group, filter, this);
  }

  /**
   * While true, a publish here reaches plain subscriptions only: shared groups are served by
   * whoever called this (the cluster picks one member cluster-wide and calls routeShared).
   */
  serveSharedGroupsElsewhere(elsewhere: boolean): void {
    this.publishKinds = elsewhere ? ROUTE_PLAIN : ROUTE_ALL;
  }

  /**
   * Sets, replaces or (empty payload) clears a retained message as another node decided,
   * without routing it; true when the local index changed.
   */
  applyRetained(msg: Message): boolean {
    return this.retained.update(msg, this.wheel.now);
  }

  /**
   * Point-to-point: hands a message to the session of `clientId` alone, whatever it subscribed
   * (online, or queued for a persistent session); never retained. A client with no session here
   * may be on another node of the cluster (hook pointToPointAway), which checks `may` there.
   */
  publishTo(clientId: string, msg: Message, may: PublishRight | null = null): PublishOutcome {
    const outcome = this.outcome;
    this.metrics.messagesReceived++;
    msg.target = clientId;
    const accepted = this.hooks.messageAccepted;
    if (accepted !== null) accepted(msg);
    const forward = this.hooks.messageForward;
    const forwarded = forward !== null ? forward(msg) : false;
    this.delivery.stored = false;
    outcome.matched = this.deliverTo(clientId, msg) ? 1 : 0;
    if (outcome.matched === 0) {
      const away = this.hooks.pointToPointAway;
      // Whether it reaches anyone is known later, on the node holding the client: counted as matched.
      if (away?.(clientId, msg, may)) outcome.matched = 1;
    }
    outcome.stored = forwarded || this.delivery.stored;
    return outcome;
  }

  /** The session here a point-to-point message for `clientId` goes to (online, or persistent), or null. */
  pointToPointSession(clientId: string): Session | null {
    const session = this.sessions.get(clientId);
    return session !== undefined && (session.owner !== null || session.persistent) ? session : null;
  }

  /** A point-to-point message to the session of `clientId` here, if it has one (no hooks: another node took it); false if none. */
  deliverTo(clientId: string, msg: Message): boolean {
    const session = this.pointToPointSession(clientId);
    if (session === null) return false;
    this.delivery.deliver(session, msg, msg.qos, false, null, null);
    return true;
  }

  /** RouteSink: one delivery decided by the router. */
  deliver(session: Session, msg: Message, qos: QoS, retain: boolean, subIds: number[] | null, group: SharedGroup | null): void {
    // A session fed by the cluster's journal gets its QoS 1/2 copy of a journaled message from there.
    if (msg.journaled && qos !== 0 && group === null && session.journalFed) return;
    if (this.bulk !== null && this.bulk.active > 0) this.bulk.noteLive(session, msg);
    this.delivery.deliver(session, msg, qos, retain, subIds, group);
  }

  /** One delivery a session's journal feed brought (the cluster's durable QoS). */
  deliverJournaled(session: Session, msg: Message, qos: 1 | 2, retain: boolean, subIds: number[] | null, ref: JournalRef, redelivered: boolean): void {
    this.delivery.deliverJournaled(session, msg, qos, retain, subIds, ref, redelivered);
  }

  /** The client acknowledged QoS 1 delivery `id` (PUBACK). */
  acknowledge(session: Session, id: number): boolean {
    return this.delivery.acknowledge(session, id);
  }

  /** The client received QoS 2 delivery `id` (PUBREC); returns the release's reason code or NO_RELEASE. */
  received(session: Session, id: number, reasonCode: number): number {
    return this.delivery.received(session, id, reasonCode);
  }

  /** The client completed QoS 2 delivery `id` (PUBCOMP). */
  completed(session: Session, id: number): boolean {
    return this.delivery.completed(session, id);
  }

  /** A message meant for `session` was dropped before reaching it (counted, and told to the hooks). */
  dropped(session: Session | null, msg: Message, reason: DropReason): void {
    this.delivery.dropped(session, msg, reason);
  }

  /**
   * Calls fn(arg, null) once every store write issued so far is durable (and, in a cluster, once
   * NATS holds what was sent), fn(arg, error) when one cannot be.
   */
  afterCommit<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void {
    const gate = this.commitGate;
    if (gate === null) this.store.afterCommit(fn, arg);
    else gate.afterCommit(fn, arg);
  }
}

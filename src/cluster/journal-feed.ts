/**
 * Persistent sessions' side of --cluster-durable-qos (docs/CLUSTER.md). Each QoS 1/2
 * subscription of a persistent session has a durable JetStream consumer on the journal, named
 * after the client id and filter so that any node finds it; the node where the session lives
 * reads it while the client is online. Such a session takes journaled messages from its
 * consumers only (Broker.deliver skips them), under the packet id their journal sequence fixes,
 * and each is acknowledged to JetStream when the client is done with it (PUBACK; PUBREC for QoS 2,
 * once its receipt is recorded: qos2-receipts.ts). What a lost node held comes back from the
 * journal to whichever node the session lives on next, and what was published meanwhile waits
 * in the journal.
 */
import { createHash } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import type { SessionEndReason } from '../core/hooks.js';
import { Message, type QoS } from '../core/message.js';
import { OutState, Outgoing, type Session, type SessionSubscription } from '../core/session.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { messageFrom, readHeaders } from './headers.js';
import type { DurableRoutes } from './durable-routes.js';
import { JOURNAL_PREFIX, JOURNAL_STREAM, type Journal } from './journal.js';
import type { LinkListener } from './nats-link.js';
import type { Qos2Receipts } from './qos2-receipts.js';
import type { RouteWait } from './route-wait.js';
import { FeedRef, ReceiptRef, SessionFeed, type FeedConsumer, type FeedHost } from './session-feed.js';
import { openWithRetry } from './streams.js';
import { filterToSubjects, subjectToTopic } from './subject-map.js';

/** How far before a subscription its new consumer starts reading (clock differences); earlier messages are dropped by their time. */
const START_MARGIN_MS = 2000;

export interface FeedOptions {
  /** max ack pending of each consumer: the session's inflight window */
  window: number;
  redeliveryMs: number;
  replicas: number;
  timeoutMs: number;
}

/** What the feed counted since the start. */
export interface FeedCounters {
  consumersCreated: number;
  consumersDeleted: number;
  delivered: number;
  /** copies the journal sent again that were already here, or that a QoS 2 receipt covers */
  duplicates: number;
}

/** The durable consumer name of (client id, filter, journal subject): the same on every node. */
function consumerName(clientId: string, filter: string, subject: string): string {
  return 'jq_' + createHash('sha256').update(clientId).update('\u0000').update(filter).update('\u0000').update(subject).digest('base64url').slice(0, 32);
}

export class JournalFeed implements LinkListener, FeedHost {
  readonly counters: FeedCounters = { consumersCreated: 0, consumersDeleted: 0, delivered: 0, duplicates: 0 };
  private readonly feeds = new Map<string, SessionFeed>();
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private removals: Array<{ feed: SessionFeed; filter: string }> = [];
  private closed = false;
  /** The feed's JetStream handles are being made (or are made). */
  private readying = false;
  /** NATS is connected: a SUBACK may wait for its route (while it is away nothing could confirm one). */
  private linkUp = false;

  constructor(
    private readonly broker: Broker,
    private readonly journal: Journal,
    private readonly routes: DurableRoutes,
    private readonly receipts: Qos2Receipts,
    private readonly node: string,
    /** new subscriptions' SUBACKs waiting for their routes */
    private readonly routeWait: RouteWait,
    private readonly options: FeedOptions,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {}

  /** Feeds the persistent sessions restored so far and listens to the hooks; returns the function that stops. */
  attach(): () => void {
    for (const session of this.broker.sessions.values()) for (const sub of session.subscriptions.values()) this.added(session, sub);
    const hooks = this.broker.hooks;
    const offs = [
      hooks.on('subscriptionAdded', (session, sub) => this.added(session, sub)),
      hooks.on('subscriptionRemoved', (session, sub) => this.removed(session, sub)),
      hooks.on('sessionEnded', (session, reason) => this.ended(session, reason)),
      hooks.on('clientConnected', (client) => this.online(client.clientId)),
      hooks.on('clientDisconnected', (client) => this.offline(client.clientId)),
      hooks.on('qos2Released', (session, id) => this.receipts.released(session.clientId, id)),
    ];
    this.journal.onReady = () => this.journalReady();
    this.routes.onReady = () => this.journalReady();
    return () => {
      for (const off of offs) off();
    };
  }

  up(nc: NatsConnection, first: boolean): void {
    this.nc = nc;
    this.linkUp = true;
    if (first) {
      void this.openReceipts(nc);
      return;
    }
    // Reconnected (perhaps to another server): the pull requests in flight died with the old
    // connection, so every consumer read here starts again rather than wait for missed heartbeats.
    for (const feed of this.feeds.values()) {
      for (const c of feed.consumers.values()) this.stop(c);
      if (feed.session.owner !== null) void this.bind(feed);
    }
  }

  down(): void {
    this.linkUp = false;
  }

  private openReceipts(nc: NatsConnection): Promise<void> {
    return openWithRetry(
      'cluster QoS 2 receipts stream',
      async () => {
        await this.receipts.open(nc, this.options.replicas);
        this.journalReady();
      },
      () => this.closed,
      this.log,
    );
  }

  /** The streams are there: consumers are made, and online sessions read them. */
  private journalReady(): void {
    const nc = this.nc;
    if (nc === null || !this.journal.ready || !this.receipts.ready || !this.routes.ready || this.readying) return;
    this.readying = true;
    // Consumer calls fail fast during a leader election and are tried again a second later (cluster.ts keeps the timeout short).
    const timeout = this.options.timeoutMs;
    void openWithRetry(
      'cluster journal feed',
      async () => {
        // A JetStream that does not answer (a busy or electing NATS cluster) is asked again rather than waited on for good.
        const jsm = await jetstreamManager(nc, { timeout });
        this.js = jetstream(nc, { timeout });
        this.jsm = jsm;
        this.log.info('cluster journal feed ready: persistent sessions read the journal', { sessions: this.feeds.size });
        for (const feed of this.feeds.values()) void this.bind(feed);
      },
      () => this.closed,
      this.log,
    );
  }

  // --- sessions and subscriptions ------------------------------------------------------------

  private eligible(session: Session, sub: SessionSubscription): boolean {
    const f = sub.filter;
    return sub.qos > 0 && session.persistent && f.charCodeAt(0) !== 0x24 && filterToSubjects(f) !== null;
  }

  private added(session: Session, sub: SessionSubscription): void {
    if (!this.eligible(session, sub)) return;
    let feed = this.feeds.get(session.clientId);
    if (feed === undefined || feed.session !== session) {
      feed = new SessionFeed(session, this.receipts.of(session.clientId), this.options.redeliveryMs);
      this.feeds.set(session.clientId, feed);
    }
    session.journalFed = true;
    const now = Date.now();
    for (const subject of filterToSubjects(sub.filter)!) {
      const name = consumerName(session.clientId, sub.filter, subject);
      if (feed.consumers.has(name)) continue;
      const c: FeedConsumer = { name, filter: sub.filter, subject: JOURNAL_PREFIX + subject, since: now, ready: false, messages: null, starting: false, removed: false, routed: null };
      feed.consumers.set(name, c);
      if (session.owner !== null && this.linkUp) this.routeWait.hold(c);
    }
    void this.bind(feed);
  }

  private removed(session: Session, sub: SessionSubscription): void {
    const feed = this.feeds.get(session.clientId);
    if (feed === undefined || feed.session !== session) return;
    if (this.removals.length === 0) queueMicrotask(() => this.flushRemovals());
    this.removals.push({ feed, filter: sub.filter });
  }

  /** After the turn's hooks: an unsubscribe or an ended session deletes consumers; a session that moved or stopped keeps them. */
  private flushRemovals(): void {
    const removals = this.removals;
    this.removals = [];
    for (const { feed, filter } of removals) {
      const keep = feed.ended === 'moved' || feed.ended === 'shutdown';
      for (const c of [...feed.consumers.values()]) {
        if (c.filter !== filter) continue;
        c.removed = true;
        this.stop(c);
        feed.consumers.delete(c.name);
        if (!keep) this.deleteConsumer(c.name);
      }
      if (feed.consumers.size === 0 && feed.ended === null) feed.session.journalFed = false;
    }
  }

  private ended(session: Session, reason: SessionEndReason): void {
    const staying = reason === 'moved' || reason === 'shutdown';
    if (staying) this.receipts.forget(session.clientId);
    else if (this.receipts.ready) this.receipts.clear(session.clientId);
    const feed = this.feeds.get(session.clientId);
    if (feed === undefined || feed.session !== session) return;
    feed.ended = reason;
    this.feeds.delete(session.clientId);
    for (const c of feed.consumers.values()) this.stop(c);
    // The next node gets these from the journal at once rather than after --cluster-redelivery.
    if (staying) for (const ref of [...feed.held.values()]) ref.abandon();
  }

  private online(clientId: string): void {
    const feed = this.feeds.get(clientId);
    if (feed !== undefined && feed.session === this.broker.sessions.get(clientId)) void this.bind(feed);
  }

  private offline(clientId: string): void {
    const feed = this.feeds.get(clientId);
    if (feed !== undefined) for (const c of feed.consumers.values()) this.stop(c);
  }

  // --- consumers -----------------------------------------------------------------------------

  /** Makes the session's consumers; while its client is online, reads them (its receipts first). */
  private async bind(feed: SessionFeed): Promise<void> {
    const js = this.js;
    const jsm = this.jsm;
    if (js === null || jsm === null) return;
    try {
      if (!feed.restored) {
        await this.receipts.load(feed.session.clientId, feed.receipts);
        if (!feed.restored) this.restoreReceipts(feed);
      }
      for (const c of feed.consumers.values()) {
        if (!c.ready) await this.ensureConsumer(jsm, c);
        if (feed.session.owner !== null && feed.ended === null && !c.removed) await this.start(js, feed, c);
      }
    } catch (err) {
      if (this.logLimit.allow('cluster-journal-bind'))
        this.log.warn('cluster journal consumers of a session not ready; trying again', { clientId: feed.session.clientId, error: (err as Error).message });
      setTimeout(() => {
        if (feed.ended === null && !this.closed) void this.bind(feed);
      }, 1000).unref();
    }
  }

  /** Receipts another node left: PUBREL again for each, and the journal's copies dropped. */
  private restoreReceipts(feed: SessionFeed): void {
    feed.restored = true;
    const session = feed.session;
    for (const [seq, id] of feed.receipts.bySeq) {
      if (session.inflight.has(id)) continue;
      const out = new Outgoing(session.nextSeq++, new Message('', Buffer.alloc(0), 2, false, null, 0, null), 2, false, null, null);
      out.id = id;
      out.state = OutState.Released;
      out.journal = new ReceiptRef(feed, seq);
      session.setInflight(id, out);
      session.owner?.release?.(id);
    }
  }

  private async ensureConsumer(jsm: JetStreamManager, c: FeedConsumer): Promise<void> {
    try {
      await jsm.consumers.info(JOURNAL_STREAM, c.name);
      c.since = 0;
      // A route lost (its write failed when the consumer was made) is written again.
      this.routeWait.written(c, this.routes.has(c.name) ? 0 : await this.routes.add(c.name, c.filter));
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
      // The route first: messages on the filter are journaled from now on, and the consumer starts before it.
      this.routeWait.written(c, await this.routes.add(c.name, c.filter));
      await jsm.consumers.add(JOURNAL_STREAM, {
        durable_name: c.name,
        filter_subject: c.subject,
        ack_policy: AckPolicy.Explicit,
        ack_wait: this.options.redeliveryMs * 1_000_000,
        max_ack_pending: this.options.window,
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(c.since - START_MARGIN_MS).toISOString(),
      });
      this.counters.consumersCreated++;
    }
    c.ready = true;
  }

  private async start(js: JetStreamClient, feed: SessionFeed, c: FeedConsumer): Promise<void> {
    if (c.messages !== null || c.starting) return;
    c.starting = true;
    try {
      const consumer = await js.consumers.get(JOURNAL_STREAM, c.name);
      // Pull requests that expire every few seconds: after a NATS server (or the consumer's leader) dies,
      // the missing heartbeats are noticed and the reading resumes within that time.
      const messages = await consumer.consume({ max_messages: Math.min(this.options.window, 1000), expires: Math.max(5000, this.options.redeliveryMs) });
      c.messages = messages;
    } finally {
      c.starting = false;
    }
    // Offline, ended or unsubscribed meanwhile.
    if (feed.session.owner === null || feed.ended !== null || c.removed) {
      this.stop(c);
      return;
    }
    const messages = c.messages;
    void (async () => {
      for await (const m of messages) this.take(feed, c, m);
    })().catch((err: Error) => {
      if (c.messages === messages) {
        c.messages = null;
        if (this.logLimit.allow('cluster-journal-read')) this.log.warn('cluster journal consumer stopped; reading it again', { clientId: feed.session.clientId, error: err.message });
        setTimeout(() => void this.bind(feed), 1000).unref();
      }
    });
  }

  private stop(c: FeedConsumer): void {
    const messages = c.messages;
    c.messages = null;
    if (messages !== null) void messages.close().catch(() => undefined);
  }

  private deleteConsumer(name: string): void {
    const jsm = this.jsm;
    if (jsm === null) return;
    this.routes.remove(name);
    jsm.consumers.delete(JOURNAL_STREAM, name).then(
      () => this.counters.consumersDeleted++,
      () => undefined,
    );
  }

  /** One message from a session's consumer. */
  private take(feed: SessionFeed, c: FeedConsumer, m: JsMsg): void {
    const key = c.name + ':' + m.seq;
    const held = feed.held.get(key);
    if (held !== undefined) {
      // Sent again while its delivery is still here: the newest copy is the one to acknowledge.
      held.m = m;
      this.counters.duplicates++;
      return;
    }
    if (feed.receipts.bySeq.has(m.seq) || (m.redelivered && feed.completed.has(m.seq))) {
      m.ack();
      this.counters.duplicates++;
      if (feed.settled.delete(m.seq) && feed.receipts.bySeq.delete(m.seq)) this.saveReceipts(feed, null);
      return;
    }
    const session = feed.session;
    const sub = session.subscriptions.get(c.filter);
    if (sub === undefined || c.removed || feed.ended !== null) return;
    const f = readHeaders(m.headers);
    const time = f.time === '' ? 0 : Number(f.time);
    if (f.skipNode === this.node || (sub.noLocal && f.origin === session.clientId) || (c.since > 0 && time < c.since)) {
      m.ack();
      return;
    }
    if (f.journalId !== '') {
      // The same record under another sequence: JetStream stored one write twice (session-feed.ts).
      // Two consumers of the session (overlapping filters) see one record under one sequence.
      const seq = feed.records.get(f.journalId);
      if (seq !== undefined && seq !== m.seq) {
        m.ack();
        this.counters.duplicates++;
        return;
      }
      feed.records.set(f.journalId, m.seq);
    }
    const msg = messageFrom(subjectToTopic(m.subject.slice(JOURNAL_PREFIX.length)), Buffer.from(m.data), f, time > 0 ? time : Date.now(), f.origin === '' ? null : f.origin);
    msg.journaled = true;
    const qos = (msg.qos < sub.qos ? msg.qos : sub.qos) as QoS;
    if (qos === 0) {
      m.ack();
      return;
    }
    const ref = new FeedRef(this, feed, key, m);
    feed.held.set(key, ref);
    this.counters.delivered++;
    this.broker.deliverJournaled(session, msg, qos, sub.retainAsPublished ? msg.retain : false, sub.subscriptionId > 0 ? [sub.subscriptionId] : null, ref, m.redelivered);
  }

  /** Writes a session's QoS 2 receipts (see Qos2Receipts.save). */
  saveReceipts(feed: SessionFeed, done: (() => void) | null): void {
    this.receipts.save(feed.session.clientId, feed.receipts, done);
  }

  /** Stops reading; what is held here goes back to the journal for the next node. */
  close(): void {
    this.closed = true;
    for (const feed of this.feeds.values()) {
      for (const c of feed.consumers.values()) this.stop(c);
      for (const ref of [...feed.held.values()]) ref.abandon();
    }
  }
}

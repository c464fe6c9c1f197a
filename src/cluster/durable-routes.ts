/**
 * Which topics some persistent session reads from the journal (docs/CLUSTER.md, "Durable QoS
 * 1/2"): the journal takes a QoS 1/2 message only when its topic matches one of these filters,
 * so traffic that no persistent session wants (clean sessions, QoS 0 subscriptions) never pays
 * for a JetStream write. EMQX decides the same way with its durable-session routes.
 *
 * The stream JUNCTION_DURABLE holds one record per journal consumer (subject: its name; value:
 * the MQTT filter it serves; empty: gone). Every node follows it into a topic trie. A route is
 * written before its consumer is made, and applied here at once, so this node's own publishers
 * journal at once; another node learns it when the record reaches it (a few milliseconds), and
 * says so when asked (confirm(): a core request every node answers once it has read that far).
 * The SUBACK of the subscription waits for those answers (--cluster-route-wait), so what any
 * node publishes after it is journaled.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { TopicMatcher } from '../core/router.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { LinkListener } from './nats-link.js';
import { StreamFollower } from './stream-follower.js';
import { ensureStream, openWithRetry } from './streams.js';

export const DURABLE_STREAM = 'JUNCTION_DURABLE';
export const DURABLE_PREFIX = '$JUNCTION.durable.';
/** Core subject of "do you know the routes up to this sequence?" (outside the stream's subjects). */
const KNOWN_SUBJECT = '$JUNCTION.routes.known';
/** A question this node cannot answer yet is dropped after this long (the asker has given up), or past this many. */
const KNOWN_WAIT_MAX_MS = 60_000;
const KNOWN_WAITING_MAX = 10_000;
/** How often a confirmation waiting for answers looks again at which nodes are live. */
const RECHECK_MS = 250;
const EMPTY = new Uint8Array(0);
/** Topics whose answer is kept, per answer: a new filter drops the no's, a filter gone the yes's. */
const CACHE_MAX = 10_000;

/** What the durable routes counted. */
export interface DurableRouteCounters {
  /** QoS 1/2 messages no persistent session's filter matched (not journaled) */
  skipped: number;
  /** route records this node failed to write (the consumer's next bind writes it again) */
  failed: number;
  /** new routes every live node confirmed before the SUBACK */
  confirmed: number;
  /** new routes whose SUBACK went after --cluster-route-wait without every node's confirmation */
  unconfirmed: number;
}

export class DurableRoutes implements LinkListener {
  readonly counters: DurableRouteCounters = { skipped: 0, failed: 0, confirmed: 0, unconfirmed: 0 };
  private js: JetStreamClient | null = null;
  /** The first full read of the stream is done: until then every QoS 1/2 message is journaled. */
  private loaded = false;
  private closed = false;
  /** consumer name -> the filter it serves */
  private readonly routes = new Map<string, string>();
  /** filter -> its trie id and how many consumers serve it */
  private readonly filters = new Map<string, { id: number; count: number }>();
  private nextId = 1;
  /** Topics known to match a route, and known to match none (see CACHE_MAX). */
  private readonly yes = new Set<string>();
  private readonly no = new Set<string>();
  private readonly follower: StreamFollower;
  private nc: NatsConnection | null = null;
  private known: Subscription | null = null;
  /** Questions asked before this node had read that far: [sequence, reply subject, when], oldest first. */
  private waiting: Array<[number, string, number]> = [];
  /** Called once the stream was read (the journal's consumers are made then). */
  onReady: (() => void) | null = null;

  /**
   * `trie`: an empty topic matcher without a match cache of its own (this keeps one of answers);
   * every node holds every route, so the native trie when the module is loaded (less memory).
   */
  constructor(
    private readonly node: string,
    private readonly replicas: number,
    private readonly trie: TopicMatcher,
    private readonly log: Logger,
    logLimit: LogRateLimit,
  ) {
    this.follower = new StreamFollower(DURABLE_STREAM, 'cluster durable routes stream', 1000, log, logLimit, () => this.closed);
  }

  /** True once the stream was read and routes can be written. */
  get ready(): boolean {
    return this.loaded;
  }

  /** Distinct filters persistent sessions read from the journal. */
  get size(): number {
    return this.filters.size;
  }

  up(nc: NatsConnection, first: boolean): void {
    if (!first) {
      this.follower.restart();
      return;
    }
    this.nc = nc;
    // Answered from the start: until its first read a node journals everything, which is as good as knowing every route.
    this.known = nc.subscribe(KNOWN_SUBJECT, {
      callback: (err, m) => {
        if (err === null) this.asked(m);
      },
    });
    void this.open(nc);
  }

  down(): void {}

  private open(nc: NatsConnection): Promise<void> {
    return openWithRetry(
      'cluster durable routes stream',
      async () => {
        const jsm = await jetstreamManager(nc);
        await ensureStream(jsm, nc, { name: DURABLE_STREAM, subjects: [`${DURABLE_PREFIX}>`], max_msgs_per_subject: 1 }, this.replicas, this.log);
        const js = jetstream(nc);
        await this.follower.load(js, jsm, (m) => this.applied(m));
        this.js = js;
        this.loaded = true;
        this.log.info('cluster durable routes loaded', { stream: DURABLE_STREAM, filters: this.filters.size });
        this.onReady?.();
      },
      () => this.closed,
      this.log,
    );
  }

  /** True when a QoS 1/2 message on `topic` must go into the journal (counted when not). */
  wants(topic: string): boolean {
    if (!this.loaded || this.yes.has(topic)) return true;
    // No route at all (a cluster without persistent QoS 1/2 subscribers): nothing to look up or to cache.
    if (this.filters.size > 0 && !this.no.has(topic)) {
      const answer = this.trie.match(topic).length > 0;
      const cache = answer ? this.yes : this.no;
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.add(topic);
      if (answer) return true;
    }
    this.counters.skipped++;
    return false;
  }

  /** True when consumer `name` has its route (known here). */
  has(name: string): boolean {
    return this.routes.has(name);
  }

  /**
   * Writes the route of consumer `name` (serving `filter`) and applies it here at once; resolves
   * with the record's stream sequence, rejects when it was not written.
   */
  async add(name: string, filter: string): Promise<number> {
    const js = this.js;
    if (js === null) throw new Error(`stream ${DURABLE_STREAM} not open`);
    this.set(name, filter);
    try {
      return (await js.publish(DURABLE_PREFIX + name, Buffer.from(filter, 'utf8'))).seq;
    } catch (err) {
      this.counters.failed++;
      throw err;
    }
  }

  /**
   * Resolves true once every node `liveNodes` names said it has read the routes up to `seq` (so
   * what it publishes from then on is journaled), false when `timeoutMs` passed first. A node
   * that stops being live meanwhile (lost, left) is no longer waited for.
   */
  confirm(seq: number, liveNodes: () => readonly string[], timeoutMs: number): Promise<boolean> {
    const nc = this.nc;
    const missing = new Set(liveNodes());
    missing.delete(this.node);
    if (nc === null || missing.size === 0) return Promise.resolve(nc !== null);
    return new Promise<boolean>((resolve) => {
      const inbox = createInbox();
      let settled = false;
      const done = (ok: boolean): void => {
        settled = true;
        clearTimeout(timer);
        clearInterval(recheck);
        sub.unsubscribe();
        if (ok) this.counters.confirmed++;
        else this.counters.unconfirmed++;
        resolve(ok);
      };
      const sub = nc.subscribe(inbox, {
        callback: (err, m) => {
          if (err !== null || settled) return;
          missing.delete(m.string());
          if (missing.size === 0) done(true);
        },
      });
      const timer = setTimeout(() => done(false), timeoutMs);
      const recheck = setInterval(() => {
        const live = new Set(liveNodes());
        for (const name of missing) if (!live.has(name)) missing.delete(name);
        if (missing.size === 0) done(true);
      }, RECHECK_MS);
      nc.publish(KNOWN_SUBJECT, String(seq), { reply: inbox });
    });
  }

  /** Another node asks whether this one has read the routes up to a sequence: answered once it has. */
  private asked(m: Msg): void {
    const seq = Number(m.string());
    if (m.reply === undefined || !Number.isSafeInteger(seq)) return;
    if (!this.loaded || this.follower.seq >= seq) m.respond(this.node);
    else {
      // A follower stuck behind (its consumer lost) must not make this list grow for good: the askers time out anyway.
      if (this.waiting.length >= KNOWN_WAITING_MAX) this.waiting.shift();
      this.waiting.push([seq, m.reply, Date.now()]);
    }
  }

  /** Answers the questions this node has now read far enough for; forgets those long given up on. */
  private answerWaiting(): void {
    const nc = this.nc;
    if (nc === null || this.waiting.length === 0) return;
    const read = this.follower.seq;
    const stale = Date.now() - KNOWN_WAIT_MAX_MS;
    this.waiting = this.waiting.filter(([seq, reply, at]) => {
      if (seq <= read) nc.publish(reply, this.node);
      else if (at >= stale) return true;
      return false;
    });
  }

  /** Removes the route of consumer `name` (its consumer is deleted). */
  remove(name: string): void {
    this.set(name, null);
    const js = this.js;
    if (js === null) return;
    js.publish(DURABLE_PREFIX + name, EMPTY).catch((err: Error) => {
      this.counters.failed++;
      this.log.warn('cluster durable route not removed: messages on its filter are still journaled', { consumer: name, error: err.message });
    });
  }

  private applied(m: JsMsg): void {
    const name = m.subject.slice(DURABLE_PREFIX.length);
    this.set(name, m.data.length === 0 ? null : Buffer.from(m.data).toString('utf8'));
    if (this.waiting.length > 0) this.answerWaiting();
  }

  private set(name: string, filter: string | null): void {
    const was = this.routes.get(name);
    if (was === filter || (was === undefined && filter === null)) return;
    if (was !== undefined) {
      const f = this.filters.get(was)!;
      if (--f.count === 0) {
        this.filters.delete(was);
        this.trie.remove(was, f.id);
        // A filter gone can only turn a yes into a no; another consumer of the same filter changes nothing.
        this.yes.clear();
      }
      this.routes.delete(name);
    }
    if (filter !== null) {
      this.routes.set(name, filter);
      const f = this.filters.get(filter);
      if (f !== undefined) f.count++;
      else {
        const id = this.nextId++;
        this.filters.set(filter, { id, count: 1 });
        this.trie.insert(filter, id, 0);
        this.no.clear();
      }
    }
  }

  close(): void {
    this.closed = true;
    this.known?.unsubscribe();
    this.follower.restart();
  }
}

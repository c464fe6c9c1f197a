/**
 * Retained messages shared by every node: a JetStream stream (JUNCTION_RETAINED, one message
 * per subject, --cluster-retained-replicas replicas) holds the newest message of each topic,
 * an empty one where a topic was cleared. Each node keeps its local index (LMDB) in step: on
 * start it loads the stream's last message per topic, then watches it, and applies every change
 * in the stream's order, its own included, so every node ends with the same state. What a node
 * has that the stream never saw (retained while NATS was away, or before the cluster existed)
 * is written to the stream once it is reachable.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import { Message } from '../core/message.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { messageFrom, messageHeaders, readHeaders } from './headers.js';
import type { LinkListener, NatsLink } from './nats-link.js';
import { StreamFollower } from './stream-follower.js';
import { ensureStream } from './streams.js';

export const RETAINED_STREAM = 'JUNCTION_RETAINED';
export const RETAINED_PREFIX = '$JUNCTION.retained.';
const EMPTY = Buffer.alloc(0);

/** The stream subject of a topic's retained message. */
export function retainedSubject(topic: string): string {
  return RETAINED_PREFIX + Buffer.from(topic, 'utf8').toString('base64url');
}

/** What the synchronisation counted since the start. */
export interface RetainedCounters {
  /** changes written to the stream */
  written: number;
  /** changes read from the stream and applied here */
  applied: number;
  /** writes that failed (retried when NATS is back) */
  failed: number;
}

export class RetainedSync implements LinkListener {
  private js: JetStreamClient | null = null;
  /** Topics whose newest local change has not reached the stream. */
  private readonly pending = new Set<string>();
  private loadedResolve: (() => void) | null = null;
  /** Resolves once the stream was read up to its end the first time. */
  readonly loaded: Promise<void>;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly follower: StreamFollower;
  /** This node's writes per topic not yet read back from the stream. */
  private readonly inFlight = new Map<string, number>();
  private lastFailure = '';
  private lastFailureLog = 0;
  readonly counters: RetainedCounters = { written: 0, applied: 0, failed: 0 };

  constructor(
    private readonly broker: Broker,
    private readonly link: NatsLink,
    private readonly node: string,
    private readonly replicas: number,
    private readonly retryMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {
    this.follower = new StreamFollower(RETAINED_STREAM, 'cluster retained stream', retryMs, log, logLimit, () => this.closed);
    this.loaded = new Promise((resolve) => {
      this.loadedResolve = resolve;
    });
  }

  /** Listens to the hook seam for retained messages published or removed here; returns the function that stops. */
  attach(): () => void {
    const hooks = this.broker.hooks;
    const offs = [
      hooks.on('messagePublished', (msg) => {
        if (msg.retain && msg.topic.charCodeAt(0) !== 0x24) this.write(msg.topic, msg);
      }),
      // An operator's delete clears the topic on every node.
      hooks.on('retainedCleared', (topic) => {
        if (topic.charCodeAt(0) !== 0x24) this.write(topic, undefined);
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  up(nc: NatsConnection, first: boolean): void {
    if (first) {
      void this.start(nc);
      return;
    }
    // The consumer may have lived on the server that went away: follow the stream again from the last change applied.
    this.follower.restart();
    if (this.js !== null) this.flush();
  }

  down(): void {}

  private async start(nc: NatsConnection): Promise<void> {
    while (!this.closed) {
      let step = 'creating the stream';
      try {
        await ensureStream(await jetstreamManager(nc), nc, { name: RETAINED_STREAM, subjects: [`${RETAINED_PREFIX}>`], max_msgs_per_subject: 1 }, this.replicas, this.log);
        this.js = jetstream(nc);
        step = 'reading the stream';
        const seen = await this.watch(this.js, nc);
        // What this node retained that the stream never heard of.
        this.broker.searchRetained('#', (msg) => {
          if (!seen.has(msg.topic)) this.pending.add(msg.topic);
        });
        this.flush();
        return;
      } catch (err) {
        if (this.closed) return;
        // Once per kind of failure, then once a minute: a NATS without JetStream would fill the log otherwise.
        const text = (err as Error).message;
        const now = Date.now();
        if (text !== this.lastFailure || now - this.lastFailureLog >= 60_000) {
          this.lastFailure = text;
          this.lastFailureLog = now;
          this.log.error('cluster retained messages not synchronised; retrying (nats-server needs JetStream: -js)', { step, error: text, retryMs: this.retryMs });
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryMs).unref());
      }
    }
  }

  /** Applies the stream's newest message of every topic, then keeps following it; resolves after the first full read with the topics seen. */
  private async watch(js: JetStreamClient, nc: NatsConnection): Promise<Set<string>> {
    const seen = new Set<string>();
    await this.follower.load(js, await jetstreamManager(nc), (m, initial) => {
      const topic = this.apply(m);
      if (initial && topic !== null) seen.add(topic);
    });
    this.loadedResolve?.();
    this.log.info('cluster retained messages loaded', { stream: RETAINED_STREAM, topics: seen.size, retainedHere: this.broker.retainedCount });
    return seen;
  }

  /** One change read from the stream: set, replace or clear the local copy; returns its topic. */
  private apply(m: JsMsg): string | null {
    const f = readHeaders(m.headers);
    const topic = f.topic;
    if (topic === '') return null;
    if (f.node === this.node) {
      // This node's own write coming back: when a newer one of the same topic is still on its
      // way, applying this one would show a subscriber here an older value for a moment.
      const left = (this.inFlight.get(topic) ?? 1) - 1;
      if (left > 0) {
        this.inFlight.set(topic, left);
        return topic;
      }
      this.inFlight.delete(topic);
    }
    const payload = m.data.length === 0 ? EMPTY : Buffer.from(m.data);
    const msg = messageFrom(topic, payload, f, m.info.timestampNanos / 1e6, null);
    msg.retain = true;
    this.broker.applyRetained(msg);
    this.counters.applied++;
    return topic;
  }

  /** Writes a topic's newest local state to the stream, or keeps it for later when NATS is away. */
  private write(topic: string, msg: Message | undefined): void {
    const js = this.js;
    if (js === null || !this.link.up) {
      this.pending.add(topic);
      return;
    }
    const payload = msg === undefined ? EMPTY : msg.payload;
    const headers = msg === undefined ? messageHeaders(new Message(topic, EMPTY, 0, true, null, 0, null), this.node, Date.now(), topic) : messageHeaders(msg, this.node, Date.now(), topic);
    this.inFlight.set(topic, (this.inFlight.get(topic) ?? 0) + 1);
    js.publish(retainedSubject(topic), payload, { headers }).then(
      () => this.counters.written++,
      (err: Error) => {
        this.counters.failed++;
        const left = (this.inFlight.get(topic) ?? 1) - 1;
        if (left > 0) this.inFlight.set(topic, left);
        else this.inFlight.delete(topic);
        this.pending.add(topic);
        // JetStream answers nothing while it elects a new leader (a NATS server was lost): try again shortly.
        if (this.retryTimer === null && !this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            if (this.link.up) this.flush();
          }, this.retryMs);
          this.retryTimer.unref();
        }
        if (this.logLimit.allow('cluster-retained')) this.log.warn('cluster retained message not written yet; retrying', { topic, error: err.message, retryMs: this.retryMs });
      },
    );
  }

  /** Writes what waited: each topic's newest local state (cleared = an empty message). */
  private flush(): void {
    if (this.pending.size === 0) return;
    const topics = [...this.pending];
    this.pending.clear();
    for (const topic of topics) this.write(topic, this.broker.retainedMessage(topic));
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.follower.restart();
  }
}

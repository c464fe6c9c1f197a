/**
 * Bulk retained delivery: a wildcard subscription over a large retained set (`#` over a million
 * topics) is served in slices across event-loop turns, paced by the subscriber's socket, instead
 * of in one synchronous walk that would stall every other client and queue unbounded writes.
 *
 * Two paths, chosen per subscription:
 * - wire: worker threads (src/workers/) read the LMDB store and hand back batches of ready-made
 *   QoS 0 PUBLISH packets; this thread only writes each batch and asks for the next one once the
 *   socket has drained below the low-water mark. Used for QoS 0 subscriptions on the LMDB store.
 * - slices: this thread walks the in-memory index a few milliseconds at a time and delivers
 *   through the session (QoS 1/2 enter its window; the walk waits while the session's queue is
 *   non-empty, so retained messages never overflow --max-queued-messages). Used for the memory
 *   store, for QoS 1/2 subscriptions, and when no worker pool runs.
 *
 * Ordering guarantee (docs/PERFORMANCE.md): per topic, a subscriber never receives a retained
 * message after a live message on that topic. Live messages are not held back: a topic that got
 * a live delivery while its subscription's bulk delivery is still running is dropped from the
 * rest of that bulk delivery (the subscriber already has a newer value). Bulk deliveries of one
 * session run one after another, in SUBSCRIBE order.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Message, QoS } from './message.js';
import type { Session, SessionOwner } from './session.js';
import type { StoredSubscription, Store } from '../store/types.js';
import type { Logger } from '../log/logger.js';
import type { RetainedMessages } from './retained.js';
import { filterMatches, hasWildcard } from './topic.js';

/** A subscriber connection that can take pre-encoded MQTT PUBLISH packets. */
export interface BulkWireTarget {
  /** MQTT protocol level the packets must be encoded for. */
  readonly version: 3 | 4 | 5;
  /** The client's Maximum Packet Size; 0 = none. */
  readonly maxPacketSize: number;
  /** False once the connection is closing. */
  readonly writable: boolean;
  /** Bytes queued on the socket and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /**
   * Writes a batch of whole packets in order with every other write of the connection, leaving
   * out the packets whose topic is in `skip`; returns how many it left out.
   */
  writeBatch(data: Uint8Array, skip: ReadonlySet<string>): number;
}

/** One request to a WireBatchSource: the next batch of `filter`'s retained messages after a key. */
export interface WireBatchRequest {
  filter: string;
  /** Resume after this topic (store order); null = from the start. */
  after: string | null;
  /** Stop once the batch holds this many bytes. */
  maxBytes: number;
  version: 3 | 4 | 5;
  maxPacketSize: number;
  /** MQTT 5 Subscription Identifier to add to each packet; 0 = none. */
  subscriptionId: number;
  /** ms since the epoch: messages expired at this time are skipped. */
  now: number;
}

/** A batch of QoS 0 retained PUBLISH packets, concatenated. */
export interface WireBatch {
  data: Uint8Array;
  /** Packets in data. */
  count: number;
  /** Last topic read (resume key); null when nothing was read. */
  last: string | null;
  /** True when no matching topic follows. */
  done: boolean;
  /** Skipped as larger than maxPacketSize. */
  tooLarge: number;
  /** Skipped as expired. */
  expired: number;
}

/** Reads retained batches off the event loop (the piscina pool of src/workers/). */
export interface WireBatchSource {
  read(request: WireBatchRequest): Promise<WireBatch>;
}

/** How bulk delivery is set up (server.ts, from the flags). */
export interface BulkRetainedOptions {
  /** Retained set size from which wildcard subscriptions are served in slices. */
  threshold: number;
  /** Worker pool; null = slices on this thread only. */
  source: WireBatchSource | null;
  /** Socket bytes above which the next batch or slice waits. */
  lowWater: number;
  /** Bytes per worker batch. */
  batchBytes: number;
}

/** What bulk delivery needs from the broker. */
export interface BulkHost {
  readonly retained: RetainedMessages;
  readonly store: Store;
  readonly log: Logger;
  /** Coarse clock (ms since the epoch). */
  now(): number;
  /** Delivers one message to a session (window, queue, drops) as the router would. */
  deliver(session: Session, msg: Message, qos: QoS, retain: boolean, subIds: number[] | null): void;
}

/** Longest stretch one slice may run before yielding the event loop. */
const SLICE_MS = 4;
/** How often a paced delivery looks at the socket again while it waits. */
const PACE_MS = 1;

/** One subscription's bulk delivery. */
class BulkJob {
  /** Topics delivered live since this job was registered: dropped from the rest of the job. */
  readonly liveTopics = new Set<string>();
  cancelled = false;
  delivered = 0;
  skippedLive = 0;
  expired = 0;
  tooLarge = 0;
  readonly started = performance.now();
  readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });

  constructor(
    readonly session: Session,
    readonly owner: SessionOwner,
    readonly target: BulkWireTarget,
    readonly sub: StoredSubscription,
    readonly subIds: number[] | null,
  ) {}

  get alive(): boolean {
    return !this.cancelled && this.session.owner === this.owner && this.target.writable;
  }
}

/** Serves big wildcard retained searches in paced slices; see the file header. */
export class BulkRetained {
  private readonly jobs = new Map<Session, BulkJob[]>();
  private readonly waiters = new Map<BulkJob, () => void>();
  private pacer: NodeJS.Timeout | null = null;

  constructor(
    private readonly host: BulkHost,
    private readonly options: BulkRetainedOptions,
  ) {}

  /** Number of bulk deliveries running or waiting. */
  get active(): number {
    return this.jobs.size;
  }

  /** Takes over the retained delivery of `sub` when it is big; false = use the synchronous path. */
  serve(session: Session, sub: StoredSubscription, subIds: number[] | null): boolean {
    const threshold = this.options.threshold;
    if (threshold <= 0 || this.host.retained.size < threshold || !hasWildcard(sub.filter)) return false;
    const owner = session.owner;
    if (owner === null) return false;
    // A capability the owner declares: only connections that take MQTT packets have it.
    const target = owner.bulkTarget?.() ?? null;
    if (target === null) return false;
    const job = new BulkJob(session, owner, target, sub, subIds);
    let queue = this.jobs.get(session);
    if (queue === undefined) {
      queue = [];
      this.jobs.set(session, queue);
    }
    // A repeated SUBSCRIBE of the same filter restarts its retained delivery [MQTT-3.8.4-3].
    for (const old of queue) if (old.sub.filter === sub.filter) old.cancelled = true;
    queue.push(job);
    if (queue.length === 1) this.start(job);
    return true;
  }

  /** A live delivery to `session`: later bulk output must not repeat an older value of its topic. */
  noteLive(session: Session, msg: Message): void {
    const queue = this.jobs.get(session);
    if (queue === undefined) return;
    for (const job of queue) if (filterMatches(job.sub.filter, msg.topic)) job.liveTopics.add(msg.topic);
  }

  /** The subscription ended: its bulk delivery stops. */
  cancel(session: Session, filter: string): void {
    const queue = this.jobs.get(session);
    if (queue !== undefined) for (const job of queue) if (job.sub.filter === filter) job.cancelled = true;
  }

  /** Stops every bulk delivery (shutdown). */
  stopAll(): void {
    for (const queue of this.jobs.values()) for (const job of queue) job.cancelled = true;
    for (const wake of this.waiters.values()) wake();
    this.waiters.clear();
    if (this.pacer !== null) clearTimeout(this.pacer);
    this.pacer = null;
  }

  private start(job: BulkJob): void {
    job.delay.enable();
    const source = job.sub.qos === 0 ? this.options.source : null;
    if (source === null) {
      this.track(job, this.runSlices(job), 'main');
      return;
    }
    const wire = this.runWire(job, source).catch((err: unknown) => {
      // Nothing written yet (the workers could not open the store, say): the slices still can.
      if (!job.alive || job.delivered + job.skippedLive > 0) throw err;
      this.host.log.warn('retained workers failed, serving on the main thread', { clientId: job.session.clientId, filter: job.sub.filter, error: err });
      return this.runSlices(job);
    });
    this.track(job, wire, 'worker');
  }

  private track(job: BulkJob, run: Promise<void>, path: 'worker' | 'main'): void {
    run.then(
      () => this.finish(job, path),
      (err: unknown) => {
        // A read cut short by shutdown or a closed connection is no failure worth an error line.
        const fields = { clientId: job.session.clientId, filter: job.sub.filter, error: err };
        if (job.alive) this.host.log.error('retained bulk delivery failed', fields);
        else this.host.log.debug('retained bulk delivery ended early', fields);
        this.finish(job, path);
      },
    );
  }

  /** Worker batches written as they come, one batch read ahead, paced by the socket. */
  private async runWire(job: BulkJob, source: WireBatchSource): Promise<void> {
    // Every retained write issued before the SUBSCRIBE must be visible to the workers' reads.
    await this.host.store.flush();
    if (!job.alive) return;
    const target = job.target;
    const request = (after: string | null): Promise<WireBatch> =>
      source.read({
        filter: job.sub.filter,
        after,
        maxBytes: this.options.batchBytes,
        version: target.version,
        maxPacketSize: target.maxPacketSize,
        subscriptionId: job.sub.subscriptionId,
        now: Date.now(),
      });
    let pending = request(null);
    for (;;) {
      const batch = await pending;
      if (!batch.done) {
        pending = request(batch.last);
        // A cancelled job leaves its read-ahead behind: it must not surface as unhandled.
        pending.catch(() => {});
      }
      job.expired += batch.expired;
      job.tooLarge += batch.tooLarge;
      if (target.bufferedAmount >= this.options.lowWater) await this.writable(job);
      if (!job.alive) return;
      const skipped = batch.count === 0 ? 0 : target.writeBatch(batch.data, job.liveTopics);
      job.delivered += batch.count - skipped;
      job.skippedLive += skipped;
      if (batch.done) return;
    }
  }

  /** The in-memory index walked a few ms at a time, delivering through the session. */
  private async runSlices(job: BulkJob): Promise<void> {
    const cursor = this.host.retained.cursor(job.sub.filter);
    const maxQos = job.sub.qos;
    const session = job.session;
    const lowWater = this.options.lowWater;
    for (;;) {
      if (job.target.bufferedAmount >= lowWater || session.queue.length > 0) await this.writable(job);
      if (!job.alive) return;
      const until = performance.now() + SLICE_MS;
      const now = this.host.now();
      for (let n = 1; ; n++) {
        const step = cursor.next();
        if (step.done === true) return;
        const msg = step.value;
        if (msg.expiresAt !== 0 && msg.isExpired(now)) job.expired++;
        else if (job.liveTopics.has(msg.topic)) job.skippedLive++;
        else {
          this.host.deliver(session, msg, (msg.qos < maxQos ? msg.qos : maxQos) as QoS, true, job.subIds);
          job.delivered++;
        }
        if ((n & 63) === 0 && (performance.now() >= until || job.target.bufferedAmount >= lowWater || session.queue.length > 0)) break;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Resolves once the job's socket is below the low-water mark and its queue is empty (or the job ended). */
  private writable(job: BulkJob): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.set(job, resolve);
      if (this.pacer === null) this.pacer = setTimeout(this.pace, PACE_MS);
    });
  }

  /** One shared timer for every waiting job (no timer per connection). */
  private readonly pace = (): void => {
    this.pacer = null;
    const lowWater = this.options.lowWater;
    for (const [job, wake] of this.waiters) {
      if (!job.alive || (job.target.bufferedAmount < lowWater && job.session.queue.length === 0)) {
        this.waiters.delete(job);
        wake();
      }
    }
    if (this.waiters.size > 0) this.pacer = setTimeout(this.pace, PACE_MS);
  };

  private finish(job: BulkJob, path: 'worker' | 'main'): void {
    job.delay.disable();
    const queue = this.jobs.get(job.session);
    if (queue !== undefined) {
      const at = queue.indexOf(job);
      if (at !== -1) queue.splice(at, 1);
      if (queue.length === 0) this.jobs.delete(job.session);
      else this.start(queue[0] as BulkJob);
    }
    const fields = {
      clientId: job.session.clientId,
      filter: job.sub.filter,
      path,
      delivered: job.delivered,
      skippedLive: job.skippedLive,
      expired: job.expired,
      tooLarge: job.tooLarge,
      ms: Math.round(performance.now() - job.started),
      // Event-loop delay while this delivery ran (perf_hooks.monitorEventLoopDelay, 5 ms resolution).
      eventLoopDelayP99Ms: round2(job.delay.percentile(99) / 1e6),
      eventLoopDelayMaxMs: round2(job.delay.max / 1e6),
      rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
    };
    if (job.alive) this.host.log.info('retained bulk delivery finished', fields);
    else this.host.log.debug('retained bulk delivery stopped', fields);
  }
}

function round2(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : 0;
}

/**
 * The outgoing half of a bridge: the forward rules matched against every accepted message, a
 * durable outbox for QoS 1/2 (written in the broker's store before the publisher is
 * acknowledged, removed when the backend acknowledged), one ordered send pipeline with
 * retries and backoff, and dead letters for records the backend refuses for good.
 *
 * Order: records leave in the order they were accepted (one batch on the wire per bridge; a
 * backend with a pipelineDepth holds the next batches ready but sends each only after the one
 * before it was acknowledged; a failed batch is retried whole, before anything newer), so
 * records of one key reach the backend in order, after an outage too (the outbox replays from
 * its first record).
 * Drop policy: with the outbox at --bridge-outbox-max, a new QoS 1/2 message is not buffered
 * (counted in `dropped`, logged) and the oldest records stay; QoS 0 is buffered only while fewer
 * than --bridge-qos0-buffer records wait.
 */
import type { Message } from '../core/message.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { RingQueue } from '../core/ring-queue.js';
import { RejectedError, type BridgeBackend, type OutRecord } from './backend.js';
import type { BridgeConfig, ForwardRule } from './config.js';
import { encodeEnvelope, headersOf } from './envelope.js';
import type { Outbox } from './outbox.js';
import { ForwardStats } from './stats.js';
import type { ForwardFields } from './template.js';

/** One record waiting to leave. */
interface Pending {
  /** its sequence number in the outbox (0 for QoS 0) */
  seq: number;
  record: OutRecord;
  /** written to the outbox table (QoS 1/2) */
  durable: boolean;
  /** on its way to the rule's dead-letter target */
  dead: boolean;
}

const SENDING = 0;
const SENT = 1;
const FAILED = 2;
type BatchState = typeof SENDING | typeof SENT | typeof FAILED;

/** One send to the backend and its answer. */
interface Batch {
  readonly items: Pending[];
  state: BatchState;
  /** why it failed */
  error: unknown;
}

/** Limits of a forwarder, from the flags. */
export interface ForwarderLimits {
  readonly outboxMax: number;
  readonly qos0Buffer: number;
  readonly retryMaxMs: number;
}

const RETRY_MIN_MS = 100;

/** Mutable fields handed to templates: one object per bridge, no allocation per message. */
class Fields implements ForwardFields {
  topic = '';
  clientId = '';
  username = '';
}

export class Forwarder {
  readonly stats: ForwardStats[];
  /** Counters of records the outbox kept for a forward rule since removed from the configuration (they still go to their target). */
  readonly retired = new ForwardStats('(a removed rule)');
  private readonly rules: readonly ForwardRule[];
  private readonly queue = new RingQueue<Pending>();
  private readonly fields = new Fields();
  private readonly needsUsername: boolean;
  /** Batches handed to the backend, in the order sent (at most its pipelineDepth). */
  private readonly inflight: Batch[] = [];
  private inflightRecords = 0;
  private readonly pipelineDepth: number;
  /** The oldest batch in flight failed; waiting for the later ones to settle before retrying. */
  private failing = false;
  private scheduled = false;
  private stopped = false;
  /** Next batches go one record at a time (finding which record of a refused batch the backend refuses). */
  private singles = 0;
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Since when sends fail (0 = they do not), for the log. */
  private failingSince = 0;
  private durableCount = 0;

  constructor(
    private readonly config: BridgeConfig,
    private readonly backend: BridgeBackend,
    private readonly outbox: Outbox,
    private readonly limits: ForwarderLimits,
    private readonly usernameOf: (clientId: string) => string,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {
    this.rules = config.forward;
    this.stats = config.forward.map((r) => new ForwardStats(`${r.from.source} -> ${r.to.source}`));
    this.pipelineDepth = Math.max(1, backend.pipelineDepth ?? 1);
    this.needsUsername = config.forward.some((r) => r.payload === 'json' || r.to.usesUsername || (r.key?.usesUsername ?? false));
  }

  /** Records left in the outbox by the previous run, queued first and in order; returns how many. */
  restore(): number {
    const rows = this.outbox.restore();
    for (const { seq, record } of rows) {
      this.queue.push({ seq, record, durable: true, dead: false });
      this.statsOf(record.rule).buffered++;
    }
    this.durableCount = rows.length;
    return rows.length;
  }

  /**
   * The hook: offers one accepted message to every forward rule of this bridge; true when a
   * record went to the outbox (the publisher's acknowledgement then waits for the commit).
   */
  offer(msg: Message): boolean {
    // What this bridge published itself is not sent back to its backend.
    if (msg.origin === this.config.clientId) return false;
    let stored = false;
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (!rule.from.matches(msg.topic)) continue;
      const stats = this.stats[i]!;
      const durable = msg.qos > 0;
      // Records in flight count as waiting: a send attempt to an absent backend must not make room.
      if (durable ? this.durableCount >= this.limits.outboxMax : this.buffered >= this.limits.qos0Buffer) {
        stats.dropped++;
        if (this.logLimit.allow(`bridge-drop:${this.config.name}`)) {
          this.log.warn(durable ? 'bridge outbox full (--bridge-outbox-max): message dropped' : 'bridge behind: QoS 0 message dropped (--bridge-qos0-buffer)', {
            bridge: this.config.name,
            rule: stats.rule,
            topic: msg.topic,
            buffered: this.buffered,
          });
        }
        continue;
      }
      const record = this.record(msg, rule, i);
      let seq = 0;
      if (durable) {
        seq = this.outbox.add(record);
        this.durableCount++;
        stored = true;
      }
      this.queue.push({ seq, record, durable, dead: false });
      stats.buffered++;
      this.schedule();
    }
    return stored;
  }

  /** Starts sending (after the backend connected, and what restore() queued). */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops sending; what waits stays in the outbox for the next run. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** The counters of rule i; records restored for a rule the configuration no longer has count apart. */
  private statsOf(i: number): ForwardStats {
    return this.stats[i] ?? this.retired;
  }

  /** Records waiting to leave (outbox and QoS 0 buffer). */
  get buffered(): number {
    return this.queue.length + this.inflightRecords;
  }

  private record(msg: Message, rule: ForwardRule, index: number): OutRecord {
    const f = this.fields;
    f.topic = msg.topic;
    f.clientId = msg.origin ?? '';
    f.username = this.needsUsername && msg.origin !== null ? this.usernameOf(msg.origin) : '';
    const at = Date.now();
    return {
      to: rule.to.forward(f),
      key: rule.key === null ? null : rule.key.forward(f),
      value: rule.payload === 'raw' ? msg.payload : encodeEnvelope(msg, f.username, at),
      headers: headersOf(msg.properties),
      at,
      rule: index,
    };
  }

  private schedule(): void {
    if (this.scheduled || this.stopped || this.retryTimer !== null || this.failing || this.inflight.length >= this.depth()) return;
    this.scheduled = true;
    // After this turn: the turn's messages leave in one batch.
    setImmediate(this.pump);
  }

  /** Batches the backend may hold at once: one while a refused batch is resent record by record. */
  private depth(): number {
    return this.singles > 0 ? 1 : this.pipelineDepth;
  }

  private readonly pump = (): void => {
    this.scheduled = false;
    if (this.stopped || this.retryTimer !== null || this.failing) return;
    while (this.inflight.length < this.depth() && this.queue.length > 0) {
      const max = this.singles > 0 ? 1 : this.config.batchSize;
      const items: Pending[] = [];
      const records: OutRecord[] = [];
      while (items.length < max && this.queue.length > 0) {
        const p = this.queue.shift()!;
        items.push(p);
        records.push(p.dead ? { ...p.record, to: this.rules[p.record.rule]!.deadLetter! } : p.record);
      }
      const batch: Batch = { items, state: SENDING, error: null };
      this.inflight.push(batch);
      this.inflightRecords += items.length;
      this.backend.send(records).then(
        () => this.settle(batch, SENT, null),
        (err: unknown) => this.settle(batch, FAILED, err),
      );
    }
  };

  /** A batch's answer; batches complete in the order they were sent. */
  private settle(batch: Batch, state: BatchState, error: unknown): void {
    batch.state = state;
    batch.error = error;
    const inflight = this.inflight;
    while (inflight.length > 0) {
      const head = inflight[0]!;
      if (head.state === SENDING) break;
      if (head.state === SENT) {
        inflight.shift();
        this.inflightRecords -= head.items.length;
        this.acknowledged(head.items);
        continue;
      }
      // The head failed. The backend sends nothing after a failed batch: wait until the later
      // ones settled too (not sent), then everything goes back in order and the head is retried.
      this.failing = true;
      for (let i = 1; i < inflight.length; i++) if (inflight[i]!.state === SENDING) return;
      this.failing = false;
      // (A backend that acknowledged a later batch anyway broke its contract: sent again, never lost.)
      for (let i = inflight.length - 1; i >= 1; i--) this.requeue(inflight[i]!.items);
      inflight.length = 0;
      this.inflightRecords = 0;
      this.failed(head.items, head.error);
      return;
    }
    if (this.queue.length > 0) this.schedule();
  }

  private acknowledged(items: readonly Pending[]): void {
    const now = Date.now();
    for (const p of items) {
      const stats = this.statsOf(p.record.rule);
      if (p.dead) stats.deadLettered++;
      else {
        stats.forwarded++;
        const latency = now - p.record.at;
        stats.latencySumMs += latency;
        stats.latencyCount++;
        if (latency > stats.latencyMaxMs) stats.latencyMaxMs = latency;
      }
      this.done(p);
    }
    if (this.singles > 0) this.singles--;
    if (this.failingSince !== 0) {
      this.log.info('bridge backend answers again; sending what was buffered', { bridge: this.config.name, outageMs: now - this.failingSince, buffered: this.queue.length });
      this.failingSince = 0;
    }
    this.retryMs = 0;
  }

  /** What to do with a failed batch (nothing is in flight any more). */
  private failed(items: Pending[], err: unknown): void {
    if (err instanceof RejectedError) {
      if (items.length > 1) {
        // Which record? Resend this batch one record at a time.
        this.singles = items.length;
        this.requeue(items);
        this.schedule();
        return;
      }
      const p = items[0]!;
      const stats = this.statsOf(p.record.rule);
      const deadLetter = this.rules[p.record.rule]?.deadLetter ?? null;
      if (this.singles > 0) this.singles--;
      if (!p.dead) stats.failed++;
      this.log.warn(p.dead ? 'bridge dead-letter target refused a record; dropped' : 'bridge backend refused a record', {
        bridge: this.config.name,
        rule: stats.rule,
        to: p.dead ? deadLetter : p.record.to,
        reason: err.message,
        ...(!p.dead && deadLetter !== null ? { deadLetter } : {}),
      });
      if (!p.dead && deadLetter !== null) {
        p.dead = true;
        this.requeue(items);
      } else {
        if (p.dead) stats.dropped++;
        this.done(p);
      }
      if (this.queue.length > 0) this.schedule();
      return;
    }
    // Unreachable or timed out: the same batch again, after a growing wait.
    const now = Date.now();
    if (this.failingSince === 0) {
      this.failingSince = now;
      this.log.warn('bridge backend unreachable; buffering in the outbox and retrying', { bridge: this.config.name, type: this.config.type, error: String((err as Error)?.message ?? err) });
    }
    this.retryMs = Math.min(this.retryMs === 0 ? RETRY_MIN_MS : this.retryMs * 2, this.limits.retryMaxMs);
    this.requeue(items);
    if (!this.stopped) this.retryTimer = setTimeout(this.retry, this.retryMs);
  }

  private readonly retry = (): void => {
    this.retryTimer = null;
    this.pump();
  };

  /** Puts records back at the head of the queue, in order. */
  private requeue(items: readonly Pending[]): void {
    for (let i = items.length - 1; i >= 0; i--) this.queue.unshift(items[i]!);
  }

  private done(p: Pending): void {
    if (p.durable) {
      // In order: every durable record before this one is done too.
      this.outbox.acknowledge(p.seq);
      this.durableCount--;
    }
    this.statsOf(p.record.rule).buffered--;
  }
}

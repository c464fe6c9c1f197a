/**
 * What /metrics reports. Per-message figures come from the hook seam (messages and payload
 * bytes by QoS, in and out) and cost one or two counter increments each; authentication
 * decisions and latency are counted as they happen; everything else (connects and disconnects by
 * reason, connections by protocol and transport, traffic by protocol, drops, retained, sessions,
 * inflight, queued, memory) is read from what the broker and the kit keep, at scrape time.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Broker } from '../core/broker.js';
import type { Message, QoS } from '../core/message.js';
import type { Session } from '../core/session.js';
import type { Store, StoreFullError } from '../store/types.js';
import type { GatewayContext } from '../gateway/context.js';
import { ConnectionShell } from '../gateway/shell.js';
import { Histogram, LATENCY_BUCKETS, PrometheusWriter } from './prometheus.js';

const QOS_LABELS = ['0', '1', '2'] as const;
/** Resolution of the event-loop delay histogram, in ms (its samples include it). */
const LOOP_RESOLUTION_MS = 10;

export class AdminMetrics {
  /** Index = QoS. */
  private readonly received = new Float64Array(3);
  private readonly receivedBytes = new Float64Array(3);
  private readonly sent = new Float64Array(3);
  private readonly sentBytes = new Float64Array(3);
  private authAllowed = 0;
  private authDenied = 0;
  readonly authLatency = new Histogram(LATENCY_BUCKETS);
  readonly commitLatency = new Histogram(LATENCY_BUCKETS);
  private readonly loop: IntervalHistogram;
  private readonly removers: Array<() => void> = [];

  constructor(
    private readonly broker: Broker,
    private readonly kit: GatewayContext,
    private readonly info: { readonly version: string; readonly nodeName: string },
  ) {
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  }

  /** Starts listening to the hooks, the kit's authentication decisions and the store's commits. */
  start(): void {
    const hooks = this.broker.hooks;
    this.removers.push(
      hooks.on('messageAccepted', (msg) => this.accepted(msg)),
      hooks.on('messageDelivered', (session, msg, qos) => this.delivered(session, msg, qos)),
    );
    this.kit.onAuthDecision = (allowed, seconds) => {
      if (allowed) this.authAllowed++;
      else this.authDenied++;
      this.authLatency.observe(seconds);
    };
    observeCommits(this.broker.store, this.commitLatency);
    this.loop.enable();
  }

  /** Stops listening. */
  stop(): void {
    for (const remove of this.removers.splice(0)) remove();
    this.kit.onAuthDecision = null;
    this.loop.disable();
  }

  private accepted(msg: Message): void {
    const qos = msg.qos;
    this.received[qos] += 1;
    this.receivedBytes[qos] += msg.payload.length;
  }

  private delivered(session: Session, msg: Message, qos: QoS): void {
    this.sent[qos] += 1;
    this.sentBytes[qos] += msg.payload.length;
    const owner = session.owner;
    if (owner instanceof ConnectionShell) owner.messagesOut++;
  }

  /** The scrape: every family in the text format. */
  render(): string {
    const w = new PrometheusWriter();
    const m = this.broker.metrics;
    w.family('junction_info', 'gauge', 'constant 1, labelled with the version and node name').sample('junction_info', 1, { version: this.info.version, node: this.info.nodeName });
    this.renderConnections(w);
    w.family('junction_connects_total', 'counter', 'clients that logged in, by protocol');
    for (const [protocol, n] of this.kit.logins) w.sample('junction_connects_total', n, { protocol });
    w.family('junction_disconnects_total', 'counter', 'logged-in clients that went away, by protocol and reason');
    for (const [protocol, byReason] of this.kit.logouts) {
      for (const [reason, n] of byReason) w.sample('junction_disconnects_total', n, { protocol, reason });
    }
    w.single('junction_connections_refused_total', 'counter', 'connections refused (limits, authentication, bans)', m.connectionsRefused);
    w.single('junction_protocol_errors_total', 'counter', 'connections that broke their protocol', m.protocolErrors);
    this.byQos(w, 'junction_messages_received_total', 'messages accepted for routing, by QoS', this.received);
    this.byQos(w, 'junction_messages_sent_total', 'messages written to clients, by QoS', this.sent);
    this.byQos(w, 'junction_payload_received_bytes_total', 'payload bytes of messages accepted, by QoS', this.receivedBytes);
    this.byQos(w, 'junction_payload_sent_bytes_total', 'payload bytes of messages written to clients, by QoS', this.sentBytes);
    this.renderTraffic(w);
    w.family('junction_messages_dropped_total', 'counter', 'messages that did not reach a session, by reason');
    const drops: Array<[string, number]> = [
      ['queue-full', m.queueOverflowDrops],
      ['expired', m.expiredDrops],
      ['too-large', m.oversizeDrops],
      ['socket-buffer', m.slowConsumerDrops],
      ['refused', m.refusedDrops],
      ['unanswered', m.unansweredDrops],
    ];
    for (const [reason, n] of drops) w.sample('junction_messages_dropped_total', n, { reason });
    w.single('junction_retained_refused_total', 'counter', 'retained messages not stored: --max-retained-messages or --max-retained-bytes reached', m.retainedRefused);
    this.renderStore(w);
    w.single('junction_retained_messages', 'gauge', 'retained messages held', this.broker.retainedCount);
    this.renderSessions(w);
    w.family('junction_auth_decisions_total', 'counter', 'logins the authentication chain decided, by result');
    w.sample('junction_auth_decisions_total', this.authAllowed, { result: 'allow' }).sample('junction_auth_decisions_total', this.authDenied, { result: 'deny' });
    w.histogram('junction_auth_duration_seconds', 'time the authentication chain took per login', this.authLatency);
    w.histogram('junction_store_commit_duration_seconds', 'time from a write batch to its durable commit (what delays QoS 1/2 acknowledgements)', this.commitLatency);
    this.renderProcess(w);
    return w.text();
  }

  private renderConnections(w: PrometheusWriter): void {
    const byKey = new Map<string, number>();
    for (const shell of this.kit.onlineConnections()) {
      const key = `${shell.protocolName} ${shell.link.transport}`;
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    w.family('junction_connections', 'gauge', 'logged-in clients, by protocol and transport');
    for (const [key, n] of byKey) {
      const space = key.indexOf(' ');
      w.sample('junction_connections', n, { protocol: key.slice(0, space), transport: key.slice(space + 1) });
    }
    w.single('junction_connections_open', 'gauge', 'open connections, logged in or not, counted against --max-connections', this.kit.connections);
    w.single('junction_connections_max', 'gauge', '--max-connections', this.kit.options.maxConnections);
  }

  /** Wire bytes and messages by protocol: closed connections' totals plus the live ones'. */
  private renderTraffic(w: PrometheusWriter): void {
    const totals = new Map<string, { bytesIn: number; bytesOut: number; messagesIn: number; messagesOut: number }>();
    for (const [name, t] of this.kit.closedTraffic) totals.set(name, { ...t });
    for (const shell of this.kit.onlineConnections()) {
      let t = totals.get(shell.protocolName);
      if (t === undefined) totals.set(shell.protocolName, (t = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 }));
      t.bytesIn += shell.bytesIn;
      t.bytesOut += shell.bytesOut;
      t.messagesIn += shell.messagesIn;
      t.messagesOut += shell.messagesOut;
    }
    const families: Array<[string, string, 'bytesIn' | 'bytesOut' | 'messagesIn' | 'messagesOut']> = [
      ['junction_client_received_bytes_total', 'bytes read from clients, by protocol', 'bytesIn'],
      ['junction_client_sent_bytes_total', 'bytes written to clients, by protocol', 'bytesOut'],
      ['junction_client_messages_received_total', 'messages clients published, by protocol', 'messagesIn'],
      ['junction_client_messages_sent_total', 'messages written to clients, by protocol', 'messagesOut'],
    ];
    for (const [name, help, field] of families) {
      w.family(name, 'counter', help);
      for (const [protocol, t] of totals) w.sample(name, t[field], { protocol });
    }
  }

  private renderSessions(w: PrometheusWriter): void {
    let inflight = 0;
    let queued = 0;
    let queuedBytes = 0;
    for (const session of this.broker.sessions.values()) {
      inflight += session.inflight.size;
      queued += session.queue.length;
      queuedBytes += session.queuedBytes;
    }
    w.single('junction_sessions', 'gauge', 'sessions, online and offline', this.broker.sessions.size);
    w.single('junction_sessions_online', 'gauge', 'sessions with a connection', this.broker.onlineCount);
    w.single('junction_subscriptions', 'gauge', 'subscriptions of every session', this.broker.subscriptionCount);
    w.single('junction_inflight_messages', 'gauge', 'QoS 1/2 deliveries sent and not yet acknowledged', inflight);
    w.single('junction_queued_messages', 'gauge', 'deliveries waiting in session queues', queued);
    w.single('junction_queued_bytes', 'gauge', 'payload bytes waiting in session queues', queuedBytes);
  }

  private renderProcess(w: PrometheusWriter): void {
    const loop = this.loop;
    // Samples are whole timer intervals: the lag is what exceeds the resolution.
    const lag = (ns: number): number => Math.max(0, ns / 1e9 - LOOP_RESOLUTION_MS / 1000);
    w.family('junction_event_loop_lag_seconds', 'gauge', 'event-loop delay since the previous scrape, by quantile (1 = the largest)');
    if (loop.count > 0) {
      w.sample('junction_event_loop_lag_seconds', lag(loop.percentile(50)), { quantile: '0.5' });
      w.sample('junction_event_loop_lag_seconds', lag(loop.percentile(99)), { quantile: '0.99' });
      w.sample('junction_event_loop_lag_seconds', lag(loop.max), { quantile: '1' });
    }
    loop.reset();
    const mem = process.memoryUsage();
    w.single('process_resident_memory_bytes', 'gauge', 'resident set size', mem.rss);
    w.single('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use', mem.heapUsed);
    w.single('nodejs_heap_total_bytes', 'gauge', 'V8 heap reserved', mem.heapTotal);
    w.single('nodejs_external_memory_bytes', 'gauge', 'memory of buffers and native objects outside the V8 heap', mem.external);
    w.single('process_start_time_seconds', 'gauge', 'when the process started, seconds since the epoch', Math.round((Date.now() - process.uptime() * 1000) / 1000));
  }

  /** The store's health: size against --max-store-size, refusals, failed commits, records failing their checksum. */
  private renderStore(w: PrometheusWriter): void {
    const h = this.broker.store.health();
    w.single('junction_store_size_bytes', 'gauge', 'bytes of pages holding live records (LMDB), at the last measurement', h.sizeBytes);
    w.single('junction_store_limit_bytes', 'gauge', '--max-store-size as applied', h.limitBytes);
    w.single('junction_store_full', 'gauge', '1 while the store refuses writes (at --max-store-size, or the disk failing commits)', h.full === null ? 0 : 1);
    w.single('junction_store_failed_commits_total', 'counter', 'store transactions the disk refused (full, I/O error)', h.failedCommits);
    w.single('junction_store_refused_writes_total', 'counter', 'store writes refused at --max-store-size', h.refusedWrites);
    w.single('junction_store_corrupt_records', 'gauge', 'stored records that failed their checksum at start: reported, not served', h.corruptRecords);
  }

  private byQos(w: PrometheusWriter, name: string, help: string, values: Float64Array): void {
    w.family(name, 'counter', help);
    for (let q = 0; q < 3; q++) w.sample(name, values[q] as number, { qos: QOS_LABELS[q]! });
  }
}

/**
 * Times commits without touching the store: the first afterCommit of a batch also registers a
 * timer callback, which runs when that batch is durable. One boolean test per call otherwise.
 */
function observeCommits(store: Store, histogram: Histogram): void {
  const original = store.afterCommit.bind(store);
  let timing = false;
  const done = (started: number): void => {
    timing = false;
    histogram.observe((performance.now() - started) / 1000);
  };
  store.afterCommit = <T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void => {
    if (!timing) {
      timing = true;
      original(done, performance.now());
    }
    original(fn, arg);
  };
}

/**
 * A bench worker process (started by run.ts): runs its share of the plan's clients, follows the
 * coordinator's phase commands, and reports counters every second plus its histograms at the
 * end. One timer drives rate-limited publishing for all clients; unlimited publishing is
 * closed-loop: QoS 1/2 within --inflight unacknowledged messages, QoS 0 within two batches
 * whose trailing PINGREQ the broker has not answered yet.
 */

import { SCAN_HEADER, SCAN_STRIDE } from '../../src/protocols/mqtt/codec/scanner.js';
import { BenchClient, nowMs, nowNs, type ClientHost } from './client.js';
import { encodeHistogram, newHistogram, type Histogram } from './histogram.js';
import { zeroCounters, type Command, type Counters, type Report } from './ipc.js';
import type { BenchOptions } from './options.js';
import { planClients, planCounts, type ClientRole, type ClientSpec, type PlanCounts } from './plan.js';
import { placeClient, sourceAddressesOf, targetsOf, type Target } from './targets.js';

/** No CONNACK (or SUBACK) within this time counts as a failed connection. */
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** Rate-limited publishing and connecting re-check their schedule this often. */
const TICK_MS = 5;
/** Bytes per publish batch when unlimited: large enough to amortise the write, small enough to interleave clients. */
const BATCH_BYTES = 8192;
/** Unlimited QoS 0: batches a publisher may have sent before the broker confirms reading them (PINGRESP). */
const QOS0_BATCHES = 2;

class Worker implements ClientHost {
  readonly counters: Counters = zeroCounters();
  readonly scan = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * 1024);
  private latency: Histogram = newHistogram();
  private readonly connectLatency: Histogram = newHistogram();
  private readonly o: BenchOptions;
  private readonly specs: ClientSpec[];
  private readonly clients = new Set<BenchClient>();
  private readonly publishers: BenchClient[] = [];
  private readonly subscribers: BenchClient[] = [];
  private seed: BenchClient | null = null;
  /** Clients the current connect phase waits for (CONNACK, and SUBACK when subscribing). */
  private readonly awaiting = new Set<BenchClient>();
  private readonly accepted = new WeakSet<BenchClient>();
  private queue: ClientSpec[] = [];
  private queueStartMs = 0;
  private queueStarted = 0;
  private connectTimer: NodeJS.Timeout | null = null;
  private phaseOpen = false;
  private running = false;
  private startNs = 0;
  private tick: NodeJS.Timeout | null = null;
  private batch = 1;
  private seedNext = 0;
  private seedDone: (() => void) | null = null;
  private firstConnectMs = 0;
  private lastConnackMs = 0;
  private readonly errorSamples = new Map<string, number>();
  private readonly counts: PlanCounts;
  private readonly targets: Target[];
  private readonly sources: string[];
  /** "source>host:port" of each client, and the connections accepted per such pair. */
  private readonly placement = new WeakMap<BenchClient, string>();
  private readonly spread = new Map<string, number>();

  constructor(
    o: BenchOptions,
    runId: string,
    proc: number,
    private readonly procs: number,
  ) {
    this.o = o;
    this.specs = planClients(o, runId, proc, procs);
    this.counts = planCounts(o);
    this.targets = targetsOf(o);
    this.sources = sourceAddressesOf(o.sourceAddresses, this.targets);
    setInterval(() => this.everySecond(), 1000).unref();
    if (o.keepalive > 0) setInterval(() => this.pingAll(), o.keepalive * 500).unref();
  }

  handle(command: Command): void {
    switch (command.type) {
      case 'connect':
        this.connect(command.roles);
        break;
      case 'seed':
        this.seedRetained(() => send({ type: 'ready', counters: { ...this.counters }, errorSamples: this.samples() }));
        break;
      case 'start':
        this.start();
        break;
      case 'mark':
        if (command.stop) this.stop();
        if (command.reset) this.latency.reset();
        send({ type: 'mark', counters: { ...this.counters }, cpu: process.cpuUsage() });
        break;
      case 'drain':
        void this.drain();
        break;
      case 'close':
        void this.closeAll();
        break;
      case 'setup':
        break;
    }
  }

  // ---- connecting ----

  private connect(roles: ClientRole[]): void {
    this.queue = this.specs.filter((spec) => roles.includes(spec.role));
    this.queueStartMs = nowMs();
    this.queueStarted = 0;
    this.phaseOpen = true;
    if (this.firstConnectMs === 0 && this.queue.length > 0) this.firstConnectMs = this.queueStartMs;
    this.pumpConnects();
  }

  private pumpConnects(): void {
    const o = this.o;
    const perProcRate = o.connectRate / this.procs;
    const allowed = perProcRate > 0 ? Math.floor(((nowMs() - this.queueStartMs) / 1000) * perProcRate) + 1 : Infinity;
    while (this.queue.length > 0 && this.awaiting.size < o.connectConcurrency && this.queueStarted < allowed) {
      const spec = this.queue.shift()!;
      this.queueStarted++;
      const { target, source, localPort } = placeClient(spec.index, this.serialOf(spec), this.targets, this.sources, o.localPortBase);
      const client = new BenchClient(this, o, spec, target, source, localPort);
      this.placement.set(client, `${source ?? '*'}>${target.host}:${target.port}`);
      this.counters.connectStarted++;
      this.clients.add(client);
      this.awaiting.add(client);
      if (spec.role === 'pub') this.publishers.push(client);
      else if (spec.role === 'sub') this.subscribers.push(client);
      else if (spec.role === 'seed') this.seed = client;
    }
    if (this.queue.length > 0 && this.connectTimer === null && perProcRate > 0) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = null;
        this.pumpConnects();
      }, TICK_MS);
    }
    this.checkPhase();
  }

  /** The client's number over every role (subscribers, publishers, idle, seed), for its local address and port. */
  private serialOf(spec: ClientSpec): number {
    const c = this.counts;
    const offset = spec.role === 'sub' ? 0 : spec.role === 'pub' ? c.subscribers : spec.role === 'idle' ? c.subscribers + c.publishers : c.subscribers + c.publishers + c.idle;
    return offset + spec.index;
  }

  private checkPhase(): void {
    if (this.phaseOpen && this.queue.length === 0 && this.awaiting.size === 0) {
      this.phaseOpen = false;
      send({ type: 'ready', counters: { ...this.counters }, errorSamples: this.samples() });
    }
  }

  private settle(client: BenchClient): void {
    if (this.awaiting.delete(client)) {
      this.pumpConnects();
    }
  }

  onConnack(client: BenchClient): void {
    this.counters.connected++;
    const where = this.placement.get(client);
    if (where !== undefined) this.spread.set(where, (this.spread.get(where) ?? 0) + 1);
    this.accepted.add(client);
    const now = nowNs();
    this.lastConnackMs = now / 1e6;
    this.connectLatency.recordValue(Math.max(1, Math.round((now - client.connectStartNs) / 1000)));
    // Retained subscribers subscribe when the measurement starts, in rounds.
    if (client.spec.filter !== '' && this.o.scenario !== 'retained') client.subscribe();
    else this.settle(client);
  }

  onSubscribed(client: BenchClient): void {
    this.counters.subscribed++;
    this.settle(client);
  }

  onGone(client: BenchClient, error: string | undefined): void {
    this.clients.delete(client);
    if (error !== undefined) {
      if (this.accepted.has(client)) this.counters.closed++;
      else this.counters.connectFailed++;
      this.errorSamples.set(error, (this.errorSamples.get(error) ?? 0) + 1);
    }
    this.settle(client);
  }

  recordLatency(micros: number, count: number): void {
    this.latency.recordValueWithCount(micros, count);
  }

  // ---- publishing ----

  private start(): void {
    this.running = true;
    this.startNs = nowNs();
    const o = this.o;
    if (o.scenario === 'retained') {
      for (const sub of this.subscribers) if (sub.connected) sub.resubscribe(o.retainedMessages, true);
      return;
    }
    for (const pub of this.publishers) pub.sent = 0;
    const template = 4 + o.size + 64;
    this.batch = Math.max(1, Math.floor(BATCH_BYTES / template));
    if (o.rate > 0) {
      this.tick = setInterval(() => this.publishDue(), TICK_MS);
    } else {
      for (const pub of this.publishers) this.onWindow(pub);
    }
  }

  private publishDue(): void {
    const elapsed = (nowNs() - this.startNs) / 1e9;
    const o = this.o;
    for (const pub of this.publishers) {
      if (!pub.connected || pub.blocked) continue;
      let due = Math.floor(elapsed * o.rate) - pub.sent;
      if (o.qos > 0) due = Math.min(due, o.inflight - pub.outstanding);
      if (due > 0) pub.publish(due);
    }
  }

  onWindow(client: BenchClient): void {
    if (client === this.seed) {
      this.seedMore();
      return;
    }
    if (!this.running || this.o.rate > 0 || !client.connected || client.blocked) return;
    if (this.o.qos === 0) {
      while (client.pingBatches.length < QOS0_BATCHES && client.publish(this.batch, true));
      return;
    }
    const room = this.o.inflight - client.outstanding;
    if (room > 0) client.publish(room);
  }

  onDrain(client: BenchClient): void {
    this.onWindow(client);
  }

  private stop(): void {
    this.running = false;
    if (this.tick !== null) clearInterval(this.tick);
    this.tick = null;
    for (const sub of this.subscribers) sub.roundExpected = 0;
  }

  /** Waits until every publish is acknowledged and deliveries have stopped arriving (at most 5 s). */
  private async drain(): Promise<void> {
    const until = Date.now() + 5000;
    let lastReceived = -1;
    let quietSince = Date.now();
    while (Date.now() < until) {
      const outstanding = this.publishers.reduce((n, pub) => n + (pub.connected ? pub.outstanding : 0), 0);
      if (this.counters.received !== lastReceived) {
        lastReceived = this.counters.received;
        quietSince = Date.now();
      }
      if (outstanding === 0 && Date.now() - quietSince >= 300) break;
      await sleep(50);
    }
    send({
      type: 'final',
      counters: { ...this.counters },
      cpu: process.cpuUsage(),
      latency: encodeHistogram(this.latency),
      connectLatency: encodeHistogram(this.connectLatency),
      firstConnectMs: this.firstConnectMs,
      lastConnackMs: this.lastConnackMs,
      spread: Object.fromEntries(this.spread),
      errorSamples: this.samples(),
    });
  }

  /** The most frequent error texts, with their counts. */
  private samples(): string[] {
    const top = [...this.errorSamples].sort((a, b) => b[1] - a[1]).slice(0, 5);
    return top.map(([text, n]) => (n > 1 ? `${text} (x${n})` : text));
  }

  // ---- retained scenario ----

  private seedRetained(done: () => void): void {
    if (this.seed === null || !this.seed.connected) {
      done();
      return;
    }
    this.seedNext = 0;
    this.seedDone = done;
    this.seedMore();
  }

  private seedMore(): void {
    const seed = this.seed;
    if (seed === null || this.seedDone === null) return;
    const payload = Buffer.alloc(this.o.size, 0x61);
    while (seed.outstanding < this.o.inflight && this.seedNext < this.o.retainedMessages) {
      seed.publishTopic(`${seed.spec.topic}/${this.seedNext++}`, payload, true);
    }
    if (this.seedNext === this.o.retainedMessages && seed.outstanding === 0) {
      const done = this.seedDone;
      this.seedDone = null;
      done();
    }
  }

  /** Clears the retained messages this run stored (empty retained publishes), then disconnects everyone. */
  private async closeAll(): Promise<void> {
    this.stop();
    const seed = this.seed;
    if (seed?.connected) {
      const empty = Buffer.alloc(0);
      for (let i = 0; i < this.o.retainedMessages; i++) seed.publishTopic(`${seed.spec.topic}/${i}`, empty, true);
      const until = Date.now() + 5000;
      while (seed.connected && seed.outstanding > 0 && Date.now() < until) await sleep(20);
    }
    for (const client of this.clients) client.close();
    const until = Date.now() + 3000;
    while (this.clients.size > 0 && Date.now() < until) await sleep(20);
    send({ type: 'closed' });
    process.exit(0);
  }

  // ---- housekeeping ----

  private everySecond(): void {
    const tooOld = nowNs() - HANDSHAKE_TIMEOUT_MS * 1e6;
    for (const client of this.awaiting) {
      if (client.connectStartNs < tooOld) {
        this.errorSamples.set('no CONNACK/SUBACK within 30 s', (this.errorSamples.get('no CONNACK/SUBACK within 30 s') ?? 0) + 1);
        client.close();
        if (!this.accepted.has(client)) this.counters.connectFailed++;
        this.settle(client);
      }
    }
    send({ type: 'stats', counters: { ...this.counters } });
  }

  private pingAll(): void {
    for (const client of this.clients) client.ping();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function send(report: Report): void {
  process.send?.(report);
}

if (process.send === undefined) {
  process.stderr.write('this is a worker of `junction bench`; run that command instead\n');
  process.exit(2);
}

let worker: Worker | null = null;
process.on('message', (command: Command) => {
  try {
    if (command.type === 'setup') worker = new Worker(command.options, command.runId, command.proc, command.procs);
    else worker?.handle(command);
  } catch (err) {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  }
});
// The coordinator is gone (killed or crashed): nothing left to report to.
process.on('disconnect', () => process.exit(0));

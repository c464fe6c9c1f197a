/** The result of a bench run: the JSON shape (BenchResult), how it is built, and the readable summary. */

import type { Counters } from './ipc.js';
import { summarise, type Histogram, type LatencySummary } from './histogram.js';
import type { BenchOptions } from './options.js';
import type { PlanCounts } from './plan.js';
import type { ProcSample } from './proc-stats.js';
import { targetsOf } from './targets.js';

/** The measured window: counters at its start and end, CPU used within it. */
export interface Window {
  seconds: number;
  begin: Counters;
  end: Counters;
  generatorCpuMicros: number;
  brokerCpuMicros: number | null;
  brokerRss: number | null;
}

/** A count and its rate over the measured window. */
export interface Rate {
  count: number;
  perSecond: number;
}

/** What `junction bench --json` writes; version bumps when a field changes meaning. */
export interface BenchResult {
  format: 'junction-bench/1';
  scenario: BenchOptions['scenario'];
  shape: string;
  startedAt: string;
  target: { host: string; port: number; transport: string; protocol: '3.1.1' | '5' };
  settings: { qos: number; size: number; rate: number; inflight: number; duration: number; warmup: number; procs: number; connectRate: number; subscribe: boolean; subscribeTopic: string | null };
  clients: { publishers: number; subscribers: number; idle: number };
  measuredSeconds: number;
  /** Publishes sent in the window. */
  sent: Rate;
  /** Deliveries received in the window (fan-out counts each subscriber's copy). */
  received: Rate;
  /** Deliveries expected from what was sent (sent x fan-out); 0 when not applicable. */
  expectedDeliveries: number;
  /** From the send time in the payload (retained: from SUBSCRIBE), microseconds; null when none measured. */
  latencyMicros: LatencySummary | null;
  connections: {
    attempted: number;
    connected: number;
    failed: number;
    /** Connections closed by the broker or the network while the run went on. */
    lost: number;
    perSecond: number;
    seconds: number;
    latencyMicros: LatencySummary | null;
    /** Connections accepted per broker "host:port" (--hosts x --ports). */
    byTarget: Record<string, number>;
    /** Connections accepted per local source address ("*" = chosen by the kernel). */
    bySource: Record<string, number>;
  };
  errors: { total: number; protocol: number; samples: string[] };
  generator: { procs: number; cpuPercent: number };
  /** Sampled from /proc when the broker runs on this machine; null otherwise. */
  broker: {
    pid: number;
    command: string;
    /** Percent of one core during the window. */
    cpuPercent: number | null;
    rssBytes: number | null;
    peakRssBytes: number | null;
    rssBeforeBytes: number | null;
    /** (RSS at the end - RSS before connecting) / its connections (the first target's, over several; all with processes sharing one port). */
    bytesPerConnection: number | null;
  } | null;
}

/** Everything buildResult needs from the coordinator. */
export interface ResultInput {
  o: BenchOptions;
  counts: PlanCounts;
  procs: number;
  port: number;
  startedAt: Date;
  window: Window;
  totals: Counters;
  /** Connections accepted per "source>host:port". */
  spread: Record<string, number>;
  latency: Histogram;
  connectLatency: Histogram;
  connectSeconds: number;
  coordinatorCpu: number;
  errorSamples: string[];
  broker: { pid: number; command: string; before: ProcSample | undefined; after: ProcSample | undefined; peakRss: number } | null;
}

const round = (n: number, digits = 0): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Sums `spread` grouped by the part of its key `part` picks, sorted by that part. */
function tally(spread: Record<string, number>, part: (key: string) => string): Record<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of Object.entries(spread)) out.set(part(key), (out.get(part(key)) ?? 0) + n);
  return Object.fromEntries([...out].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true })));
}

/** Assembles the JSON result from the coordinator's measurements. */
export function buildResult(r: ResultInput): BenchResult {
  const { o, window: w, totals } = r;
  const seconds = Math.max(w.seconds, 0.001);
  const sent = w.end.sent - w.begin.sent;
  const received = w.end.received - w.begin.received;
  const connected = totals.connected;
  const before = r.broker?.before;
  // --broker-gc asks for the memory the held connections keep after a GC: the reading taken
  // after it, not the window's last sample (the young generation a storm grew is still in that).
  const afterGc = o.brokerGc ? r.broker?.after?.rssBytes : undefined;
  const rssEnd = afterGc ?? w.brokerRss ?? r.broker?.after?.rssBytes ?? null;
  const byTarget = tally(r.spread, (key) => key.slice(key.indexOf('>') + 1));
  // The sampled broker is the first target's; over several targets only its connections count.
  const first = targetsOf(o)[0]!;
  const sampled = Object.keys(byTarget).length > 1 ? (byTarget[`${first.host}:${first.port}`] ?? 0) : connected;
  return {
    format: 'junction-bench/1',
    scenario: o.scenario,
    shape: r.counts.shape,
    startedAt: r.startedAt.toISOString(),
    target: { host: o.host, port: r.port, transport: o.transport, protocol: o.protocol === 5 ? '5' : '3.1.1' },
    settings: {
      qos: o.qos,
      size: o.size,
      rate: o.rate,
      inflight: o.inflight,
      duration: o.duration,
      warmup: o.warmup,
      procs: r.procs,
      connectRate: o.connectRate,
      subscribe: o.subscribe,
      subscribeTopic: o.subscribeTopic ?? null,
    },
    clients: { publishers: r.counts.publishers, subscribers: r.counts.subscribers, idle: r.counts.idle },
    measuredSeconds: round(seconds, 3),
    sent: { count: sent, perSecond: round(sent / seconds) },
    received: { count: received, perSecond: round(received / seconds) },
    expectedDeliveries: sent * r.counts.fanout,
    latencyMicros: summarise(r.latency),
    connections: {
      attempted: totals.connectStarted,
      connected,
      failed: totals.connectFailed,
      lost: totals.closed,
      perSecond: r.connectSeconds > 0 ? round(connected / r.connectSeconds) : 0,
      seconds: round(r.connectSeconds, 3),
      latencyMicros: summarise(r.connectLatency),
      byTarget,
      bySource: tally(r.spread, (key) => key.slice(0, key.indexOf('>'))),
    },
    errors: { total: totals.connectFailed + totals.closed + totals.errors, protocol: totals.errors, samples: r.errorSamples },
    generator: { procs: r.procs, cpuPercent: round((w.generatorCpuMicros / (seconds * 1e6)) * 100, 1) },
    broker:
      r.broker === null
        ? null
        : {
            pid: r.broker.pid,
            command: r.broker.command,
            cpuPercent: w.brokerCpuMicros === null ? null : round((w.brokerCpuMicros / (seconds * 1e6)) * 100, 1),
            rssBytes: rssEnd,
            peakRssBytes: r.broker.after?.peakRssBytes ?? null,
            rssBeforeBytes: before?.rssBytes ?? null,
            bytesPerConnection: before !== undefined && rssEnd !== null && sampled > 0 ? round((rssEnd - before.rssBytes) / sampled) : null,
          },
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A duration in microseconds as "850 us", "12.3 ms" or "1.20 s". */
function formatMicros(us: number): string {
  if (us < 1000) return `${Math.round(us)} us`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

function formatBytes(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1024 * 1024) return `${(n / 1048576).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(n / 1024).toFixed(2)} KiB`;
  return `${Math.round(n)} B`;
}

function spreadText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([key, n]) => `${key} ${int(n)}`)
    .join(', ');
}

/** The readable summary printed at the end of a run. */
export function formatSummary(r: BenchResult): string {
  const lines: string[] = [];
  const s = r.settings;
  const rate = s.rate > 0 ? `${int(s.rate)} msg/s per publisher` : 'unlimited rate';
  lines.push(`junction bench ${r.scenario}: ${r.shape}`);
  lines.push(`  MQTT ${r.target.protocol} over ${r.target.transport} to ${r.target.host}:${r.target.port}, QoS ${s.qos}, ${s.size} B payload, ${rate}, ${r.generator.procs} generator process(es)`);
  if (r.scenario === 'conn') {
    const c = r.connections;
    lines.push(
      `  connections  ${int(c.connected)} of ${int(c.attempted)} in ${c.seconds.toFixed(2)} s = ${int(c.perSecond)} conn/s (${int(c.failed)} failed, ${int(c.lost)} lost while idle for ${r.measuredSeconds.toFixed(1)} s)`,
    );
    if (Object.keys(c.byTarget).length > 1) lines.push(`  per target   ${spreadText(c.byTarget)}`);
    if (Object.keys(c.bySource).length > 1) lines.push(`  per source   ${spreadText(c.bySource)}`);
    if (s.subscribeTopic !== null) lines.push(`  received     ${int(r.received.count)} message(s) on ${s.subscribeTopic} while held`);
    if (c.latencyMicros !== null) lines.push(`  connect time p50 ${formatMicros(c.latencyMicros.p50)}  p99 ${formatMicros(c.latencyMicros.p99)}  max ${formatMicros(c.latencyMicros.max)}`);
  } else {
    lines.push(`  measured     ${r.measuredSeconds.toFixed(2)} s after ${s.warmup} s warm-up`);
    if (r.scenario !== 'retained') lines.push(`  sent         ${int(r.sent.perSecond)} msg/s (${int(r.sent.count)})`);
    const share = r.expectedDeliveries > 0 ? ` = ${((r.received.count / r.expectedDeliveries) * 100).toFixed(1)}% of sent x fan-out` : '';
    lines.push(`  received     ${int(r.received.perSecond)} msg/s (${int(r.received.count)}${share})`);
    const l = r.latencyMicros;
    const what = r.scenario === 'retained' ? 'from SUBSCRIBE' : 'send to receive';
    lines.push(
      l === null
        ? '  latency      not measured (payload under 8 bytes)'
        : `  latency      p50 ${formatMicros(l.p50)}  p99 ${formatMicros(l.p99)}  p99.9 ${formatMicros(l.p999)}  max ${formatMicros(l.max)} (${what}, ${int(l.count)} samples)`,
    );
    lines.push(`  connections  ${int(r.connections.connected)} (${int(r.connections.perSecond)} conn/s)`);
  }
  lines.push(`  errors       ${r.errors.total}${r.errors.samples.length > 0 ? `: ${r.errors.samples.join('; ')}` : ''}`);
  let cpu = `  CPU          generator ${r.generator.cpuPercent}% of a core`;
  const b = r.broker;
  if (b !== null) {
    cpu += `, broker ${b.cpuPercent === null ? 'n/a' : `${b.cpuPercent}%`} (pid ${b.pid})`;
    lines.push(cpu);
    const mem = [`  broker RSS   ${b.rssBytes === null ? 'n/a' : formatBytes(b.rssBytes)}`];
    if (b.peakRssBytes !== null) mem.push(`peak ${formatBytes(b.peakRssBytes)}`);
    if (b.bytesPerConnection !== null && r.scenario === 'conn') mem.push(`${formatBytes(b.bytesPerConnection)} per connection (from ${formatBytes(b.rssBeforeBytes ?? 0)} before connecting)`);
    lines.push(mem.join(', '));
  } else {
    lines.push(`${cpu}; broker not found on this machine (give --broker-pid to sample it)`);
  }
  return lines.join('\n') + '\n';
}

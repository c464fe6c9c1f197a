/**
 * Serving `#` over a large retained set (issue 3, section 4). A broker process starts on an LMDB
 * store holding N retained messages (default 1,000,000); a subscriber to `#` receives them while
 * another client sends PINGREQ back to back. Three modes, same store:
 *   worker  default flags: piscina workers read and encode, the main thread writes batches
 *   main    --retained-workers 0: paced slices of the in-memory index on the main thread
 *   sync    --retained-bulk-threshold 0: the old synchronous walk, for comparison
 * Reported per run: retained PUBLISH packets received, time until the last one arrived, PINGREQ round trips during
 * the delivery (p50/p99/max, client side), the broker's event-loop delay while serving
 * (perf_hooks.monitorEventLoopDelay, from its "retained bulk delivery finished" line; not
 * available in sync mode) and the broker's RSS (VmRSS after, VmHWM peak).
 * Run: node build/bench/retained-wildcard.bench.js [count] [runs] [modes]
 *      e.g. node build/bench/retained-wildcard.bench.js 1000000 2 worker,main,sync
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBroker, sleep, type LogLine } from '../test/interop/harness.js';
import { StreamClient } from '../test/workers/stream-client.js';
import { mqttPort, seedRetained } from '../test/workers/seed.js';

const count = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 2);
const modes = (process.argv[4] ?? 'worker,main,sync').split(',');
const MODE_ARGS: Record<string, string[]> = {
  worker: [],
  main: ['--retained-workers', '0'],
  sync: ['--retained-bulk-threshold', '0'],
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Math.round(Number(m[1]) / 1024);
}

async function one(port: number, logs: LogLine[], id: string): Promise<Record<string, unknown>> {
  const pinger = await StreamClient.connect(port, `${id}-ping`);
  const sub = await StreamClient.connect(port, id);
  let lastAt = 0;
  sub.onPublish = () => {
    if (sub.publishes === count) lastAt = performance.now();
  };
  const start = performance.now();
  const rtts: number[] = [];
  const subscribed = sub.subscribe('#', 0);
  // The synchronous path drops QoS 0 above --max-socket-buffer: it may never deliver all, so
  // the delivery also counts as over once nothing arrived for 3 s.
  let seen = 0;
  let lastChange = performance.now();
  while (lastAt === 0 && performance.now() - lastChange < 3000) {
    rtts.push(await pinger.ping());
    if (sub.publishes !== seen) {
      seen = sub.publishes;
      lastChange = performance.now();
    }
  }
  await subscribed;
  if (lastAt === 0) lastAt = lastChange;
  const line = await waitLine(logs, id);
  pinger.close();
  sub.close();
  rtts.sort((a, b) => a - b);
  return {
    received: sub.publishes,
    deliverMs: Math.round(lastAt - start),
    msgPerSec: Math.round(sub.publishes / ((lastAt - start) / 1000)),
    pings: rtts.length,
    pingP50Ms: +percentile(rtts, 50).toFixed(2),
    pingP99Ms: +percentile(rtts, 99).toFixed(2),
    pingMaxMs: +percentile(rtts, 100).toFixed(2),
    eldP99Ms: line?.['eventLoopDelayP99Ms'] ?? '-',
    eldMaxMs: line?.['eventLoopDelayMaxMs'] ?? '-',
  };
}

async function waitLine(logs: LogLine[], id: string): Promise<LogLine | undefined> {
  for (let i = 0; i < 100; i++) {
    const line = logs.find((l) => l['msg'] === 'retained bulk delivery finished' && l['clientId'] === id);
    if (line !== undefined) return line;
    await sleep(20);
  }
  return undefined;
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-bench-retained-'));
const seedStart = performance.now();
await seedRetained(dataDir, count);
console.log(`seeded ${count} retained messages in ${Math.round(performance.now() - seedStart)} ms (${dataDir}); ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
try {
  for (const mode of modes) {
    const broker = await startBroker({ dataDir, keepDataDir: true, args: MODE_ARGS[mode] ?? [] });
    const pid = broker.process.pid!;
    const rssIdle = procStatus(pid, 'VmRSS');
    for (let r = 1; r <= runs; r++) {
      const result = await one(mqttPort(broker.logs), broker.logs, `${mode}-${r}`);
      console.log(JSON.stringify({ mode, run: r, count, ...result, rssIdleMiB: rssIdle, rssAfterMiB: procStatus(pid, 'VmRSS'), rssPeakMiB: procStatus(pid, 'VmHWM') }));
      await sleep(300);
    }
    await broker.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

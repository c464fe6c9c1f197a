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
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FlagDef } from '../../src/config/flags.js';
import { sampleProcess } from '../load/proc-stats.js';
import { startJunction, type LogLine } from '../lib/broker-process.js';
import { seedRetained } from '../lib/retained-seed.js';
import { StreamClient } from '../lib/stream-client.js';
import { parseToolArgs, wordList, type ToolSpec } from '../lib/tool-cli.js';

const MODES = ['worker', 'main', 'sync'] as const;

interface RetainedWildcardOptions {
  count: number;
  runs: number;
  modes: string;
}

const FLAGS: readonly FlagDef<keyof RetainedWildcardOptions>[] = [
  { group: 'Run', name: 'count', key: 'count', kind: 'int', default: 1_000_000, min: 1, max: 100_000_000, help: 'retained messages in the store' },
  { group: 'Run', name: 'runs', key: 'runs', kind: 'int', default: 2, min: 1, max: 100, help: 'subscriptions to # per mode' },
  { group: 'Run', name: 'modes', key: 'modes', kind: 'string', default: MODES.join(','), valueName: 'LIST', help: `comma-separated modes of ${MODES.join(', ')}` },
];

const SPEC: ToolSpec = {
  command: 'node dist/bench/scenarios/retained-wildcard.js',
  about: [
    'Serving # over a large retained set: a Junction broker (from dist/) on an LMDB store holding --count retained messages; a subscriber to # receives them while another client pings. Modes: worker (default flags), main (--retained-workers 0), sync (--retained-bulk-threshold 0, the old synchronous walk). One JSON line per run.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/retained-wildcard.js --count 1000000 --runs 2 --modes worker,main,sync'],
};

const options = parseToolArgs<RetainedWildcardOptions>(SPEC).values;
const { count, runs } = options;
const modes = wordList(SPEC, 'modes', options.modes, MODES);
const MODE_ARGS: Record<string, string[]> = {
  worker: [],
  main: ['--retained-workers', '0'],
  sync: ['--retained-bulk-threshold', '0'],
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Resident and peak memory of `pid` in MiB. */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const sample = sampleProcess(pid);
  return { rss: Math.round((sample?.rssBytes ?? NaN) / 1048576), peak: Math.round((sample?.peakRssBytes ?? NaN) / 1048576) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
console.log(
  `seeded ${count} retained messages in ${Math.round(performance.now() - seedStart)} ms (${dataDir}); ${os.cpus().length} CPUs, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
try {
  for (const mode of modes) {
    const broker = await startJunction({ dataDir, keepDataDir: true, args: MODE_ARGS[mode] ?? [] });
    const pid = broker.process.pid!;
    const rssIdle = memoryMiB(pid).rss;
    for (let r = 1; r <= runs; r++) {
      const result = await one(broker.port, broker.logs, `${mode}-${r}`);
      const after = memoryMiB(pid);
      console.log(JSON.stringify({ mode, run: r, count, ...result, rssIdleMiB: rssIdle, rssAfterMiB: after.rss, rssPeakMiB: after.peak }));
      await sleep(300);
    }
    await broker.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * What a connect storm costs the broker's garbage collector: a broker started with V8's
 * --trace-gc-nvp takes a storm (flood-worker.js: connect, CONNECT, CONNACK, close, 64 at a time)
 * and its young-generation collections during the storm are read back: how many, how long, and
 * how many bytes they promoted per connection. A connection's objects should die young; bytes
 * promoted per connection are what something kept alive past its close (each promoted byte is
 * copied twice and then waits for a full GC), and long scavenges are what established clients
 * feel as latency during a storm.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FlagDef } from '../../src/config/flags.js';
import { startJunction, type BrokerProcess } from '../lib/broker-process.js';
import { percentile } from '../lib/qos1-publisher.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';
import { jobArgs } from './flood-job.js';

interface StormGcOptions {
  seconds: number;
  warmup: number;
  concurrency: number;
  maxPromoted: number;
}

const FLAGS: readonly FlagDef<keyof StormGcOptions>[] = [
  { group: 'Run', name: 'seconds', key: 'seconds', kind: 'int', default: 5, min: 1, max: 600, valueName: 'SECONDS', help: 'length of the measured storm' },
  { group: 'Run', name: 'warmup', key: 'warmup', kind: 'int', default: 2, min: 0, max: 600, valueName: 'SECONDS', help: 'storm before it, not measured (the login path gets compiled)' },
  { group: 'Run', name: 'concurrency', key: 'concurrency', kind: 'int', default: 64, min: 1, max: 10_000, help: 'connections the storm keeps in flight' },
  {
    group: 'Check',
    name: 'max-promoted',
    key: 'maxPromoted',
    kind: 'int',
    default: 0,
    min: 0,
    max: 1 << 20,
    valueName: 'BYTES',
    help: 'exit 1 when the storm promoted more than this many bytes per connection (0: report only)',
  },
];

const SPEC: ToolSpec = {
  command: 'node dist/bench/scenarios/storm-gc.js',
  about: [
    'Starts a Junction broker (from dist/) under node --trace-gc-nvp, runs a connect storm against it and reports the young-generation collections of the storm: count, pause mean/p99/max, bytes promoted per connection, and full collections.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/storm-gc.js --seconds 5', 'node dist/bench/scenarios/storm-gc.js --seconds 2 --max-promoted 300'],
};

const o = parseToolArgs<StormGcOptions>(SPEC).values;

/** Runs flood-worker's storm for `seconds`; resolves with the connections it made. */
function storm(port: number, seconds: number): Promise<number> {
  const worker = fileURLToPath(new URL('./flood-worker.js', import.meta.url));
  const args = [worker, ...jobArgs({ mode: 'storm', port, seconds, concurrency: o.concurrency, version: 4, payloadBytes: 0, reconnectDelayMs: 0 })];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err !== null) {
        reject(new Error(`the storm worker failed: ${err.message}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      resolve((JSON.parse(line) as { attempts: number }).attempts);
    });
  });
}

/** One collection from a --trace-gc-nvp line. */
interface Collection {
  kind: string;
  pauseMs: number;
  promoted: number;
}

/** The collections logged since log line `from`. */
function collections(broker: BrokerProcess, from: number): Collection[] {
  const out: Collection[] = [];
  for (const line of broker.logs.slice(from)) {
    const text = line['raw'] === true ? String(line['msg']) : '';
    const kind = / gc=(\w+)/.exec(text)?.[1];
    if (kind === undefined) continue;
    const field = (name: string): number => Number(new RegExp(` ${name}=([0-9.]+)`).exec(text)?.[1] ?? 0);
    out.push({ kind, pauseMs: field('pause'), promoted: field('promoted') });
  }
  return out;
}

async function main(): Promise<void> {
  const broker = await startJunction({ nodeArgs: ['--trace-gc-nvp'], args: ['--store', 'memory'] });
  try {
    if (o.warmup > 0) {
      console.log(`storm-gc: warm-up storm, ${o.warmup} s`);
      await storm(broker.port, o.warmup);
    }
    // Lets the warm-up's last collections reach the log before the mark.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const from = broker.logs.length;
    console.log(`storm-gc: measured storm, ${o.seconds} s, ${o.concurrency} in flight`);
    const connections = await storm(broker.port, o.seconds);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const all = collections(broker, from);
    const young = all.filter((c) => c.kind === 's');
    const full = all.filter((c) => c.kind !== 's');
    const pauses = young.map((c) => c.pauseMs).sort((a, b) => a - b);
    const promoted = young.reduce((sum, c) => sum + c.promoted, 0);
    const perConnection = connections > 0 ? promoted / connections : 0;
    const mean = pauses.length > 0 ? pauses.reduce((a, b) => a + b, 0) / pauses.length : 0;
    console.log(`connections: ${connections} (${Math.round(connections / o.seconds)}/s)`);
    console.log(
      `scavenges: ${young.length}, pause mean ${mean.toFixed(2)} ms, p99 ${percentile(pauses, 99).toFixed(2)} ms, max ${(pauses.at(-1) ?? 0).toFixed(2)} ms, ${(pauses.reduce((a, b) => a + b, 0) / (o.seconds * 10)).toFixed(2)}% of the storm`,
    );
    console.log(`promoted: ${(promoted / 1048576).toFixed(2)} MiB, ${perConnection.toFixed(0)} bytes per connection`);
    console.log(`full collections: ${full.length} (${full.map((c) => `${c.kind} ${c.pauseMs.toFixed(1)} ms`).join(', ') || 'none'})`);
    if (young.length === 0) console.log('no scavenge happened during the storm: run it longer (--seconds) for a figure');
    if (o.maxPromoted > 0 && young.length > 0 && perConnection > o.maxPromoted) {
      console.error(
        `storm-gc: ${perConnection.toFixed(0)} bytes promoted per connection, above --max-promoted ${o.maxPromoted}: something keeps a closed connection's objects alive (see docs/PERFORMANCE.md, "Connect storms and the young generation")`,
      );
      process.exitCode = 1;
    }
  } finally {
    await broker.dispose();
  }
}

await main();

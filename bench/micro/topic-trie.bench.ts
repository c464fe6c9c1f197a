/**
 * TopicTrie: match rate and memory at 10k, 100k and 1M subscriptions (--sizes), cache on and off;
 * heap per subscription needs node --expose-gc.
 *
 * Workload (vehicle fleet): N/2 vehicles in 32 regions. 80% of filters are literal
 * `fleet/{region}/{vehicle}/{leaf}`; 20% wildcards: per-device `fleet/{region}/{vehicle}/#` and
 * `fleet/+/{vehicle}/status`, plus a fixed 256 region-wide `fleet/{region}/+/{leaf}` and
 * `fleet/{region}/#` (dashboards), so fan-out per topic stays comparable across sizes.
 * "hot" cycles 512 topics (fits the cache); "spread" cycles 65,536 random topics (mostly misses).
 */
import { Bench } from 'tinybench';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { numberList, parseToolArgs } from '../lib/tool-cli.js';
import { filterFor, rng, topics } from './fleet-mix.js';
import { microSpec } from './registry.js';

const SPEC = microSpec('topic-trie', [
  { group: 'Flags', name: 'sizes', key: 'sizes', kind: 'string', default: '10000,100000,1000000', valueName: 'LIST', help: 'comma-separated subscription counts, one row each' },
]);
const SIZES = numberList(SPEC, 'sizes', parseToolArgs<{ sizes: string }>(SPEC).values.sizes);

const BATCH = 1000;

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

interface Row {
  subscriptions: number;
  'heap MB': string;
  'bytes/sub': number | string;
  'insert/s': number;
  'hot cache on': number;
  'hot cache off': number;
  'spread cache on': number;
  'spread cache off': number;
  'avg pairs': number;
}

function build(n: number, cacheSize: number): { trie: TopicTrie; ms: number } {
  const rand = rng(42);
  const vehicles = Math.max(1, n >> 1);
  const trie = new TopicTrie({ cacheSize });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) trie.insert(filterFor(i, vehicles, rand), i, i & 3);
  return { trie, ms: performance.now() - t0 };
}

async function measure(n: number): Promise<Row> {
  const before = heapUsed();
  const on = build(n, 1024);
  const after = heapUsed();
  const off = build(n, 0).trie;
  const vehicles = Math.max(1, n >> 1);
  const rand = rng(7);
  const hot = topics(512, vehicles, rand);
  const spread = topics(65536, vehicles, rand);

  let pairs = 0;
  for (const t of spread.slice(0, 4096)) pairs += off.match(t).length / 2;

  let hi = 0;
  let si = 0;
  let sink = 0;
  const bench = new Bench({ time: 400, warmupTime: 100 });
  const run = (trie: TopicTrie, list: string[], spreadList: boolean) => () => {
    let i = spreadList ? si : hi;
    for (let k = 0; k < BATCH; k++) {
      sink += trie.match(list[i]).length;
      i = (i + 1) & (list.length - 1);
    }
    if (spreadList) si = i;
    else hi = i;
  };
  bench
    .add('hot cache on', run(on.trie, hot, false))
    .add('hot cache off', run(off, hot, false))
    .add('spread cache on', run(on.trie, spread, true))
    .add('spread cache off', run(off, spread, true));
  await bench.run();
  if (sink < 0) console.log(sink); // keeps the work observable

  const rate = (name: string): number => {
    const task = bench.tasks.find((t) => t.name === name);
    const result = task?.result;
    if (result === undefined || !('throughput' in result)) return 0;
    return Math.round(result.throughput.mean * BATCH);
  };
  const heap = after - before;
  return {
    subscriptions: n,
    'heap MB': gc === undefined ? 'run with --expose-gc' : (heap / 1048576).toFixed(1),
    'bytes/sub': gc === undefined ? '-' : Math.round(heap / n),
    'insert/s': Math.round(n / (on.ms / 1000)),
    'hot cache on': rate('hot cache on'),
    'hot cache off': rate('hot cache off'),
    'spread cache on': rate('spread cache on'),
    'spread cache off': rate('spread cache off'),
    'avg pairs': Number((pairs / 4096).toFixed(1)),
  };
}

const rows: Row[] = [];
for (const n of SIZES) rows.push(await measure(n));
console.log('TopicTrie match rate (matches/s) and heap per subscription');
console.table(rows);

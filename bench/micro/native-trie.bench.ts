/**
 * Native trie vs the TypeScript twin in one run: match rate and memory at 10k, 100k and 1M
 * subscriptions. Workload as bench/micro/topic-trie.bench.ts (vehicle fleet, 20% wildcard filters).
 * Needs the addon (make -C native) and node --expose-gc. Memory is measured in a fresh child process per (implementation, size): RSS delta (and heap
 * delta) across inserting pre-generated filters, divided by the subscriptions.
 */
import { Bench } from 'tinybench';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { loadNative } from '../../src/native/binding.js';
import { NativeTopicTrie } from '../../src/native/topic-trie.js';
import { numberList, parseToolArgs } from '../lib/tool-cli.js';
import { filterFor, rng, topics } from './fleet-mix.js';
import { microSpec } from './registry.js';

const SPEC = microSpec('native-trie', [
  { group: 'Flags', name: 'sizes', key: 'sizes', kind: 'string', default: '10000,100000,1000000', valueName: 'LIST', help: 'comma-separated subscription counts, one row each' },
  {
    group: 'Flags',
    name: 'memory-of',
    key: 'memoryOf',
    kind: 'enum',
    values: ['none', 'native', 'twin'],
    default: 'none',
    help: 'measure the memory of one trie of --sizes N in this process and print it as JSON (the bench runs itself so, a fresh process per row)',
  },
]);
const OPTIONS = parseToolArgs<{ sizes: string; memoryOf: 'none' | Impl }>(SPEC).values;
const SIZES = numberList(SPEC, 'sizes', OPTIONS.sizes);

const BATCH = 1000;

type Impl = 'native' | 'twin';
type Matcher = { insert(f: string, id: number, o: number): boolean; match(t: string): Int32Array };

const native = loadNative('on')!;

function create(impl: Impl, cacheSize: number): Matcher {
  return impl === 'native' ? new NativeTopicTrie(native, { cacheSize }) : new TopicTrie({ cacheSize });
}

function build(impl: Impl, n: number, cacheSize: number): { trie: Matcher; ms: number } {
  const rand = rng(42);
  const vehicles = Math.max(1, n >> 1);
  const trie = create(impl, cacheSize);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) trie.insert(filterFor(i, vehicles, rand), i, i & 3);
  return { trie, ms: performance.now() - t0 };
}

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): void {
  gc?.();
  gc?.();
}

interface MemoryResult {
  rssPerSub: number;
  heapPerSub: number;
  insertPerSec: number;
}

/** Child mode: build one trie in a clean process and print its memory figures as JSON. */
function memoryChild(impl: Impl, n: number): void {
  // The filter strings are made first and stay alive across both samples, so the delta is what
  // the trie itself keeps (not the transient garbage of building strings).
  const rand = rng(42);
  const vehicles = Math.max(1, n >> 1);
  const filters: string[] = [];
  // Round-tripped through bytes so each is a flat string: V8 would otherwise flatten the
  // template-literal cons strings during the measurement and skew the heap and RSS deltas.
  for (let i = 0; i < n; i++) filters.push(Buffer.from(filterFor(i, vehicles, rand)).toString());
  const trie = create(impl, 1024);
  settle();
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) trie.insert(filters[i], i, i & 3);
  const ms = performance.now() - t0;
  settle();
  const m1 = process.memoryUsage();
  const result: MemoryResult = {
    rssPerSub: (m1.rss - m0.rss) / n,
    heapPerSub: (m1.heapUsed - m0.heapUsed) / n,
    insertPerSec: n / (ms / 1000),
  };
  if (trie.match(filters[n - 1]).length === 0) throw new Error('last filter does not match itself');
  console.log(JSON.stringify(result));
}

function memory(impl: Impl, n: number): MemoryResult {
  const self = fileURLToPath(import.meta.url);
  const text = execFileSync(process.execPath, ['--expose-gc', self, '--memory-of', impl, '--sizes', String(n)], { encoding: 'utf8' });
  return JSON.parse(text.trim().split('\n').pop() ?? '{}') as MemoryResult;
}

async function rates(n: number): Promise<Record<string, number>> {
  const tries = {
    nativeOn: build('native', n, 1024).trie,
    nativeOff: build('native', n, 0).trie,
    twinOn: build('twin', n, 1024).trie,
    twinOff: build('twin', n, 0).trie,
  };
  const vehicles = Math.max(1, n >> 1);
  const rand = rng(7);
  const hot = topics(512, vehicles, rand);
  const spread = topics(65536, vehicles, rand);
  let sink = 0;
  const cursor = new Map<string, number>();
  const run = (name: string, trie: Matcher, list: string[]) => () => {
    let i = cursor.get(name) ?? 0;
    for (let k = 0; k < BATCH; k++) {
      sink += trie.match(list[i]).length;
      i = (i + 1) & (list.length - 1);
    }
    cursor.set(name, i);
  };
  const bench = new Bench({ time: 400, warmupTime: 100 });
  for (const [label, list] of [
    ['hot', hot],
    ['spread', spread],
  ] as const) {
    bench.add(`native ${label} cache on`, run(`n${label}on`, tries.nativeOn, list));
    bench.add(`twin ${label} cache on`, run(`t${label}on`, tries.twinOn, list));
    bench.add(`native ${label} cache off`, run(`n${label}off`, tries.nativeOff, list));
    bench.add(`twin ${label} cache off`, run(`t${label}off`, tries.twinOff, list));
  }
  await bench.run();
  if (sink < 0) console.log(sink);
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    out[task.name] = r !== undefined && 'throughput' in r ? Math.round(r.throughput.mean * BATCH) : 0;
  }
  return out;
}

async function main(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  const memRows: Record<string, string | number>[] = [];
  for (const n of SIZES) {
    const mn = memory('native', n);
    const mt = memory('twin', n);
    memRows.push({
      subscriptions: n,
      'native RSS B/sub': Math.round(mn.rssPerSub),
      'twin RSS B/sub': Math.round(mt.rssPerSub),
      'twin heap B/sub': Math.round(mt.heapPerSub),
      'twin/native memory': (mt.rssPerSub / mn.rssPerSub).toFixed(2),
      'native insert/s': Math.round(mn.insertPerSec),
      'twin insert/s': Math.round(mt.insertPerSec),
    });
    const r = await rates(n);
    for (const label of ['hot', 'spread']) {
      for (const cache of ['on', 'off']) {
        const nat = r[`native ${label} cache ${cache}`];
        const twin = r[`twin ${label} cache ${cache}`];
        rows.push({ subscriptions: n, workload: `${label}, cache ${cache}`, 'native matches/s': nat, 'twin matches/s': twin, 'native/twin': (nat / twin).toFixed(2) });
      }
    }
  }
  console.log('Topic trie memory (fresh process per row; RSS delta / subscriptions)');
  console.table(memRows);
  console.log('Topic trie match rate, native vs TypeScript twin (same run)');
  console.table(rows);
}

if (OPTIONS.memoryOf !== 'none') {
  memoryChild(OPTIONS.memoryOf, SIZES[0]!);
} else {
  await main();
}

/**
 * Which matcher belongs on the hot path: the TypeScript trie (with its own cache), the native
 * trie, or the native trie behind the JavaScript CachedMatcher. Realistic fleet mix:
 * fleet/{region}/{vehicle}/telemetry topics, 20% wildcard filters; a hot set of topics
 * (repeated publishers) and a spread set, with and without subscription churn.
 */
import { TopicTrie } from '../../src/core/topic-trie.js';
import { CachedMatcher } from '../../src/core/cached-matcher.js';
import type { TopicMatcher } from '../../src/core/router.js';
import { loadNative } from '../../src/native/binding.js';
import { NativeTopicTrie } from '../../src/native/topic-trie.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

const SPEC = microSpec('router-matchers', [
  { group: 'Flags', name: 'subscriptions', key: 'subscriptions', kind: 'int', default: 100_000, min: 20, max: 10_000_000, help: 'subscriptions in each matcher' },
]);

const subs = parseToolArgs<{ subscriptions: number }>(SPEC).values.subscriptions;
const native = loadNative('on')!;
const regions = 20;
const vehicles = Math.max(1, Math.floor(subs / regions));

function fill(m: TopicMatcher): void {
  for (let i = 0; i < subs; i++) {
    const r = i % regions;
    const v = Math.floor(i / regions);
    const f = i % 5 === 0 ? (i % 10 === 0 ? `fleet/${r}/+/telemetry` : `fleet/${r}/${v}/#`) : `fleet/${r}/${v}/telemetry`;
    m.insert(f, i, 1);
  }
}

function topics(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`fleet/${i % regions}/${Math.floor((i * 7919) % vehicles)}/telemetry`);
  return out;
}

function rate(m: TopicMatcher, list: string[], ms: number, churnEvery: number, churnFilter = 'churn/x'): number {
  let n = 0;
  let sink = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      sink += m.match(list[(n + i) % list.length]!).length;
      if (churnEvery > 0 && (n + i) % churnEvery === 0) {
        m.insert(churnFilter, 1 << 30, 0);
        m.remove(churnFilter, 1 << 30);
      }
    }
    n += 1000;
  }
  if (sink < 0) console.log(sink);
  return n / (ms / 1000);
}

const makers: Array<[string, () => TopicMatcher]> = [
  ['typescript trie', () => new TopicTrie()],
  ['native trie', () => new NativeTopicTrie(native)],
  ['native + CachedMatcher', () => new CachedMatcher(new NativeTopicTrie(native))],
];
const rows: Record<string, string>[] = [];
for (const [name, make] of makers) {
  const m = make();
  fill(m);
  const hot = topics(512);
  const spread = topics(65_536);
  rows.push({
    matcher: name,
    'hot (M/s)': (rate(m, hot, 700, 0) / 1e6).toFixed(2),
    'spread (M/s)': (rate(m, spread, 700, 0) / 1e6).toFixed(2),
    'hot + literal churn (M/s)': (rate(m, hot, 700, 1000) / 1e6).toFixed(2),
    'hot + wildcard churn (M/s)': (rate(m, hot, 700, 1000, 'churn/+') / 1e6).toFixed(2),
  });
}
console.log(`subscriptions: ${subs}`);
console.table(rows);

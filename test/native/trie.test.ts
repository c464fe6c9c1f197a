import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadNative } from '../../src/native/binding.js';
import { NativeTopicTrie } from '../../src/native/topic-trie.js';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { filterMatches } from '../../src/core/topic.js';

const native = loadNative('on')!;

/** Matching (id, options) pairs as sorted "id:opt" strings, for order-free assertions. */
function pairs(trie: NativeTopicTrie, topic: string): string[] {
  const r = trie.match(topic);
  const out: string[] = [];
  for (let i = 0; i < r.length; i += 2) out.push(`${r[i]}:${r[i + 1]}`);
  return out.sort();
}

for (const cacheSize of [0, 1024]) {
  const label = cacheSize === 0 ? 'cache off' : 'cache on';

  test(`${label}: + and # wildcards, a/# matches a, the $ rule`, () => {
    const t = new NativeTopicTrie(native, { cacheSize });
    t.insert('fleet/+/v1/telemetry', 1, 0);
    t.insert('fleet/#', 2, 1);
    t.insert('#', 3, 2);
    t.insert('+/+', 4, 0);
    t.insert('$SYS/#', 5, 0);
    t.insert('fleet/eu/v1/telemetry', 6, 1);
    assert.deepEqual(pairs(t, 'fleet/eu/v1/telemetry'), ['1:0', '2:1', '3:2', '6:1']);
    assert.deepEqual(pairs(t, 'fleet'), ['2:1', '3:2']);
    assert.deepEqual(pairs(t, 'fleet/eu'), ['2:1', '3:2', '4:0']);
    assert.deepEqual(pairs(t, '$SYS/broker/uptime'), ['5:0']);
    assert.deepEqual(pairs(t, '$SYS'), ['5:0']);
    assert.deepEqual(pairs(t, 'other/x/y'), ['3:2']);
    assert.deepEqual(pairs(t, 'a//'), ['3:2']);
  });

  test(`${label}: insert replaces options, remove prunes, size and generation follow`, () => {
    const t = new NativeTopicTrie(native, { cacheSize });
    assert.equal(t.insert('a/b', 1, 0), true);
    assert.equal(t.match('a/b').length, 2); // cached now when the cache is on
    assert.equal(t.insert('a/b', 1, 2), false);
    assert.deepEqual(pairs(t, 'a/b'), ['1:2']);
    assert.equal(t.insert('a/+', 2, 1), true);
    assert.deepEqual(pairs(t, 'a/b'), ['1:2', '2:1']);
    assert.equal(t.size, 2);
    assert.equal(t.generation, 3);
    assert.equal(t.remove('a/+', 3), false);
    assert.equal(t.remove('a/c', 1), false);
    assert.equal(t.generation, 3);
    assert.equal(t.remove('a/+', 2), true);
    assert.deepEqual(pairs(t, 'a/b'), ['1:2']);
    assert.equal(t.remove('a/b', 1), true);
    assert.deepEqual(pairs(t, 'a/b'), []);
    assert.equal(t.size, 0);
    assert.equal(t.generation, 5);
    assert.equal(t.nodeCount, 1, 'every emptied node is pruned, only the root stays');
  });

  test(`${label}: many subscribers on one filter, results larger than the initial buffer`, () => {
    const t = new NativeTopicTrie(native, { cacheSize });
    for (let id = 0; id < 5000; id++) t.insert(id % 2 === 0 ? 'x/+' : 'x/y', id, id & 3);
    assert.equal(t.match('x/y').length, 10000);
    for (let id = 0; id < 5000; id += 3) assert.equal(t.remove(id % 2 === 0 ? 'x/+' : 'x/y', id), true);
    const r = t.match('x/y');
    const ids = new Set<number>();
    for (let i = 0; i < r.length; i += 2) {
      ids.add(r[i]);
      assert.equal(r[i + 1], r[i] & 3);
    }
    for (let id = 0; id < 5000; id++) assert.equal(ids.has(id), id % 3 !== 0, `id ${id}`);
  });
}

test("overlapping wildcards come back in the twin's exact order, cache on and off", () => {
  const filters = ['+/+', 'a/+', 'a/b', '#', 'a/#', '+/b', '+/#', 'a/b/#'];
  for (const cacheSize of [0, 1024]) {
    const n = new NativeTopicTrie(native, { cacheSize });
    const t = new TopicTrie({ cacheSize });
    filters.forEach((f, i) => {
      n.insert(f, i, i * 10);
      t.insert(f, i, i * 10);
    });
    for (const topic of ['a/b', 'a', 'x/b', 'a/b/c', '$x/b']) {
      assert.deepEqual(Array.from(n.match(topic)), Array.from(t.match(topic)), topic);
      assert.deepEqual(Array.from(n.match(topic)), Array.from(t.match(topic)), `${topic} (second, cached)`);
    }
  }
});

test('match results are read-only views valid until the next match; matchBytes agrees', () => {
  const t = new NativeTopicTrie(native);
  t.insert('日本/+', 7, 1);
  const topic = '日本/東京';
  const r = Array.from(t.match(topic));
  assert.deepEqual(r, [7, 1]);
  const bytes = Buffer.from(`xx${topic}yy`);
  assert.deepEqual(Array.from(t.matchBytes(bytes, 2, bytes.length - 2)), [7, 1]);
  assert.equal(t.match('nothing').length, 0);
});

test('cache is bounded and swept; clearCache keeps results', () => {
  const t = new NativeTopicTrie(native, { cacheSize: 1024 });
  t.insert('d/#', 1, 0);
  for (let i = 0; i < 1500; i++) t.match(`d/${i}`);
  assert.ok(t.cacheSize <= 1024 && t.cacheSize >= 256, `cacheSize ${t.cacheSize}`);
  t.clearCache();
  assert.equal(t.cacheSize, 0);
  assert.deepEqual(Array.from(t.match('d/1')), [1, 0]);
});

test('removeAll removes the existing pairs with one generation bump and an empty cache', () => {
  const t = new NativeTopicTrie(native);
  t.insert('a', 1, 0);
  t.insert('b/+', 1, 0);
  t.insert('c/#', 2, 0);
  t.match('a');
  const g = t.generation;
  assert.equal(
    t.removeAll([
      ['a', 1],
      ['b/+', 1],
      ['zz', 1],
    ]),
    2,
  );
  assert.equal(t.generation, g + 1);
  assert.equal(t.cacheSize, 0);
  assert.equal(t.size, 1);
  assert.deepEqual(Array.from(t.match('a')), []);
});

test('wrong arguments and foreign handles throw exceptions naming the argument', () => {
  const h = native.trieNew(16);
  const call = (name: string, ...args: unknown[]) => (Reflect.get(native, name) as (...a: unknown[]) => unknown)(...args);
  assert.throws(() => call('trieInsert', h, 1, 1, 1), { name: 'TypeError', message: /'filter'/ });
  assert.throws(() => call('trieInsert', h, 'a', 'x', 1), { name: 'TypeError', message: /'id'/ });
  assert.throws(() => call('trieInsert', h, 'a', 2 ** 40, 1), { name: 'RangeError', message: /'id'/ });
  assert.throws(() => call('trieInsert', h, 'a', 1), { name: 'TypeError', message: /expected 4 arguments/ });
  assert.throws(() => call('trieMatchInto', h, 'a', new Uint32Array(4)), { name: 'TypeError', message: /'out'/ });
  assert.throws(() => call('trieMatchBytesInto', h, new Uint8Array(4), 2, 9, new Int32Array(4)), { name: 'RangeError', message: /'buf'/ });
  assert.throws(() => call('trieNew', -1), { name: 'RangeError', message: /'cacheSize'/ });
  // Not a handle, or a handle of another kind: refused before any native memory is touched.
  assert.throws(() => call('trieInsert', {}, 'a', 1, 1), { name: 'TypeError', message: /'trie'/ });
  assert.throws(() => call('trieMatchInto', 42, 'a', new Int32Array(4)), { name: 'TypeError', message: /'trie'/ });
});

// ---- differential: native == TypeScript twin, cache off, tiny and default ----

// 15 bytes fit a node inline, 16 and more go to the long-name slab: both sides of the edge.
const level = fc.constantFrom('a', 'b', 'fleet', '', '$SYS', 'é', 'dev42', 'fifteen-bytes-x', 'sixteen-bytes-xx', 'a-level-name-well-past-sixteen-bytes');
const filterArb = fc.oneof(
  fc.constant('#'),
  fc.tuple(fc.array(fc.oneof(level, fc.constant('+')), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/')),
);
const topicArb = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));

// Ops name filters and topics by index into small per-run pools, so removals and repeated
// matches hit what earlier ops inserted and cached (the cases where invalidation shows).
type Op =
  | { op: 'insert'; f: number; id: number; opt: number }
  | { op: 'remove'; f: number; id: number }
  | { op: 'match'; t: number }
  | { op: 'clear' }
  | { op: 'removeAll'; pairs: [number, number][] };

const idArbSmall = fc.integer({ min: -1, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), f: fc.nat(), id: idArbSmall, opt: fc.integer({ min: -2, max: 300 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), f: fc.nat(), id: idArbSmall }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('match' as const), t: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeAll' as const), pairs: fc.array(fc.tuple(fc.nat(), idArbSmall), { maxLength: 4 }) }) },
);

for (const cacheSize of [0, 3, 1024]) {
  test(`differential (cacheSize ${cacheSize}): random insert/remove/match sequences equal the twin`, () => {
    fc.assert(
      fc.property(fc.array(filterArb, { minLength: 1, maxLength: 8 }), fc.array(topicArb, { minLength: 1, maxLength: 8 }), fc.array(opArb, { maxLength: 80 }), (filters, topics, ops) => {
        const n = new NativeTopicTrie(native, { cacheSize });
        const t = new TopicTrie({ cacheSize });
        const live = new Map<string, number>();
        const probes = topics;
        for (const o of ops) {
          switch (o.op) {
            case 'insert': {
              const filter = filters[o.f % filters.length];
              assert.equal(n.insert(filter, o.id, o.opt), t.insert(filter, o.id, o.opt));
              live.set(`${o.id}\u0000${filter}`, o.opt);
              break;
            }
            case 'remove': {
              const filter = filters[o.f % filters.length];
              assert.equal(n.remove(filter, o.id), t.remove(filter, o.id));
              live.delete(`${o.id}\u0000${filter}`);
              break;
            }
            case 'match': {
              const topic = topics[o.t % topics.length];
              assert.deepEqual(Array.from(n.match(topic)), Array.from(t.match(topic)));
              break;
            }
            case 'clear':
              n.clearCache();
              t.clearCache();
              break;
            case 'removeAll': {
              const pairs = o.pairs.map(([f, id]): [string, number] => [filters[f % filters.length], id]);
              assert.equal(n.removeAll(pairs), t.removeAll(pairs));
              for (const [f, id] of pairs) live.delete(`${id}\u0000${f}`);
              break;
            }
          }
          assert.equal(n.size, t.size);
          assert.equal(n.generation, t.generation);
          assert.equal(n.cacheSize, t.cacheSize);
        }
        // Independent oracle: the reference matcher over the live (filter, id) set.
        for (const topic of probes) {
          const want: string[] = [];
          for (const [key, opt] of live) {
            const [id, filter] = key.split('\u0000');
            if (filterMatches(filter, topic)) want.push(`${id}:${opt}`);
          }
          assert.deepEqual(pairs(n, topic), want.sort());
        }
      }),
      { numRuns: 400 },
    );
  });
}

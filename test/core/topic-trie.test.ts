import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { filterMatches } from '../../src/core/topic.js';

// Small alphabets so that filters and topics collide often; '' gives empty levels
// (`a//b`, leading and trailing `/`), '$s' gives `$`-prefixed topics and filters.
const topicArb = fc
  .array(fc.constantFrom('a', 'b', '', '$s'), { minLength: 1, maxLength: 4 })
  .map((ls) => ls.join('/'))
  .filter((t) => t.length > 0);

const filterArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '+', '$s'), { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([ls, hash]) => (hash ? [...ls, '#'] : ls).join('/'))
  .filter((f) => f.length > 0);

type Op =
  | { op: 'insert'; filter: string; id: number; opt: number }
  | { op: 'remove'; filter: string; id: number }
  | { op: 'removeAll'; pairs: Array<[string, number]> }
  | { op: 'match'; topic: string };

const idArb = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), filter: filterArb, id: idArb, opt: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), filter: filterArb, id: idArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeAll' as const), pairs: fc.array(fc.tuple(filterArb, idArb), { maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('match' as const), topic: topicArb }) },
);

/** Brute force over the live entries, as sorted [id, opt] pairs. */
function expected(live: Map<string, Map<number, number>>, topic: string): number[][] {
  const pairs: number[][] = [];
  for (const [filter, ids] of live) {
    if (!filterMatches(filter, topic)) continue;
    for (const [id, opt] of ids) pairs.push([id, opt]);
  }
  return pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

function pairsOf(result: Int32Array): number[][] {
  const pairs: number[][] = [];
  for (let i = 0; i < result.length; i += 2) pairs.push([result[i], result[i + 1]]);
  return pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

const CACHE_MODES: Array<[string, number]> = [
  ['cache on', 1024],
  ['tiny cache (sweeps)', 3],
  ['cache off', 0],
];

for (const [mode, cacheSize] of CACHE_MODES) {
  test(`differential: match equals brute force after every step (${mode})`, () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40, size: 'max' }), fc.array(topicArb, { minLength: 1, maxLength: 8 }), (ops, probes) => {
        const trie = new TopicTrie({ cacheSize });
        const reference = new TopicTrie({ cacheSize: 0 });
        const live = new Map<string, Map<number, number>>();
        let count = 0;
        for (const o of ops) {
          const gen = trie.generation;
          if (o.op === 'insert') {
            const ids = live.get(o.filter) ?? new Map<number, number>();
            const isNew = !ids.has(o.id);
            ids.set(o.id, o.opt);
            live.set(o.filter, ids);
            if (isNew) count++;
            assert.equal(trie.insert(o.filter, o.id, o.opt), isNew);
            reference.insert(o.filter, o.id, o.opt);
            assert.ok(trie.generation > gen, 'insert bumps generation');
          } else if (o.op === 'remove') {
            const existed = live.get(o.filter)?.delete(o.id) ?? false;
            if (live.get(o.filter)?.size === 0) live.delete(o.filter);
            if (existed) count--;
            assert.equal(trie.remove(o.filter, o.id), existed);
            reference.remove(o.filter, o.id);
            if (existed) assert.ok(trie.generation > gen, 'remove bumps generation');
          } else if (o.op === 'removeAll') {
            let removed = 0;
            for (const [filter, id] of o.pairs) {
              if (live.get(filter)?.delete(id)) removed++;
              if (live.get(filter)?.size === 0) live.delete(filter);
            }
            count -= removed;
            assert.equal(trie.removeAll(o.pairs), removed);
            reference.removeAll(o.pairs);
            if (removed > 0) assert.ok(trie.generation > gen, 'removeAll bumps generation');
          } else {
            assert.deepEqual(pairsOf(trie.match(o.topic)), expected(live, o.topic));
          }
          assert.equal(trie.size, count);
          assert.ok(trie.cacheSize <= cacheSize);
          for (const t of probes) {
            const got = trie.match(t);
            assert.deepEqual(pairsOf(got), expected(live, t), `topic ${t}`);
            // Results never depend on cache history: same pairs in the same order.
            assert.deepEqual(Array.from(got), Array.from(reference.match(t)), `order for ${t}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test(`named spec cases (${mode})`, () => {
    const trie = new TopicTrie({ cacheSize });
    const filters = ['sport/#', '+/+', '+', '$SYS/#', '#', 'sport/tennis/+', '/+', 'a//b'];
    for (const [id, f] of filters.entries()) trie.insert(f, id, 0);
    const ids = (topic: string): string[] =>
      pairsOf(trie.match(topic))
        .map(([id]) => filters[id])
        .sort();
    for (let round = 0; round < 2; round++) {
      // Second round answers from the cache when it is on.
      assert.deepEqual(ids('sport'), ['#', '+', 'sport/#'].sort());
      assert.deepEqual(ids('/finance'), ['#', '+/+', '/+'].sort());
      assert.deepEqual(ids('$SYS'), ['$SYS/#']);
      assert.deepEqual(ids('$SYS/broker/load'), ['$SYS/#']);
      assert.deepEqual(ids('sport/tennis/p1'), ['#', 'sport/#', 'sport/tennis/+'].sort());
      assert.deepEqual(ids('a//b'), ['#', 'a//b'].sort());
      assert.deepEqual(ids('x/y/z'), ['#']);
    }
  });

  test(`the same id under several matching filters appears once per filter (${mode})`, () => {
    const trie = new TopicTrie({ cacheSize });
    trie.insert('a/+', 7, 1);
    trie.insert('a/b', 7, 2);
    trie.insert('#', 7, 0);
    assert.deepEqual(pairsOf(trie.match('a/b')), [
      [7, 0],
      [7, 1],
      [7, 2],
    ]);
  });

  test(`re-insert replaces options and keeps one entry (${mode})`, () => {
    const trie = new TopicTrie({ cacheSize });
    assert.equal(trie.insert('a/+', 1, 1), true);
    assert.deepEqual(Array.from(trie.match('a/x')), [1, 1]);
    assert.equal(trie.insert('a/+', 1, 2), false);
    assert.equal(trie.size, 1);
    assert.deepEqual(Array.from(trie.match('a/x')), [1, 2]);
  });

  test(`results held by a caller survive later mutations unchanged (${mode})`, () => {
    const trie = new TopicTrie({ cacheSize });
    trie.insert('a/b', 1, 0);
    const before = trie.match('a/b');
    trie.insert('a/+', 2, 0);
    trie.insert('a/b', 3, 0);
    trie.remove('a/b', 1);
    assert.deepEqual(Array.from(before), [1, 0]);
    assert.deepEqual(pairsOf(trie.match('a/b')), [
      [2, 0],
      [3, 0],
    ]);
  });

  test(`removal prunes so that re-insertion starts clean (${mode})`, () => {
    const trie = new TopicTrie({ cacheSize });
    trie.insert('a/b/c', 1, 0);
    trie.insert('a/+/c', 2, 0);
    trie.insert('a/#', 3, 0);
    assert.equal(trie.remove('a/b/c', 1), true);
    assert.equal(trie.remove('a/b/c', 1), false);
    assert.equal(trie.remove('a/+/c', 2), true);
    assert.equal(trie.remove('a/#', 3), true);
    assert.equal(trie.remove('a/#', 3), false);
    assert.equal(trie.size, 0);
    assert.equal(trie.match('a/b/c').length, 0);
    trie.insert('a/b/c', 4, 0);
    assert.deepEqual(Array.from(trie.match('a/b/c')), [4, 0]);
  });

  test(`a node with thousands of subscribers inserts, replaces and removes correctly (${mode})`, () => {
    const trie = new TopicTrie({ cacheSize });
    const n = 5000;
    for (let id = 0; id < n; id++) assert.equal(trie.insert('fleet/+/alarm', id, id & 3), true);
    assert.equal(trie.insert('fleet/+/alarm', 123, 9), false);
    for (let id = 0; id < n; id += 2) assert.equal(trie.remove('fleet/+/alarm', id), true);
    const got = trie.match('fleet/eu/alarm');
    assert.equal(got.length, n);
    const seen = new Map<number, number>();
    for (let i = 0; i < got.length; i += 2) seen.set(got[i], got[i + 1]);
    for (let id = 0; id < n; id++) {
      if (id % 2 === 0) assert.equal(seen.has(id), false);
      else assert.equal(seen.get(id), id === 123 ? 9 : id & 3);
    }
  });

  test(`differential: one filter with many ids crossing the index threshold (${mode})`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 9 })), { minLength: 1, maxLength: 300, size: 'max' }), (steps) => {
        const trie = new TopicTrie({ cacheSize });
        const model = new Map<number, number>();
        for (const [add, id, opt] of steps) {
          if (add) {
            assert.equal(trie.insert('f/+', id, opt), !model.has(id));
            model.set(id, opt);
          } else {
            assert.equal(trie.remove('f/+', id), model.delete(id));
          }
          const want = [...model].sort((x, y) => x[0] - y[0]);
          assert.deepEqual(pairsOf(trie.match('f/x')), want);
          assert.equal(trie.size, model.size);
        }
      }),
      { numRuns: 100 },
    );
  });

  test(`very deep topics and filters do not overflow the stack (${mode})`, () => {
    const trie = new TopicTrie({ cacheSize });
    const deep = Array.from({ length: 50000 }, (_, i) => (i % 2 === 0 ? 'x' : '')).join('/');
    trie.insert(deep, 1, 0);
    trie.insert('x/#', 2, 0);
    assert.deepEqual(pairsOf(trie.match(deep)), [
      [1, 0],
      [2, 0],
    ]);
    assert.equal(trie.remove(deep, 1), true);
    assert.deepEqual(Array.from(trie.match(deep)), [2, 0]);
  });
}

test('the cache returns the same array for a repeated topic and stays bounded', () => {
  const trie = new TopicTrie({ cacheSize: 1024 });
  trie.insert('t/+', 1, 0);
  const first = trie.match('t/1');
  assert.equal(trie.match('t/1'), first);
  for (let i = 0; i < 5000; i++) trie.match(`t/${i}`);
  assert.ok(trie.cacheSize <= 1024 && trie.cacheSize >= 256, `cacheSize ${trie.cacheSize}`);
  trie.clearCache();
  assert.equal(trie.cacheSize, 0);
  assert.deepEqual(Array.from(trie.match('t/1')), [1, 0]);
});

test('topics without subscribers share one empty result', () => {
  const trie = new TopicTrie({ cacheSize: 0 });
  trie.insert('a', 1, 0);
  const x = trie.match('b');
  assert.equal(x.length, 0);
  assert.equal(trie.match('c/d'), x);
});

test('an inserted wildcard patches cached topics, a literal only its own', () => {
  const trie = new TopicTrie();
  trie.insert('a/b', 1, 0);
  trie.match('a/b');
  trie.match('a/c');
  trie.match('z');
  const cached = trie.cacheSize;
  trie.insert('a/+', 2, 0);
  assert.equal(trie.cacheSize, cached, 'patched, not dropped');
  assert.deepEqual(pairsOf(trie.match('a/b')), [
    [1, 0],
    [2, 0],
  ]);
  assert.deepEqual(Array.from(trie.match('a/c')), [2, 0]);
  assert.equal(trie.match('z').length, 0);
  trie.insert('z', 3, 0);
  assert.deepEqual(Array.from(trie.match('z')), [3, 0]);
});

test('removeAll leaves the cache on and empty', () => {
  const trie = new TopicTrie();
  trie.insert('a/+', 1, 0);
  trie.insert('a/b', 1, 0);
  trie.insert('a/b', 2, 0);
  trie.match('a/b');
  assert.equal(
    trie.removeAll([
      ['a/+', 1],
      ['a/b', 1],
      ['nope', 1],
    ]),
    2,
  );
  assert.equal(trie.cacheSize, 0);
  assert.deepEqual(Array.from(trie.match('a/b')), [2, 0]);
  assert.equal(trie.cacheSize, 1);
});

test('a negative cacheSize is refused', () => {
  assert.throws(() => new TopicTrie({ cacheSize: -1 }), RangeError);
});

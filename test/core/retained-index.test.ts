import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RetainedIndex } from '../../src/core/retained-index.js';
import { filterMatches } from '../../src/core/topic.js';

const topicArb = fc
  .array(fc.constantFrom('a', 'b', '', '$s'), { minLength: 1, maxLength: 4 })
  .map((ls) => ls.join('/'))
  .filter((t) => t.length > 0);

const filterArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '+', '$s'), { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([ls, hash]) => (hash ? [...ls, '#'] : ls).join('/'))
  .filter((f) => f.length > 0);

type Op = { op: 'set'; topic: string; value: number } | { op: 'delete'; topic: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), topic: topicArb, value: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), topic: topicArb }) },
);

function searchAll(index: RetainedIndex<number>, filter: string): Array<[string, number]> {
  const seen: Array<[string, number]> = [];
  index.search(filter, (topic, value) => seen.push([topic, value]));
  return seen.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

function bruteForce(model: Map<string, number>, filter: string): Array<[string, number]> {
  return [...model].filter(([topic]) => filterMatches(filter, topic)).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

test('differential: search visits exactly the topics filterMatches accepts, after every step', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40, size: 'max' }), fc.array(filterArb, { minLength: 1, maxLength: 8 }), (ops, filters) => {
      const index = new RetainedIndex<number>();
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.op === 'set') {
          index.set(o.topic, o.value);
          model.set(o.topic, o.value);
        } else {
          assert.equal(index.delete(o.topic), model.delete(o.topic));
        }
        assert.equal(index.size, model.size);
        for (const f of filters) assert.deepEqual(searchAll(index, f), bruteForce(model, f), `filter ${f}`);
        for (const t of model.keys()) assert.equal(index.get(t), model.get(t));
        const entries = [...index.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
        assert.deepEqual(
          entries,
          bruteForce(model, '#')
            .concat(bruteForce(model, '$s/#'))
            .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)),
        );
      }
    }),
    { numRuns: 300 },
  );
});

test('named spec cases', () => {
  const index = new RetainedIndex<string>();
  for (const t of ['sport', 'sport/tennis', 'sport/tennis/p1', '/finance', '$SYS', '$SYS/broker/load', 'a//b', 'a/']) {
    index.set(t, `v:${t}`);
  }
  const topics = (filter: string): string[] => {
    const out: string[] = [];
    index.search(filter, (topic, value) => {
      assert.equal(value, `v:${topic}`);
      out.push(topic);
    });
    return out.sort();
  };
  assert.deepEqual(topics('sport/#'), ['sport', 'sport/tennis', 'sport/tennis/p1']);
  assert.deepEqual(topics('+/+'), ['/finance', 'a/', 'sport/tennis']);
  assert.deepEqual(topics('+'), ['sport']);
  assert.deepEqual(topics('$SYS/#'), ['$SYS', '$SYS/broker/load']);
  assert.deepEqual(topics('#'), ['/finance', 'a/', 'a//b', 'sport', 'sport/tennis', 'sport/tennis/p1']);
  assert.deepEqual(topics('a/+/b'), ['a//b']);
  assert.deepEqual(topics('a/+'), ['a/']);
  assert.deepEqual(topics('sport/tennis/p1/#'), ['sport/tennis/p1']);
  assert.deepEqual(topics('nothing/#'), []);
});

test('set replaces, get and has report, delete removes once', () => {
  const index = new RetainedIndex<string | undefined>();
  index.set('a/b', 'one');
  index.set('a/b', 'two');
  assert.equal(index.size, 1);
  assert.equal(index.get('a/b'), 'two');
  assert.equal(index.get('a'), undefined);
  assert.equal(index.has('a'), false);
  index.set('a', undefined);
  assert.equal(index.has('a'), true);
  assert.equal(index.size, 2);
  assert.equal(index.delete('a/b'), true);
  assert.equal(index.delete('a/b'), false);
  assert.equal(index.get('a/b'), undefined);
  // Deleting a leaf must not take its still-retained parent with it.
  assert.equal(index.has('a'), true);
  index.clear();
  assert.equal(index.size, 0);
  assert.deepEqual([...index.entries()], []);
});

test('deleting a parent keeps its retained children reachable', () => {
  const index = new RetainedIndex<number>();
  index.set('a', 1);
  index.set('a/b/c', 2);
  assert.equal(index.delete('a'), true);
  assert.deepEqual([...index.entries()], [['a/b/c', 2]]);
  assert.equal(index.delete('a/b/c'), true);
  index.set('a/b', 3);
  assert.deepEqual([...index.entries()], [['a/b', 3]]);
});

test('very deep topics do not overflow the stack', () => {
  const index = new RetainedIndex<number>();
  const deep = Array.from({ length: 50000 }, (_, i) => `l${i % 3}`).join('/');
  index.set(deep, 1);
  let hits = 0;
  index.search('#', () => hits++);
  index.search(deep, () => hits++);
  index.search('l0/#', () => hits++);
  assert.equal(hits, 3);
  assert.equal(index.delete(deep), true);
  assert.equal(index.size, 0);
});

test('copes with a million topics', () => {
  const index = new RetainedIndex<number>();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) index.set(`fleet/r${i % 16}/v${i}/telemetry`, i);
  assert.equal(index.size, n);
  let hits = 0;
  index.search('fleet/r3/+/telemetry', (_topic, value) => {
    assert.equal(value % 16, 3);
    hits++;
  });
  assert.equal(hits, n / 16);
  assert.equal(index.get('fleet/r15/v999999/telemetry'), 999999);
  let exact = 0;
  index.search('fleet/r15/v999999/telemetry', () => exact++);
  index.search('fleet/r7/v999999/telemetry', () => exact++);
  assert.equal(exact, 1);
});

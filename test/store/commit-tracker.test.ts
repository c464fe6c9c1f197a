/**
 * The commit tracker with hand-driven transactions: a failed transaction fails exactly the
 * batches whose writes it held, the others settle on the flush, and callbacks keep their order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitTracker } from '../../src/store/commit-tracker.js';
import { StoreFullError } from '../../src/store/errors.js';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A tracker whose flush is a promise the test resolves; records every callback as [arg, failure kind]. */
function tracker(): { t: CommitTracker; flush: () => Deferred; calls: Array<[string, string | null]>; turn: () => Promise<void> } {
  let flush = deferred();
  const t = new CommitTracker({
    flushed: () => flush.promise,
    failed: () => new StoreFullError('disk said no', 'disk'),
    committed: () => {},
    onError: (error) => {
      throw error;
    },
  });
  const calls: Array<[string, string | null]> = [];
  return {
    t,
    calls,
    flush: () => {
      const current = flush;
      flush = deferred();
      return current;
    },
    turn: () => new Promise((resolve) => setImmediate(resolve)),
  };
}

test('a failed transaction fails the batch that waited on it, not the batch before or after; order holds', async () => {
  const { t, flush, calls, turn } = tracker();
  const record = (name: string) => (arg: string, failure: StoreFullError | null) => {
    assert.equal(arg, name);
    calls.push([name, failure === null ? null : failure.kind]);
  };
  // Turn 1: a write in transaction A, a callback.
  const a = deferred();
  t.wrote(a.promise);
  t.add(record('first'), 'first');
  await turn();
  const flushA = flush();
  // Turn 2: two writes in transaction B (one promise), a callback.
  const b = deferred();
  t.wrote(b.promise);
  t.wrote(b.promise);
  t.add(record('second'), 'second');
  await turn();
  flush();
  // Turn 3: a write in transaction C, a callback.
  const c = deferred();
  t.wrote(c.promise);
  t.add(record('third'), 'third');
  await turn();
  const flushC = flush();

  b.reject(new Error('Commit failed'));
  await turn();
  assert.deepEqual(calls, [], 'the failed batch waits behind the first one');
  a.resolve();
  flushA.resolve();
  await turn();
  assert.deepEqual(calls, [
    ['first', null],
    ['second', 'disk'],
  ]);
  c.resolve();
  flushC.resolve();
  await turn();
  assert.deepEqual(calls.at(-1), ['third', null]);
});

test('a write refused before reaching LMDB fails the batch of its turn only', async () => {
  const { t, flush, calls, turn } = tracker();
  const cb = (name: string) => (_: undefined, failure: StoreFullError | null) => calls.push([name, failure?.kind ?? null]);
  t.refused(new StoreFullError('at --max-store-size', 'limit'));
  t.add(cb('refused'), undefined);
  await turn();
  const w = deferred();
  t.wrote(w.promise);
  t.add(cb('next'), undefined);
  await turn();
  w.resolve();
  flush().resolve();
  await turn();
  assert.deepEqual(calls, [
    ['refused', 'limit'],
    ['next', null],
  ]);
});

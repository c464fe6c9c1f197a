/**
 * The C heap is trimmed once per connect storm, after accepting has been quiet: not during the
 * storm, not for a trickle of reconnects, and once more only after another storm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeapTrim } from '../../src/transports/heap-trim.js';
import { loadNative } from '../../src/native/binding.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a storm is trimmed once, after accepting stayed quiet; a trickle never is', async (t) => {
  let calls = 0;
  // A storm is 60 accepts here, quiet 1 s (long beside the 25 ms between accepts, even on a busy machine).
  const trim = new HeapTrim(() => ++calls > 0, 60, 1000);
  t.after(() => trim.stop());
  // A trickle below the storm's size: nothing.
  trim.accepts(40);
  await sleep(1100);
  assert.equal(calls, 0, 'fewer accepts than a storm: no trim');
  // The storm goes on past the quiet period: no trim while it lasts.
  for (let i = 0; i < 48; i++) {
    trim.accepts(30);
    await sleep(25);
  }
  assert.equal(calls, 0, 'no trim while accepts keep coming');
  // The check runs every quiet period: the trim comes one to two of them after the last accept (here up to 2 s; 3.2 s leaves room for a slow machine).
  await sleep(3200);
  assert.equal(calls, 1, 'one trim once the storm is over');
  await sleep(1100);
  assert.equal(calls, 1, 'and no more while nothing happens');
  // The count started again: a second storm gets its own trim.
  trim.accepts(100);
  await sleep(3200);
  assert.equal(calls, 2);
  assert.equal(trim.trims, 2);
});

test('the native module trims the C heap (glibc malloc_trim)', () => {
  const native = loadNative('on')!;
  assert.equal(typeof native.trimHeap, 'function');
  assert.equal(native.trimHeap!(), true);
});

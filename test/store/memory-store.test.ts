import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory-store.js';
import { createStore } from '../../src/store/index.js';
import { bareMessage, storeConformance } from './conformance.js';

storeConformance(
  'memory',
  async () => {
    const errors: unknown[] = [];
    const store = new MemoryStore({ onError: (error) => errors.push(error) });
    return {
      store,
      errors,
      reopen: () => Promise.reject(new Error('the memory store does not persist')),
      cleanup: () => store.close(),
    };
  },
  false,
);

test('memory: createStore("memory") gives a working memory store', async () => {
  const store = createStore('memory', '/nonexistent');
  assert.ok(store instanceof MemoryStore);
  await store.open();
  store.putRetained(bareMessage('t', 'x'));
  assert.deepEqual([...store.loadRetained()], [bareMessage('t', 'x')]);
  await store.close();
});

test('memory: writes after close throw', async () => {
  const store = new MemoryStore();
  await store.open();
  await store.close();
  assert.throws(() => store.putIncoming('c', 1), /closed/);
});

/**
 * What the outbox stands on: the messageForward hook makes the publisher's acknowledgement wait
 * for the store commit when a listener stored the message (publish and point-to-point alike),
 * and a module's table in the LMDB store keeps its records across a reopen, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Message } from '../../src/core/message.js';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { memoryKit } from '../gateway/memory-kit.js';

const msg = (topic: string) => new Message(topic, Buffer.from('x'), 1, false, null, 0, 'c1');

test('a messageForward listener that stored the message makes the publish "stored"; several listeners: any', async () => {
  const { broker: b } = await memoryKit();
  assert.equal(b.hooks.messageForward, null, 'no listener, no slot');
  assert.equal(b.publish(msg('a')).stored, false);
  const offNo = b.hooks.on('messageForward', () => false);
  assert.equal(b.publish(msg('a')).stored, false);
  assert.equal(b.publishTo('nobody', msg('a')).stored, false);
  const seen: string[] = [];
  const offYes = b.hooks.on('messageForward', (m) => {
    seen.push(m.topic);
    return m.topic === 'kept';
  });
  assert.equal(b.publish(msg('kept')).stored, true);
  assert.equal(b.publishTo('nobody', msg('kept')).stored, true, 'point-to-point messages are forwarded too');
  assert.equal(b.publish(msg('other')).stored, false);
  assert.deepEqual(seen, ['kept', 'kept', 'other']);
  offNo();
  offYes();
  assert.equal(b.hooks.messageForward, null);
  await b.stop();
});

test('a table in the LMDB store keeps its records across a reopen, per group in sequence order', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-table-'));
  try {
    const store = new LmdbStore(dir);
    await store.open();
    const table = store.table<{ value: Buffer; to: string }>('outbox-test');
    table.put('b1', 2, { value: Buffer.from('two'), to: 'x' });
    table.put('b1', 1, { value: Buffer.from('one'), to: 'x' });
    table.put('b1', 10, { value: Buffer.from('ten'), to: 'x' });
    table.put('b2', 1, { value: Buffer.from('other'), to: 'y' });
    table.remove('b1', 2);
    await new Promise<void>((resolve) => store.afterCommit(resolve, undefined));
    await store.close();

    const again = new LmdbStore(dir);
    await again.open();
    const rows = again.table<{ value: Uint8Array; to: string }>('outbox-test').load('b1');
    assert.deepEqual(
      rows.map((r) => [r.seq, Buffer.from(r.value.value).toString()]),
      [
        [1, 'one'],
        [10, 'ten'],
      ],
    );
    assert.equal(again.table('outbox-test').load('b2').length, 1);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

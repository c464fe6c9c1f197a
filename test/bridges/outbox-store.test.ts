/**
 * What the outbox stands on: the messageForward hook makes the publisher's acknowledgement wait
 * for the store commit when a listener stored the message (publish and point-to-point alike),
 * and a module's table in the LMDB store keeps its records across a reopen, in order; a write
 * gathered for the end of a turn (beforeCommit) is in the commit its acknowledgements wait for;
 * the outbox keeps one row per turn and gives back, after a reopen, only what was not acknowledged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OutRecord } from '../../src/bridges/backend.js';
import { Outbox, type OutboxRow } from '../../src/bridges/outbox.js';
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

test("a beforeCommit write joins the commit that the same turn's afterCommit callbacks wait for, even when they were registered first", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-table-'));
  try {
    const store = new LmdbStore(dir);
    await store.open();
    const table = store.table<string>('outbox-test');
    // Loads read committed data only: the callback sees the row only if its commit held it.
    const seen = new Promise<number>((resolve) => store.afterCommit(() => resolve(table.load('g').length), undefined));
    store.beforeCommit(() => table.put('g', 1, 'written at the end of the turn'));
    assert.equal(await seen, 1);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the outbox keeps a turn in one row and, after a reopen, gives back what was not acknowledged, in order', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-outbox-'));
  const rec = (v: string): OutRecord => ({ to: 't', key: null, value: Buffer.from(v), headers: null, at: 0, rule: 0 });
  try {
    const store = new LmdbStore(dir);
    await store.open();
    const outbox = new Outbox(store.table<OutboxRow>('bridge-outbox'), (fn) => store.beforeCommit(fn), 'b');
    outbox.restore();
    const seqs = ['a', 'b', 'c'].map((v) => outbox.add(rec(v)));
    await store.flush();
    const more = ['d', 'e'].map((v) => outbox.add(rec(v)));
    await store.flush();
    assert.deepEqual([...seqs, ...more], [1, 2, 3, 4, 5]);
    assert.equal(store.table('bridge-outbox').load('b').length, 2, 'one row per turn');
    outbox.acknowledge(2);
    await store.flush();
    await store.close();

    const again = new LmdbStore(dir);
    await again.open();
    const reopened = new Outbox(again.table<OutboxRow>('bridge-outbox'), (fn) => again.beforeCommit(fn), 'b');
    const rows = reopened.restore();
    assert.deepEqual(
      rows.map((r) => [r.seq, r.record.value.toString()]),
      [
        [3, 'c'],
        [4, 'd'],
        [5, 'e'],
      ],
      'the acknowledged part of a row is not sent again',
    );
    assert.ok(Buffer.isBuffer(rows[0]!.record.value));
    assert.equal(reopened.add(rec('f')), 6, 'sequence numbers continue');
    reopened.acknowledge(6);
    await again.flush();
    assert.deepEqual(
      again
        .table<OutboxRow>('bridge-outbox')
        .load('b')
        .map((r) => r.seq),
      [0],
      'rows wholly acknowledged are removed; the watermark stays',
    );
    await again.close();

    const third = new LmdbStore(dir);
    await third.open();
    const last = new Outbox(third.table<OutboxRow>('bridge-outbox'), (fn) => third.beforeCommit(fn), 'b');
    assert.deepEqual(last.restore(), []);
    assert.equal(last.add(rec('g')), 7, 'a new record never takes a number below the watermark');
    await third.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

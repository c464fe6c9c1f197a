/**
 * The worker task on its own: batches resume exactly after their last key, cover every matching
 * topic once, skip expired and too-large messages, read only the filter's key range, and encode
 * each message byte for byte as the connection's OutboundEncoder would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import type { StoredMessage } from '../../src/store/types.js';
import { checksummed } from '../../src/store/record-codec.js';
import { encodeRetained, literalPrefix, readBatch } from '../../src/workers/retained-task.js';
import type { WireBatchRequest } from '../../src/core/retained-bulk.js';
import { OutboundEncoder } from '../../src/protocols/mqtt/outbound.js';
import { Message } from '../../src/core/message.js';
import { filterMatches } from '../../src/core/topic.js';
import { publishAt } from '../../src/protocols/mqtt/bulk-target.js';

const NOW = 1_700_000_000_000;

function stored(topic: string, payload: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { topic, payload: Buffer.from(payload), qos: 1, retain: true, expiresAt: 0, properties: null, origin: null, ...extra };
}

async function withStore(messages: StoredMessage[], fn: (read: (req: Partial<WireBatchRequest>) => ReturnType<typeof readBatch>) => void): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-task-'));
  try {
    const store = new LmdbStore(dir);
    await store.open();
    for (const m of messages) store.putRetained(m);
    await store.close();
    const root = open(dir, { noSubdir: false, maxDbs: 8, readOnly: true });
    const db = root.openDB<StoredMessage, string>(checksummed({ name: 'retained', sharedStructuresKey: Symbol.for('junction.structures') }));
    fn((req) => readBatch(db, { filter: '#', after: null, maxBytes: 1 << 20, version: 4, maxPacketSize: 0, subscriptionId: 0, now: NOW, ...req }));
    await root.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function topicsOf(data: Uint8Array): string[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: string[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const { end, topic } = publishAt(buf, pos);
    out.push(topic);
    pos = end;
  }
  return out;
}

test('small batches resume after their last key and together hold every matching topic exactly once', async () => {
  const all: StoredMessage[] = [];
  for (let i = 0; i < 500; i++) all.push(stored(`fleet/r${i % 5}/v${i}/status`, `p${i}`));
  all.push(stored('fleet', 'parent'), stored('fleetx/a', 'other'), stored('$SYS/x', 'sys'), stored('other/r1/v1/status', 'x'));
  await withStore(all, (read) => {
    for (const filter of ['#', 'fleet/#', 'fleet/+/+/status', 'fleet/r3/#', '+/r1/+/status']) {
      const got: string[] = [];
      let after: string | null = null;
      let batches = 0;
      for (;;) {
        const batch = read({ filter, after, maxBytes: 300 });
        const topics = topicsOf(batch.data);
        assert.equal(topics.length, batch.count);
        got.push(...topics);
        batches++;
        if (batch.done) break;
        after = batch.last;
      }
      const expected = all
        .map((m) => m.topic)
        .filter((t) => filterMatches(filter, t))
        .sort();
      assert.deepEqual([...got].sort(), expected, filter);
      assert.equal(new Set(got).size, got.length, `${filter}: no topic twice`);
      if (expected.length > 50) assert.ok(batches > 1, `${filter} spread over several batches`);
    }
  });
});

test('expired and too-large messages are skipped and counted', async () => {
  await withStore([stored('a/1', 'ok'), stored('a/2', 'old', { expiresAt: NOW - 1 }), stored('a/3', 'x'.repeat(500)), stored('a/4', 'later', { expiresAt: NOW + 5000 })], (read) => {
    const batch = read({ filter: 'a/+', maxPacketSize: 100 });
    assert.deepEqual(topicsOf(batch.data), ['a/1', 'a/4']);
    assert.equal(batch.expired, 1);
    assert.equal(batch.tooLarge, 1);
    assert.equal(batch.done, true);
  });
});

test('the literal levels before the first wildcard bound the key range', () => {
  assert.equal(literalPrefix('#'), '');
  assert.equal(literalPrefix('+/a'), '');
  assert.equal(literalPrefix('fleet/eu/+/status'), 'fleet/eu');
  assert.equal(literalPrefix('fleet/#'), 'fleet');
});

test('each packet is byte for byte what the OutboundEncoder sends a QoS 0 subscriber (3.1.1 and 5.0)', () => {
  const props = { contentType: 'application/json', userProperties: [{ key: 'k', value: 'v' }], correlationData: Buffer.from([1, 2]) };
  const cases: StoredMessage[] = [stored('t/plain', 'hello'), stored('t/props', '{"a":1}', { properties: props }), stored('t/expiry', 'soon', { expiresAt: NOW + 12_345 })];
  for (const version of [4, 5] as const) {
    for (const subscriptionId of version === 5 ? [0, 42] : [0]) {
      for (const m of cases) {
        const enc = new OutboundEncoder({ version, clientMaxPacketSize: 0 });
        const msg = new Message(m.topic, m.payload, m.qos, true, m.properties, m.expiresAt, null);
        // OutboundEncoder counts expiry down from Date.now(): give the worker the same clock.
        const now = Date.now();
        const msgNow = new Message(m.topic, m.payload, m.qos, true, m.properties, m.expiresAt === 0 ? 0 : now + 12_345, null);
        const expected = enc.publish(m.expiresAt === 0 ? msg : msgNow, 0, true, 0, false, subscriptionId > 0 ? [subscriptionId] : null);
        const got = encodeRetained({ ...m, expiresAt: msgNow.expiresAt }, version, subscriptionId, now);
        assert.deepEqual(got, expected, `${m.topic} v${version} subId ${subscriptionId}`);
      }
    }
  }
});

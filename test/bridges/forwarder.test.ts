/**
 * The forwarder against a backend the test answers by hand: what counts as waiting when a send
 * is in flight (the drop limits), and that the outbox holds a record until its batch is
 * acknowledged, whatever the backend does meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BridgeBackend, OutRecord } from '../../src/bridges/backend.js';
import { parseBridgeConfig } from '../../src/bridges/config.js';
import { Forwarder } from '../../src/bridges/forwarder.js';
import { Outbox, type OutboxRow } from '../../src/bridges/outbox.js';
import { BACKENDS } from '../../src/bridges/registry.js';
import { Message } from '../../src/core/message.js';
import { Logger, LogRateLimit } from '../../src/log/logger.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/** A backend whose sends wait until the test settles them, in the order they were made. */
class HeldBackend implements BridgeBackend {
  constructor(readonly pipelineDepth = 1) {}
  readonly sends: Array<{ records: readonly OutRecord[]; ok: () => void; fail: (err: Error) => void }> = [];
  async connect(): Promise<void> {}
  send(records: readonly OutRecord[]): Promise<void> {
    return new Promise((ok, fail) => this.sends.push({ records, ok, fail }));
  }
  async consume(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Until the forwarder's next pump ran: the answers settle in microtasks, the pump follows in the next check phase. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

function forwarderFor(backend: HeldBackend, limits: { outboxMax: number; qos0Buffer: number }, batchSize = 500, store = new MemoryStore()) {
  const [config] = parseBridgeConfig(
    {
      bridges: [
        {
          name: 'held',
          type: 'kafka',
          brokers: ['127.0.0.1:1'],
          batchSize,
          forward: [
            { from: 'fleet/+', to: 't' },
            { from: 'chatter/+', to: 't' },
          ],
        },
      ],
    },
    BACKENDS,
  );
  const lines: Array<Record<string, unknown>> = [];
  const log = new Logger({ level: 'warn', destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
  const outbox = new Outbox(store.table<OutboxRow>('outbox'), (fn) => store.beforeCommit(fn), 'held');
  const forwarder = new Forwarder(config!, backend, outbox, { ...limits, retryMaxMs: 1000 }, () => '', log, new LogRateLimit(100));
  /** The payloads a restart would find in the outbox. */
  const restored = (): string[] => new Outbox(store.table<OutboxRow>('outbox'), (fn) => store.beforeCommit(fn), 'held').restore().map((r) => r.record.value.toString());
  return { forwarder, restored, lines };
}

const qos = (topic: string, payload: string, q: 0 | 1) => new Message(topic, Buffer.from(payload), q, false, null, 0, 'c');

test('the drop limits count the records of a batch in flight: a send to an absent backend makes no room', async () => {
  const backend = new HeldBackend();
  const { forwarder, restored, lines } = forwarderFor(backend, { outboxMax: 20, qos0Buffer: 23 });
  forwarder.start();
  // The first message leaves at once and hangs in flight; the rest queue behind it.
  assert.equal(forwarder.offer(qos('fleet/c', '0', 1)), true);
  await turn();
  assert.equal(backend.sends.length, 1, 'one batch in flight');
  for (let i = 1; i < 25; i++) forwarder.offer(qos('fleet/c', String(i), 1));
  for (let i = 0; i < 5; i++) forwarder.offer(qos('chatter/x', `q0-${i}`, 0));
  const [fleet, chatter] = forwarder.stats.map((s) => s.snapshot());
  assert.equal(fleet!['dropped'], 5, 'QoS 1 past --bridge-outbox-max 20 dropped');
  assert.equal(fleet!['buffered'], 20);
  assert.equal(chatter!['buffered'], 3, 'QoS 0 kept while fewer than 23 records waited, the one in flight included');
  assert.equal(chatter!['dropped'], 2);
  assert.equal(forwarder.buffered, 23);
  assert.ok(lines.some((l) => l['msg'] === 'bridge behind: QoS 0 message dropped (--bridge-qos0-buffer)' && l['buffered'] === 23));
  await turn();
  assert.deepEqual(
    restored(),
    Array.from({ length: 20 }, (_, i) => String(i)),
    'the outbox holds the 20 QoS 1 records, the one in flight too',
  );
  forwarder.stop();
});

const values = (records: readonly OutRecord[]): string[] => records.map((r) => r.value.toString());

test('batches posted ahead: an acknowledged one leaves the outbox; after a failure everything is sent again in order, the failed batch first', async () => {
  const backend = new HeldBackend(2);
  const { forwarder, restored } = forwarderFor(backend, { outboxMax: 100, qos0Buffer: 100 }, 2);
  forwarder.start();
  for (let i = 0; i < 6; i++) forwarder.offer(qos('fleet/c', String(i), 1));
  await turn();
  assert.deepEqual(
    backend.sends.map((s) => values(s.records)),
    [
      ['0', '1'],
      ['2', '3'],
    ],
    'two batches outstanding, no more',
  );
  backend.sends[0]!.ok();
  await turn();
  assert.deepEqual(restored(), ['2', '3', '4', '5'], 'the acknowledged batch left the outbox');
  assert.deepEqual(values(backend.sends[2]!.records), ['4', '5'], 'the next batch posted at once');
  // Kafka away: the oldest outstanding batch fails; the backend answers the later one "not sent".
  backend.sends[1]!.fail(new Error('unreachable'));
  await turn();
  assert.equal(backend.sends.length, 3, 'nothing new while a later batch is outstanding');
  backend.sends[2]!.fail(new Error('not sent: an earlier batch failed'));
  assert.equal(forwarder.buffered, 4);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(
    backend.sends.slice(3).map((s) => values(s.records)),
    [
      ['2', '3'],
      ['4', '5'],
    ],
    'after the retry wait, in the order they were accepted',
  );
  backend.sends[3]!.ok();
  backend.sends[4]!.ok();
  await turn();
  assert.deepEqual(restored(), []);
  assert.equal(forwarder.stats[0]!.snapshot()['forwarded'], 6);
  forwarder.stop();
});

test('records a previous run kept for a forward rule since removed still go to their target, counted apart', async () => {
  const store = new MemoryStore();
  const before = new Outbox(store.table<OutboxRow>('outbox'), (fn) => store.beforeCommit(fn), 'held');
  before.restore();
  for (const v of ['old-1', 'old-2']) before.add({ to: 'retired-topic', key: null, value: Buffer.from(v), headers: null, at: Date.now(), rule: 7 });
  await turn();
  const backend = new HeldBackend();
  const { forwarder, restored } = forwarderFor(backend, { outboxMax: 100, qos0Buffer: 100 }, 500, store);
  assert.equal(forwarder.restore(), 2);
  assert.equal(forwarder.retired.buffered, 2);
  forwarder.start();
  await turn();
  assert.deepEqual(
    backend.sends[0]!.records.map((r) => `${r.to} ${r.value.toString()}`),
    ['retired-topic old-1', 'retired-topic old-2'],
  );
  backend.sends[0]!.ok();
  await turn();
  assert.equal(forwarder.retired.forwarded, 2);
  assert.deepEqual(restored(), [], 'acknowledged: gone from the outbox');
  forwarder.stop();
});

/**
 * Store throughput: putQueued + afterCommit with 1, 100 and 1000 records issued per event-loop
 * turn, memory and LMDB; plus the value encoding question for a 64-byte-payload queued record:
 * lmdb-js's default msgpack against a compact hand-written codec.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { Bench } from 'tinybench';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { QueuedState, type QueuedRecord, type Store } from '../../src/store/types.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

parseToolArgs(microSpec('store'));

function record(seq: number): QueuedRecord {
  return {
    seq,
    state: QueuedState.Queued,
    packetId: 0,
    qos: 1,
    retain: false,
    subscriptionIds: null,
    message: {
      topic: 'vehicles/京A12345/telemetry',
      payload: Buffer.alloc(64, seq & 0xff),
      qos: 1,
      retain: false,
      expiresAt: 0,
      properties: null,
      origin: 'device-0001',
    },
  };
}

/** Issues `batch` records per turn until `total` are acknowledged; returns records/s. */
async function throughput(store: Store, batch: number, total: number): Promise<number> {
  let acked = 0;
  let issued = 0;
  const ack = (): void => {
    acked++;
  };
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      for (let i = 0; i < batch && issued < total; i++) {
        issued++;
        store.putQueued('bench', record(issued));
        store.afterCommit(ack, null);
      }
      if (issued < total) setImmediate(turn);
      else store.afterCommit(resolve, undefined);
    };
    turn();
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (acked !== total) throw new Error(`acknowledged ${acked} of ${total}`);
  return total / seconds;
}

// --- the compact codec candidate (QueuedRecord with properties null, as measured) ---

function encodeCompact(r: QueuedRecord): Buffer {
  const m = r.message;
  const topicLen = Buffer.byteLength(m.topic);
  const originLen = m.origin === null ? 0 : Buffer.byteLength(m.origin);
  const ids = r.subscriptionIds;
  const size = 8 + 1 + 2 + 1 + 1 + 2 + (ids === null ? 0 : ids.length * 4) + 2 + topicLen + 4 + m.payload.length + 1 + 1 + 8 + 2 + originLen;
  const b = Buffer.allocUnsafe(size);
  let o = b.writeDoubleLE(r.seq, 0);
  o = b.writeUInt8(r.state, o);
  o = b.writeUInt16LE(r.packetId, o);
  o = b.writeUInt8(r.qos, o);
  o = b.writeUInt8(r.retain ? 1 : 0, o);
  o = b.writeUInt16LE(ids === null ? 0xffff : ids.length, o);
  if (ids !== null) for (const id of ids) o = b.writeUInt32LE(id, o);
  o = b.writeUInt16LE(topicLen, o);
  o += b.write(m.topic, o);
  o = b.writeUInt32LE(m.payload.length, o);
  b.set(m.payload, o);
  o += m.payload.length;
  o = b.writeUInt8(m.qos, o);
  o = b.writeUInt8(m.retain ? 1 : 0, o);
  o = b.writeDoubleLE(m.expiresAt, o);
  o = b.writeUInt16LE(m.origin === null ? 0xffff : originLen, o);
  if (m.origin !== null) b.write(m.origin, o);
  return b;
}

function decodeCompact(b: Buffer): QueuedRecord {
  const seq = b.readDoubleLE(0);
  const state = b.readUInt8(8) as QueuedState;
  const packetId = b.readUInt16LE(9);
  const qos = b.readUInt8(11) as 0 | 1 | 2;
  const retain = b.readUInt8(12) === 1;
  const n = b.readUInt16LE(13);
  let o = 15;
  let subscriptionIds: number[] | null = null;
  if (n !== 0xffff) {
    subscriptionIds = [];
    for (let i = 0; i < n; i++, o += 4) subscriptionIds.push(b.readUInt32LE(o));
  }
  const topicLen = b.readUInt16LE(o);
  const topic = b.toString('utf8', o + 2, o + 2 + topicLen);
  o += 2 + topicLen;
  const payloadLen = b.readUInt32LE(o);
  const payload = Buffer.allocUnsafe(payloadLen);
  payload.set(b.subarray(o + 4, o + 4 + payloadLen));
  o += 4 + payloadLen;
  const mqos = b.readUInt8(o) as 0 | 1 | 2;
  const mretain = b.readUInt8(o + 1) === 1;
  const expiresAt = b.readDoubleLE(o + 2);
  const originLen = b.readUInt16LE(o + 10);
  const origin = originLen === 0xffff ? null : b.toString('utf8', o + 12, o + 12 + originLen);
  return {
    seq,
    state,
    packetId,
    qos,
    retain,
    subscriptionIds,
    message: { topic, payload, qos: mqos, retain: mretain, expiresAt, properties: null, origin },
  };
}

interface Codec {
  encode(value: unknown): Buffer;
  decode(buffer: Buffer): unknown;
}

async function encodingBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'junction-bench-codec-'));
  const db = open(dir, { noSubdir: false });
  const msgpack = db as unknown as { encoder: Codec; decoder: Codec };
  // The same msgpack with shared structures (msgpackr records), stored under a symbol key.
  const structured = db.openDB({ name: 'structured', sharedStructuresKey: Symbol.for('structures') }) as unknown as {
    encoder: Codec;
    decoder: Codec;
  };
  const packedStructured = structured.encoder.encode(record(1));
  const r = record(123456);
  const packed = msgpack.encoder.encode(r);
  const compact = encodeCompact(r);
  const bench = new Bench({ name: 'queued record codec', time: 500 });
  bench
    .add(`msgpack encode (${packed.length} B)`, () => {
      msgpack.encoder.encode(r);
    })
    .add('msgpack decode', () => {
      msgpack.decoder.decode(packed);
    })
    .add(`msgpack+structures encode (${packedStructured.length} B)`, () => {
      structured.encoder.encode(r);
    })
    .add('msgpack+structures decode', () => {
      structured.decoder.decode(packedStructured);
    })
    .add(`compact encode (${compact.length} B)`, () => {
      encodeCompact(r);
    })
    .add('compact decode', () => {
      decodeCompact(compact);
    });
  await bench.run();
  console.log('\nValue encoding of one queued record (64-byte payload)');
  console.table(
    bench.tasks.map((t) => {
      const result = t.result as unknown as { throughput?: { mean: number }; latency?: { mean: number } };
      return {
        task: t.name,
        'ops/s': Math.round(result.throughput?.mean ?? 0),
        'ns/op': Math.round((result.latency?.mean ?? 0) * 1e6),
      };
    }),
  );
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await encodingBench();
  const rows: Array<Record<string, string | number>> = [];
  for (const batch of [1, 100, 1000]) {
    const total = batch === 1 ? 5_000 : 100_000;
    const memory = new MemoryStore();
    await memory.open();
    const memRate = await throughput(memory, batch, total);
    await memory.close();
    const dir = mkdtempSync(join(tmpdir(), 'junction-bench-store-'));
    const lmdb = new LmdbStore(dir);
    await lmdb.open();
    const lmdbRate = await throughput(lmdb, batch, total);
    await lmdb.close();
    rmSync(dir, { recursive: true, force: true });
    rows.push({ 'records/turn': batch, records: total, 'memory records/s': Math.round(memRate), 'lmdb records/s': Math.round(lmdbRate) });
  }
  console.log('\nputQueued + afterCommit throughput (each turn issues a batch; acked after fsync for LMDB)');
  console.table(rows);
}

await main();

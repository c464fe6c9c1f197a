/** The record frame on its own: round trips, every kind of damage reads as a CorruptRecord, format 0 still decodes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { Encoder } from 'msgpackr';
import { type CorruptRecord, checksummed, isCorrupt } from '../../src/store/record-codec.js';

type Codec = { encode(value: unknown): Buffer; decode(bytes: Uint8Array, end?: number): unknown };
const ChecksumEncoder = (checksummed({}) as unknown as { encoder: { Encoder: new (o: object) => Codec } }).encoder.Encoder;

for (const size of [10, 255, 256, 20_000]) {
  test(`a ${size}-byte payload round-trips; one flipped bit anywhere in it is a checksum mismatch`, () => {
    const codec = new ChecksumEncoder({ copyBuffers: true });
    const value = { topic: 't', payload: Buffer.alloc(size, 0x5a) };
    const bytes = Buffer.from(codec.encode(value));
    assert.equal(bytes[0], 0xc1);
    assert.equal(bytes[1], 1);
    assert.equal(bytes.readUInt32LE(2), crc32(bytes.subarray(6)), 'the stored checksum is zlib CRC-32 of the msgpack bytes');
    assert.deepEqual(codec.decode(bytes), value);
    for (const at of [6, 6 + Math.floor((bytes.length - 6) / 2), bytes.length - 1]) {
      const damaged = Buffer.from(bytes);
      damaged[at]! ^= 0x01;
      const out = codec.decode(damaged);
      assert.ok(isCorrupt(out), `flipped byte ${at} is noticed`);
      assert.equal((out as CorruptRecord).problem, 'checksum mismatch');
    }
  });
}

test('an unknown frame version and a cut frame read as damaged, naming why', () => {
  const codec = new ChecksumEncoder({ copyBuffers: true });
  const bytes = Buffer.from(codec.encode({ a: 1 }));
  bytes[1] = 2;
  assert.match((codec.decode(bytes) as CorruptRecord).problem, /record format version 2 is unknown/);
  assert.match((codec.decode(Buffer.from([0xc1, 1, 0])) as CorruptRecord).problem, /shorter than its header/);
});

test('format 0 (plain msgpack, written before checksums) still decodes; garbage reads as damaged', () => {
  const codec = new ChecksumEncoder({ copyBuffers: true });
  const plain = new Encoder().encode({ topic: 'old', qos: 1 });
  assert.deepEqual(codec.decode(plain), { topic: 'old', qos: 1 });
  assert.ok(isCorrupt(codec.decode(Buffer.from([0xdc, 0xff, 0xff]))), 'a truncated msgpack array');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCAN_ERR_LENGTH, SCAN_ERR_PUBLISH, SCAN_ERR_TOO_LARGE, SCAN_HEADER, SCAN_OK, SCAN_STRIDE, scanCapacity, scanFrames } from '../../../../src/protocols/mqtt/codec/scanner.js';
import { encodePublish } from '../../../../src/protocols/mqtt/codec/encode-publish.js';
import { PINGREQ, encodeAck } from '../../../../src/protocols/mqtt/codec/encode-ack.js';
import { encodeSubscribe } from '../../../../src/protocols/mqtt/codec/encode-subscribe.js';
import { PacketType } from '../../../../src/protocols/mqtt/codec/constants.js';
import { hex } from './helpers.js';

interface Rec {
  type: number;
  flags: number;
  offset: number;
  length: number;
  varHeader: number;
  topicOffset: number;
  topicLength: number;
  packetId: number;
  propsOffset: number;
  propsLength: number;
}

function records(out: Uint32Array): Rec[] {
  const list: Rec[] = [];
  for (let i = 0; i < out[0]; i++) {
    const r = SCAN_HEADER + i * SCAN_STRIDE;
    list.push({
      type: out[r],
      flags: out[r + 1],
      offset: out[r + 2],
      length: out[r + 3],
      varHeader: out[r + 4],
      topicOffset: out[r + 5],
      topicLength: out[r + 6],
      packetId: out[r + 7],
      propsOffset: out[r + 8],
      propsLength: out[r + 9],
    });
  }
  return list;
}

function newOut(capacity: number): Uint32Array {
  return new Uint32Array(SCAN_HEADER + capacity * SCAN_STRIDE);
}

const MAX = 1 << 20;

/** A mixed stream: PUBLISH QoS 0/1/2 with and without properties, acks, SUBSCRIBE, PINGREQ. */
function mixedStream(version: 4 | 5): Buffer[] {
  return [
    encodePublish(version, { topic: 'a/b', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false, packetId: 0 }),
    encodePublish(version, {
      topic: 'sensors/1/temp',
      payload: Buffer.alloc(300, 7),
      qos: 1,
      retain: true,
      dup: false,
      packetId: 513,
      properties: version === 5 ? { messageExpiryInterval: 60, userProperties: [{ key: 'k', value: 'v' }] } : {},
    }),
    encodeAck(PacketType.PUBACK, version, 9),
    encodePublish(version, { topic: 'x', payload: Buffer.alloc(0), qos: 2, retain: false, dup: true, packetId: 65535 }),
    encodeSubscribe(version, { packetId: 3, subscriptions: [{ filter: 'a/#', qos: 1 }] }),
    PINGREQ,
  ];
}

test('scanFrames reports every packet of a chunk with offsets, lengths and PUBLISH fields', () => {
  for (const version of [4, 5] as const) {
    const parts = mixedStream(version);
    const buf = Buffer.concat(parts);
    const out = newOut(16);
    scanFrames(buf, 0, buf.length, MAX, version === 5, out);
    assert.equal(out[0], parts.length);
    assert.equal(out[1], buf.length, 'consumed everything');
    assert.equal(out[2], SCAN_OK);
    const recs = records(out);
    let offset = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const r = recs[i];
      assert.equal(r.type, p[0] >> 4);
      assert.equal(r.flags, p[0] & 15);
      assert.equal(r.offset, offset);
      assert.equal(r.length, p.length);
      assert.equal(r.varHeader, offset + 2 + (p.length - 2 > 127 ? 1 : 0));
      offset += p.length;
    }
    const q1 = recs[1];
    assert.equal(buf.toString('utf8', q1.topicOffset, q1.topicOffset + q1.topicLength), 'sensors/1/temp');
    assert.equal(q1.packetId, 513);
    if (version === 5) {
      assert.equal(q1.propsOffset, q1.topicOffset + q1.topicLength + 2 + 1);
      assert.equal(q1.propsLength, 5 + 7, 'expiry (1+4) and one user property (1+2+1+2+1)');
    } else {
      assert.equal(q1.propsOffset, 0);
      assert.equal(q1.propsLength, 0);
    }
    assert.equal(recs[0].packetId, 0, 'QoS 0 has no packet id');
    assert.equal(recs[3].packetId, 65535);
    for (const r of [recs[2], recs[4], recs[5]]) {
      assert.deepEqual([r.topicOffset, r.topicLength, r.packetId, r.propsOffset, r.propsLength], [0, 0, 0, 0, 0]);
    }
  }
});

test('scanFrames works on a window of a larger buffer and reports absolute offsets', () => {
  const pkt = encodePublish(4, { topic: 't', payload: Buffer.from('p'), qos: 1, retain: false, dup: false, packetId: 1 });
  const buf = Buffer.concat([Buffer.alloc(10, 0xff), pkt, pkt, Buffer.alloc(5, 0xff)]);
  const out = newOut(4);
  scanFrames(buf, 10, 10 + 2 * pkt.length, MAX, false, out);
  assert.equal(out[0], 2);
  assert.equal(out[1], 10 + 2 * pkt.length);
  const recs = records(out);
  assert.equal(recs[0].offset, 10);
  assert.equal(recs[1].offset, 10 + pkt.length);
  assert.equal(recs[1].topicOffset, 10 + pkt.length + 4);
});

test('a stream split at every byte position yields the same packets when the caller keeps the remainder', () => {
  for (const version of [4, 5] as const) {
    const parts = mixedStream(version);
    const whole = Buffer.concat(parts);
    const out = newOut(16);
    for (let split = 0; split <= whole.length; split++) {
      const found: string[] = [];
      const first = whole.subarray(0, split);
      scanFrames(first, 0, first.length, MAX, version === 5, out);
      assert.equal(out[2], SCAN_OK);
      for (const r of records(out)) found.push(first.toString('hex', r.offset, r.offset + r.length));
      const rest = Buffer.concat([first.subarray(out[1]), whole.subarray(split)]);
      scanFrames(rest, 0, rest.length, MAX, version === 5, out);
      assert.equal(out[2], SCAN_OK);
      assert.equal(out[1], rest.length);
      for (const r of records(out)) found.push(rest.toString('hex', r.offset, r.offset + r.length));
      assert.deepEqual(
        found,
        parts.map((p) => p.toString('hex')),
        `split at ${split}`,
      );
    }
  }
});

test('scanFrames stops when out is full and resumes from consumed', () => {
  const pkt = encodeAck(PacketType.PUBACK, 4, 1);
  const buf = Buffer.concat([pkt, pkt, pkt, pkt, pkt]);
  const out = newOut(2);
  assert.equal(scanCapacity(out), 2);
  assert.equal(scanCapacity(new Uint32Array(SCAN_HEADER + SCAN_STRIDE * 3 + 9)), 3);
  assert.equal(scanCapacity(new Uint32Array(2)), 0);
  const counts: number[] = [];
  let start = 0;
  while (start < buf.length) {
    scanFrames(buf, start, buf.length, MAX, false, out);
    assert.equal(out[2], SCAN_OK);
    counts.push(out[0]);
    assert.equal(out[SCAN_HEADER + 2], start, 'first record starts where the last call stopped');
    start = out[1];
  }
  assert.deepEqual(counts, [2, 2, 1]);
});

test('remaining length of 1 to 4 bytes gives the right total length', () => {
  const cases: Array<[number, number]> = [
    [0, 1],
    [127, 1],
    [128, 2],
    [16_383, 2],
    [16_384, 3],
    [2_097_151, 3],
    [2_097_152, 4],
  ];
  const out = newOut(1);
  for (const [remaining, bytes] of cases) {
    // PINGREQ-like type 12 keeps the scanner out of PUBLISH parsing; only framing is tested.
    const header = [0xc0];
    let n = remaining;
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      header.push(b);
    } while (n > 0);
    assert.equal(header.length - 1, bytes);
    const buf = Buffer.concat([Buffer.from(header), Buffer.alloc(remaining)]);
    scanFrames(buf, 0, buf.length, 1 << 30, false, out);
    assert.equal(out[0], 1, `remaining ${remaining}`);
    assert.equal(out[SCAN_HEADER + 3], 1 + bytes + remaining);
    assert.equal(out[SCAN_HEADER + 4], 1 + bytes);
    // One byte short: incomplete, not an error.
    scanFrames(buf, 0, buf.length - 1, 1 << 30, false, out);
    if (remaining > 0) {
      assert.deepEqual([out[0], out[1], out[2]], [0, 0, SCAN_OK]);
    }
  }
});

test('incomplete remaining length bytes are incomplete, a fifth length byte is error 1', () => {
  const out = newOut(4);
  const ping = Buffer.from([0xc0, 0x00]);
  for (const tail of ['30', '30ff', '30ffff', '30ffffff']) {
    const buf = Buffer.concat([ping, hex(tail)]);
    scanFrames(buf, 0, buf.length, 1 << 30, false, out);
    assert.deepEqual([out[0], out[1], out[2]], [1, 2, SCAN_OK], tail);
  }
  const bad = Buffer.concat([ping, hex('30 ff ff ff ff 01')]);
  scanFrames(bad, 0, bad.length, 1 << 30, false, out);
  assert.equal(out[2], SCAN_ERR_LENGTH);
  assert.equal(out[3], 2, 'detail is the offset of the bad packet');
  assert.equal(out[0], 1, 'the packet before the error is still reported');
  assert.equal(out[1], 2);
});

test('maximum packet size: equal is accepted, one above is error 2 with the declared size, even before it arrives', () => {
  const out = newOut(4);
  const pkt = encodePublish(4, { topic: 't', payload: Buffer.alloc(20), qos: 0, retain: false, dup: false, packetId: 0 });
  scanFrames(pkt, 0, pkt.length, pkt.length, false, out);
  assert.deepEqual([out[0], out[2]], [1, SCAN_OK]);
  scanFrames(pkt, 0, pkt.length, pkt.length - 1, false, out);
  assert.deepEqual([out[0], out[1], out[2], out[3]], [0, 0, SCAN_ERR_TOO_LARGE, pkt.length]);
  // Only the fixed header of a 268435460-byte packet has arrived.
  const head = Buffer.concat([PINGREQ, hex('30 ff ff ff 7f')]);
  scanFrames(head, 0, head.length, MAX, false, out);
  assert.deepEqual([out[0], out[1], out[2], out[3]], [1, 2, SCAN_ERR_TOO_LARGE, 268_435_460]);
});

test('malformed PUBLISH structure is error 3 with the packet offset', () => {
  const out = newOut(4);
  const cases: Array<[string, string, boolean]> = [
    ['topic length field missing', '30 01 00', false],
    ['topic runs past the packet', '30 04 00 05 61 62', false],
    ['QoS 1 without packet id', '32 03 00 01 61', false],
    ['QoS 2 with half a packet id', '34 04 00 01 61 00', false],
    ['QoS 3 treated like QoS 2: no packet id', '36 03 00 01 61', false],
    ['v5 property length missing', '30 03 00 01 61', true],
    ['v5 property length past the packet', '30 05 00 01 61 05 01', true],
    ['v5 property length varint cut', '30 04 00 01 61 80', true],
    ['v5 property length longer than 4 bytes', '30 09 00 01 61 80 80 80 80 01 00', true],
  ];
  for (const [name, bytes, v5] of cases) {
    const buf = Buffer.concat([PINGREQ, hex(bytes)]);
    scanFrames(buf, 0, buf.length, MAX, v5, out);
    assert.equal(out[2], SCAN_ERR_PUBLISH, name);
    assert.equal(out[3], 2, name);
    assert.equal(out[0], 1, name);
    assert.equal(out[1], 2, name);
  }
  // The same bytes are fine without properties (3.1.1) and QoS 3 is reported as-is.
  const ok = hex('36 05 00 01 61 00 07');
  scanFrames(ok, 0, ok.length, MAX, false, out);
  assert.equal(out[2], SCAN_OK);
  assert.equal(out[SCAN_HEADER + 1], 6);
  assert.equal(out[SCAN_HEADER + 7], 7);
});

test('an empty range reports nothing and consumes nothing', () => {
  const out = newOut(1);
  out.fill(99);
  scanFrames(Buffer.alloc(4), 3, 3, MAX, true, out);
  assert.deepEqual(Array.from(out.subarray(0, 4)), [0, 3, 0, 0]);
});

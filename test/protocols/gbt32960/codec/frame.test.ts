import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameScan, ScanStatus, bcc, encodeFrame, scanFrame } from '../../../../src/protocols/gbt32960/codec/frame.js';
import { MAX_FRAME_SIZE } from '../../../../src/protocols/gbt32960/codec/constants.js';
import { VECTORS, VIN, hex, frame, loginData } from '../helpers.js';

function scanAll(buf: Buffer, max = MAX_FRAME_SIZE): { frames: Buffer[]; errors: string[]; skipped: number; rest: number } {
  const out = new FrameScan();
  const frames: Buffer[] = [];
  const errors: string[] = [];
  let skipped = 0;
  let pos = 0;
  for (;;) {
    scanFrame(buf, pos, buf.length, max, out);
    skipped += out.skipped;
    if (out.status === ScanStatus.NeedMore) return { frames, errors, skipped, rest: buf.length - out.resume };
    if (out.status === ScanStatus.Frame) frames.push(buf.subarray(out.frameStart, out.frameEnd));
    else errors.push(out.error);
    pos = out.resume;
  }
}

test('PROTOCOLS.md vectors: login and heartbeat frames scan whole with a correct BCC', () => {
  for (const vector of [VECTORS.login, VECTORS.heartbeat, VECTORS.heartbeatAnswer]) {
    const bytes = hex(vector);
    const r = scanAll(bytes);
    assert.equal(r.frames.length, 1, vector);
    assert.deepEqual(r.frames[0], bytes);
    assert.equal(bcc(bytes, 2, bytes.length - 1), bytes[bytes.length - 1]);
  }
});

test('encodeFrame rebuilds the vectors byte for byte', () => {
  assert.equal(encodeFrame(0x07, 0xfe, VIN, 0x01, null).toString('hex').toUpperCase(), VECTORS.heartbeat);
  assert.equal(encodeFrame(0x07, 0x01, VIN, 0x01, null).toString('hex').toUpperCase(), VECTORS.heartbeatAnswer);
  assert.equal(
    encodeFrame(0x01, 0xfe, VIN, 0x01, loginData(1, '12345678901234567890', ['C'], { Year: 12, Month: 12, Day: 29, Hour: 12, Minute: 19, Second: 20 }))
      .toString('hex')
      .toUpperCase(),
    VECTORS.login,
  );
});

test('a frame split at every byte boundary waits for the rest, then scans whole', () => {
  const bytes = hex(VECTORS.login);
  for (let cut = 1; cut < bytes.length; cut++) {
    const first = scanAll(bytes.subarray(0, cut));
    assert.equal(first.frames.length, 0);
    assert.equal(first.rest, cut, `a partial frame of ${cut} bytes is kept`);
  }
});

test('garbage before "##" is skipped and counted; a lone trailing "#" is kept for the next chunk', () => {
  const good = hex(VECTORS.heartbeat);
  const r = scanAll(Buffer.concat([Buffer.from('noise#x'), good]));
  assert.equal(r.frames.length, 1);
  assert.equal(r.skipped, 7);
  const tail = scanAll(Buffer.from('abc#'));
  assert.equal(tail.skipped, 3);
  assert.equal(tail.rest, 1);
});

test('a wrong BCC is reported and the scan resynchronises on the next "##"', () => {
  const bad = hex(VECTORS.heartbeat);
  bad[bad.length - 1] ^= 0xff;
  const r = scanAll(Buffer.concat([bad, hex(VECTORS.login)]));
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!, /BCC mismatch: frame says 0x2A, bytes give 0xD5/);
  assert.equal(r.frames.length, 1);
  assert.equal(r.frames[0]![2], 0x01);
});

test('a corrupt length (too long for the limit) is an error, not a wait for bytes that never come', () => {
  const f = frame(0x02, Buffer.alloc(100));
  const r = scanAll(Buffer.concat([f, hex(VECTORS.heartbeat)]), 64);
  assert.match(r.errors[0]!, /frame of 125 bytes \(data length 100\) exceeds the maximum frame size of 64 bytes/);
  assert.equal(r.frames.length, 1, 'the following good frame is still found');
});

test('a length that is wrong but fits makes the BCC fail and the next frame is still found', () => {
  const f = Buffer.from(frame(0x02, Buffer.alloc(10, 1)));
  f.writeUInt16BE(9, 22); // claims one byte less: the BCC position moves
  const r = scanAll(Buffer.concat([f, hex(VECTORS.heartbeat)]));
  assert.equal(r.errors.length, 1);
  assert.equal(r.frames.length, 1);
  assert.equal(r.frames[0]![2], 0x07);
});

test('random bytes never throw and never keep more than a frame (fuzz)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 25, max: 300 }), (bytes, max) => {
      const r = scanAll(Buffer.from(bytes), max);
      assert.ok(r.rest <= Math.max(max, 24), `kept ${r.rest} bytes`);
    }),
    { numRuns: 500 },
  );
});

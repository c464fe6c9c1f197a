import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../../../../src/protocols/mqtt/codec/decode.js';
import { decodePublishFromScan } from '../../../../src/protocols/mqtt/codec/decode-publish.js';
import { encodePacket } from '../../../../src/protocols/mqtt/codec/encode.js';
import { SCAN_HEADER, SCAN_STRIDE, scanFrames } from '../../../../src/protocols/mqtt/codec/scanner.js';
import { hex } from './helpers.js';
import { VECTORS } from './vectors.js';

for (const v of VECTORS) {
  test(`vector ${v.name}: decodes to the expected packet`, () => {
    assert.deepStrictEqual(decodeFrame(hex(v.hex), v.version), v.packet);
  });

  test(`vector ${v.name}: encodes ${v.canonical ? 'to the same bytes' : 'to bytes that decode back'}`, () => {
    const bytes = encodePacket(v.version, v.packet);
    if (v.encodesTo !== undefined) assert.equal(bytes.toString('hex'), hex(v.encodesTo).toString('hex'));
    else if (v.canonical) assert.equal(bytes.toString('hex'), hex(v.hex).toString('hex'));
    else assert.equal(bytes.length, hex(v.hex).length, 'same size, only the property order differs');
    assert.deepStrictEqual(decodeFrame(bytes, v.version), v.packet);
  });

  test(`vector ${v.name}: the scanner frames it as one packet`, () => {
    const bytes = hex(v.hex);
    const out = new Uint32Array(SCAN_HEADER + SCAN_STRIDE);
    scanFrames(bytes, 0, bytes.length, 1 << 20, v.version === 5, out);
    assert.deepEqual([out[0], out[1], out[2]], [1, bytes.length, 0]);
    assert.equal(out[SCAN_HEADER], v.packet.type);
    assert.equal(out[SCAN_HEADER + 3], bytes.length);
    if (v.packet.type === 3) {
      assert.deepStrictEqual(decodePublishFromScan(bytes, out, 0, v.version), v.packet);
    }
  });
}

test('decoded binary fields of CONNECT do not alias the read buffer', () => {
  const v = VECTORS.find((x) => x.name.includes('maximal connect'));
  assert.ok(v);
  const bytes = hex(v.hex);
  const p = decodeFrame(bytes, 3);
  bytes.fill(0);
  assert.deepStrictEqual(p, v.packet, 'will payload and password survive reuse of the read buffer');
});

test('a decoded PUBLISH payload is a view into the read buffer, not a copy', () => {
  const bytes = hex('300a 0004 74657374 74657374');
  const p = decodeFrame(bytes, 4);
  assert.ok(p.type === 3);
  assert.equal(p.payload.buffer, bytes.buffer);
  assert.equal(p.payload.byteOffset, bytes.byteOffset + 8);
});

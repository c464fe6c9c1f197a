import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame } from '../../../../src/protocols/mqtt/codec/decode.js';
import { decodePublishFromScan } from '../../../../src/protocols/mqtt/codec/decode-publish.js';
import { encodePacket, encodedPublishSize, setPublishPacketId, setPublishDup } from '../../../../src/protocols/mqtt/codec/encode.js';
import { SCAN_HEADER, SCAN_STRIDE, scanFrames } from '../../../../src/protocols/mqtt/codec/scanner.js';
import type { ProtocolVersion } from '../../../../src/protocols/mqtt/codec/packets.js';
import { anyPacket, packetArbitraries, topicName } from './arbitraries.js';

const VERSIONS: ProtocolVersion[] = [3, 4, 5];

for (const version of VERSIONS) {
  for (const [name, arb] of Object.entries(packetArbitraries(version))) {
    test(`round trip v${version} ${name}: decode(encode(p)) equals p and re-encodes to the same bytes`, () => {
      fc.assert(
        fc.property(arb, (p) => {
          const bytes = encodePacket(version, p);
          const back = decodeFrame(bytes, version);
          assert.deepStrictEqual(back, p);
          assert.ok(encodePacket(version, back).equals(bytes));
          if (p.type === 3) assert.equal(encodedPublishSize(version, p), bytes.length);
        }),
        { numRuns: 150 },
      );
    });
  }
}

for (const version of VERSIONS) {
  test(`v${version} streams of random packets split into random chunks scan and decode back in order`, () => {
    const out = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * 3);
    fc.assert(
      fc.property(fc.array(anyPacket(version), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 5 }), (packets, cuts) => {
        const stream = Buffer.concat(packets.map((p) => encodePacket(version, p)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const decoded: unknown[] = [];
        let pending = Buffer.alloc(0);
        let from = 0;
        for (const to of [...points, stream.length]) {
          let buf = Buffer.concat([pending, stream.subarray(from, to)]);
          from = to;
          let start = 0;
          for (;;) {
            scanFrames(buf, start, buf.length, 1 << 24, version === 5, out);
            assert.equal(out[2], 0);
            for (let i = 0; i < out[0]; i++) {
              const r = SCAN_HEADER + i * SCAN_STRIDE;
              decoded.push(out[r] === 3 ? decodePublishFromScan(buf, out, i, version) : decodeFrame(buf, version, out[r + 2], out[r + 2] + out[r + 3]));
            }
            if (out[1] === start && out[0] === 0) break;
            start = out[1];
            if (start === buf.length) break;
          }
          pending = buf.subarray(start);
          buf = pending;
        }
        assert.equal(pending.length, 0);
        assert.deepStrictEqual(decoded, packets);
      }),
      { numRuns: 200 },
    );
  });
}

test('patching packet id and DUP of an encoded PUBLISH gives the packet encoded with them', () => {
  fc.assert(
    fc.property(fc.constantFrom<ProtocolVersion>(3, 4, 5), topicName, fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 65535 }), (version, topic, qos, id) => {
      const base = { topic, payload: Buffer.from('payload'), qos: qos as 1 | 2, retain: false, dup: false, packetId: 1, properties: version === 5 ? { messageExpiryInterval: 5 } : {} };
      const buf = encodePacket(version, { type: 3, ...base });
      setPublishPacketId(buf, id);
      setPublishDup(buf, true);
      assert.ok(buf.equals(encodePacket(version, { type: 3, ...base, packetId: id, dup: true })));
    }),
  );
});

test('random bytes never crash the decoder: only typed codec errors', () => {
  fc.assert(
    fc.property(fc.constantFrom<ProtocolVersion>(3, 4, 5), fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 40 }), (version, typeNibble, body) => {
      // A fixed header with a correct remaining length, then random bytes.
      const first = (typeNibble << 4) | (body.length > 0 ? body[0] & 0x0f : 0);
      const bytes = Buffer.concat([Buffer.from([first, body.length]), Buffer.from(body)]);
      try {
        decodeFrame(bytes, version);
      } catch (err) {
        const code = (err as { code?: string }).code;
        assert.ok(code === 'JN_MALFORMED' || code === 'JN_PROTOCOL' || code === 'JN_UNSUPPORTED_VERSION' || code === 'JN_TOPIC_ALIAS_INVALID', String(err));
      }
    }),
    { numRuns: 3000 },
  );
});

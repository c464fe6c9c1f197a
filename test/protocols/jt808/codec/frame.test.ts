/** Escaping, the XOR check, the stream scanner's resynchronisation, and random input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameScanner, sealFrame, unescapeInto, xorChecksum } from '../../../../src/protocols/jt808/codec/frame.js';
import { FrameFault, Jt808BodyError } from '../../../../src/protocols/jt808/codec/errors.js';
import { bodyJson, parseFrame } from '../../../../src/protocols/jt808/codec/message.js';

interface Seen {
  frames: string[];
  faults: FrameFault[];
}

function scan(chunks: Buffer[], max = 64): Seen {
  const seen: Seen = { frames: [], faults: [] };
  const scanner = new FrameScanner(max);
  for (const c of chunks) {
    scanner.push(c, {
      onFrame(frame, length) {
        seen.frames.push(frame.subarray(0, length).toString('hex'));
        return true;
      },
      onFrameFault(fault) {
        seen.faults.push(fault);
        return true;
      },
    });
  }
  return seen;
}

test('sealFrame escapes 7E as 7D 02 and 7D as 7D 01, the check byte included, and adds delimiters', () => {
  // The XOR of these bytes is 7D, so the check byte is escaped too.
  const content = Buffer.from([0x30, 0x7e, 0x08, 0x7d, 0x55, 0x13]);
  assert.equal(xorChecksum(content, 0, content.length), 0x7d);
  assert.equal(sealFrame(content, content.length).toString('hex'), '7e' + '307d02087d015513' + '7d01' + '7e');
});

test('unescapeInto reverses escaping and refuses 7D followed by another byte or at the end', () => {
  const dst = Buffer.alloc(16);
  const n = unescapeInto(Buffer.from('307d02087d0155', 'hex'), 0, 7, dst);
  assert.equal(dst.subarray(0, n).toString('hex'), '307e087d55');
  assert.equal(unescapeInto(Buffer.from('307d03', 'hex'), 0, 3, dst), -1);
  assert.equal(unescapeInto(Buffer.from('307d', 'hex'), 0, 2, dst), -1);
});

test('escape -> unescape is the identity for any content', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
      const sealed = sealFrame(bytes, bytes.length);
      assert.equal(sealed.indexOf(0x7e, 1), sealed.length - 1, 'no 7E inside the frame');
      const out = Buffer.alloc(sealed.length);
      const n = unescapeInto(sealed, 1, sealed.length - 1, out);
      assert.deepEqual([...out.subarray(0, n - 1)], [...bytes]);
      assert.equal(out[n - 1], xorChecksum(bytes, 0, bytes.length));
    }),
  );
});

test('garbage between frames is reported once per run and skipped', () => {
  const seen = scan([Buffer.from('aabb7e01027e cc 7e03047e'.replace(/ /g, ''), 'hex')]);
  assert.deepEqual(seen.frames, ['0102', '0304']);
  assert.deepEqual(seen.faults, [FrameFault.Garbage, FrameFault.Garbage]);
});

test('"7E 7E" between back-to-back frames makes the second 7E an opening', () => {
  const seen = scan([Buffer.from('7e01027e7e03047e', 'hex')]);
  assert.deepEqual(seen.frames, ['0102', '0304']);
  assert.deepEqual(seen.faults, []);
});

test('a frame longer than the limit is dropped once, whether whole or spread over chunks, and the next frame is found', () => {
  const big = Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(100, 0x11), Buffer.from([0x7e])]);
  const next = Buffer.from('7e05067e', 'hex');
  assert.deepEqual(scan([Buffer.concat([big, next])]), { frames: ['0506'], faults: [FrameFault.TooLarge] });
  assert.deepEqual(scan([big.subarray(0, 40), big.subarray(40, 80), big.subarray(80), next]), { frames: ['0506'], faults: [FrameFault.TooLarge] });
});

test('a bad escape drops only its frame', () => {
  assert.deepEqual(scan([Buffer.from('7e017d037e7e02037e', 'hex')]), { frames: ['0203'], faults: [FrameFault.BadEscape] });
});

test('an escape split across chunks (7D | 02) is unescaped', () => {
  assert.deepEqual(scan([Buffer.from('7e017d', 'hex'), Buffer.from('02037e', 'hex')]).frames, ['017e03']);
});

test('random bytes never throw anything but a body error and never hold more than the limit', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), fc.boolean(), (chunks, sprinkle) => {
      const scanner = new FrameScanner(256);
      for (const c of chunks) {
        const chunk = Buffer.from(c);
        if (sprinkle) for (let i = 0; i < chunk.length; i += 7) chunk[i] = 0x7e;
        scanner.push(chunk, {
          onFrame(frame, length) {
            const p = parseFrame(frame, length);
            if (p.header !== null && p.fault === FrameFault.None) {
              try {
                bodyJson(p.header, frame, p.bodyStart, p.bodyEnd);
              } catch (err) {
                if (!(err instanceof Jt808BodyError)) throw err;
              }
            }
            return true;
          },
          onFrameFault: () => true,
        });
        assert.ok(scanner.pendingBytes <= 256);
      }
    }),
    { numRuns: 2000 },
  );
});

/**
 * Codec vectors from ../shared/PROTOCOLS.md (decoded to the expected JSON and re-encoded to
 * the same bytes) and encode -> decode round trips for every listed message in both editions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScanner } from '../../../../src/protocols/jt808/codec/frame.js';
import { FrameFault } from '../../../../src/protocols/jt808/codec/errors.js';
import { headerJson, type Jt808Header } from '../../../../src/protocols/jt808/codec/header.js';
import { bodyJson, encodeMessage, parseFrame, type Jt808Json } from '../../../../src/protocols/jt808/codec/message.js';
import { knownMessageIds } from '../../../../src/protocols/jt808/codec/bodies/index.js';
import { terminalHeader } from '../../../../bench/lib/jt808-terminal.js';
import { SAMPLES } from './samples.js';

/** Every message in `bytes`, decoded; throws on any frame fault. */
function decodeAll(bytes: Buffer): Array<Jt808Json & { h: Jt808Header }> {
  const out: Array<Jt808Json & { h: Jt808Header }> = [];
  new FrameScanner(1 << 16).push(bytes, {
    onFrame(frame, length) {
      const p = parseFrame(frame, length);
      assert.equal(p.fault, FrameFault.None, `frame fault ${p.fault}`);
      out.push({ h: p.header!, header: headerJson(p.header!), body: bodyJson(p.header!, frame, p.bodyStart, p.bodyEnd) });
      return true;
    },
    onFrameFault(fault) {
      throw new Error(`scanner fault ${fault}`);
    },
  });
  return out;
}

const REGISTER_BODY = { province: 31, city: 115, manufacturer: 'yzh', model: 'www.jtt808.com', dev_id: '7654321', color: 1, license_number: '测A1234' };

const VECTORS: ReadonlyArray<{ name: string; hex: string; header: Record<string, unknown>; body: Record<string, unknown> }> = [
  {
    name: '2013 register',
    hex: '7e0100002c0123456789010000001f0073797a6800007777772e6a74743830382e636f6d0000000000003736353433323101b2e24131323334ca7e',
    header: { msg_id: 0x0100, encrypt: 0, len: 44, phone: '012345678901', msg_sn: 0 },
    body: REGISTER_BODY,
  },
  {
    name: '2019 register (attributes 0x4053, phone 00000000017299841738)',
    hex: '7e0100405301000000000172998417380000001f0073797a6800000000000000007777772e6a74743830382e636f6d0000000000000000000000000000000037363534333231000000000000000000000000000000000000000000000001b2e241313233343d7e',
    header: { msg_id: 0x0100, encrypt: 0, len: 0x53, proto_ver: 1, phone: '00000000017299841738', msg_sn: 0 },
    body: REGISTER_BODY,
  },
  { name: '2013 heartbeat', hex: '7e0002000001234567890100008a7e', header: { msg_id: 2, encrypt: 0, len: 0, phone: '012345678901', msg_sn: 0 }, body: {} },
  { name: '2019 heartbeat', hex: '7e0002400001000000000172998417380000027e', header: { msg_id: 2, encrypt: 0, len: 0, proto_ver: 1, phone: '00000000017299841738', msg_sn: 0 }, body: {} },
  {
    name: '0200 containing both escapes',
    hex: '7E02000026123456789012007D02000000010000000200BA7F0E07E4F11C0028003C00001810151010100104000000640202007D01137E',
    header: { msg_id: 0x0200, encrypt: 0, len: 38, phone: '123456789012', msg_sn: 0x7e },
    body: { alarm: 1, status: 2, latitude: 12_222_222, longitude: 132_444_444, altitude: 40, speed: 60, direction: 0, time: '181015101010', extra: { mileage: 100, fuel_meter: 125 } },
  },
];

for (const v of VECTORS) {
  test(`vector: ${v.name} decodes to EMQX JSON and encodes back to the same bytes`, () => {
    const bytes = Buffer.from(v.hex, 'hex');
    const [msg, ...rest] = decodeAll(bytes);
    assert.equal(rest.length, 0);
    assert.deepEqual(msg!.header, v.header);
    assert.deepEqual(msg!.body, v.body);
    assert.equal(encodeMessage(msg!.h, msg!.body).toString('hex'), v.hex.toLowerCase());
  });
}

test('the 0200 vector split at every byte boundary decodes the same', () => {
  const bytes = Buffer.from(VECTORS[4]!.hex, 'hex');
  for (let cut = 1; cut < bytes.length; cut++) {
    const bodies: unknown[] = [];
    const scanner = new FrameScanner(4096);
    const sink = {
      onFrame(frame: Buffer, length: number) {
        const p = parseFrame(frame, length);
        assert.equal(p.fault, FrameFault.None, `cut at ${cut}`);
        bodies.push(bodyJson(p.header!, frame, p.bodyStart, p.bodyEnd));
        return true;
      },
      onFrameFault(f: FrameFault): boolean {
        throw new Error(`fault ${f} with the cut at ${cut}`);
      },
    };
    scanner.push(bytes.subarray(0, cut), sink);
    scanner.push(bytes.subarray(cut), sink);
    assert.deepEqual(bodies, [VECTORS[4]!.body], `cut at ${cut}`);
  }
});

for (const [id, body2013, body2019] of SAMPLES) {
  const name = `0x${id.toString(16).padStart(4, '0')}`;
  for (const [edition, body] of [
    ['2013', body2013],
    ['2019', body2019],
  ] as const) {
    test(`round trip ${name} (${edition})`, () => {
      const is2019 = edition === '2019';
      const phone = is2019 ? '01234567890123456789' : '013912345678';
      const bytes = encodeMessage(terminalHeader(phone, is2019, id, 4242), body);
      const [msg] = decodeAll(bytes);
      assert.equal(msg!.h.msgId, id);
      assert.equal(msg!.h.phone, phone);
      assert.equal(msg!.h.msgSn, 4242);
      assert.equal(msg!.h.is2019, is2019);
      assert.deepEqual(msg!.body, body);
    });
  }
}

test('every message id with a codec has a round-trip sample', () => {
  const sampled = new Set(SAMPLES.map(([id]) => id));
  const missing = knownMessageIds().filter((id) => !sampled.has(id) && ![0x0301, 0x0302, 0x0303, 0x0700, 0x0701, 0x0805, 0x0901, 0x8203, 0x8204].includes(id));
  assert.deepEqual(
    missing.map((id) => id.toString(16)),
    [],
  );
});

test('unknown uplink ids decode as {"unknown_id": true, "data": base64}; encrypted bodies as {"encrypted": true, "data"}', () => {
  const h = terminalHeader('013912345678', false, 0x0f0f, 1);
  const raw = Buffer.from([1, 2, 3, 0x7e]);
  const [msg] = decodeAll(encodeMessage(h, { unknown_id: true, data: raw.toString('base64') }));
  assert.deepEqual(msg!.body, { unknown_id: true, data: raw.toString('base64') });
  const enc = encodeMessage({ ...terminalHeader('013912345678', false, 0x0200, 2), encrypt: 1 }, { unknown_id: true, data: raw.toString('base64') });
  const [e] = decodeAll(enc);
  assert.equal(e!.header['encrypt'], 1);
  assert.deepEqual(e!.body, { encrypted: true, data: raw.toString('base64') });
});

test('a body shorter than its layout throws a body error naming the message', () => {
  const h = terminalHeader('013912345678', false, 0x0200, 1);
  assert.throws(() => bodyJson(h, Buffer.alloc(10), 0, 10), { name: 'Jt808BodyError', message: /0200 too short/ });
});

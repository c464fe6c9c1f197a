/**
 * Malformed frames against a real broker: answered (8001 result 2) or dropped as the standard
 * says, the decoder resynchronises on the next 7E, the connection closes only after
 * --jt808-max-violations bad frames in a row, and other terminals carry on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, connect, subscribeCodes } from '../../../interop/harness.js';
import { encodeMessage } from '../../../../src/protocols/jt808/codec/message.js';
import { sealFrame, unescapeInto } from '../../../../src/protocols/jt808/codec/frame.js';
import { jt808Broker, onlineTerminal, testPhone } from '../helpers.js';
import { sampleLocation, terminalHeader } from '../../../../bench/lib/jt808-terminal.js';

const phone = (): string => testPhone(137);

/** A heartbeat frame of `p` with msg_sn `sn`. */
function heartbeat(p: string, sn: number): Buffer {
  return encodeMessage(terminalHeader(p, false, 0x0002, sn), {});
}

/** The same frame with a wrong check byte, escaped correctly whatever the bytes are. */
function withWrongCheck(frame: Buffer): Buffer {
  const content = Buffer.alloc(frame.length);
  const n = unescapeInto(frame, 1, frame.length - 1, content); // content and check byte
  content[n - 1] ^= 0x01;
  const out: number[] = [0x7e];
  for (const b of content.subarray(0, n)) {
    if (b === 0x7e) out.push(0x7d, 0x02);
    else if (b === 0x7d) out.push(0x7d, 0x01);
    else out.push(b);
  }
  out.push(0x7e);
  return Buffer.from(out);
}

test('wrong checksum and length mismatch are answered with 8001 result 2; the next frame is handled', async (t) => {
  const { port } = await jt808Broker(t);
  const p = phone();
  const term = await onlineTerminal(t, port, p);
  term.writeRaw(withWrongCheck(heartbeat(p, 100)));
  assert.equal(await term.response(0x0002, 100), 2);

  const body = encodeMessage(terminalHeader(p, false, 0x0200, 101), sampleLocation());
  // Claim a body one byte shorter than sent, keeping the checksum right.
  const content = Buffer.alloc(body.length);
  const n = unescapeInto(body, 1, body.length - 1, content);
  content.writeUInt16BE(content.readUInt16BE(2) - 1, 2);
  term.writeRaw(sealFrame(content, n - 1));
  assert.equal(await term.response(0x0200, 101), 2);

  term.writeRaw(heartbeat(p, 102));
  assert.equal(await term.response(0x0002, 102), 0);
});

test('a frame whose terminal phone is not BCD is dropped unanswered (no reply could carry it); the connection carries on', async (t) => {
  // Found by the network fuzzer: the 8001 answer to such a frame failed to encode.
  const { broker, port } = await jt808Broker(t, ['--log-level', 'debug']);
  const p = phone();
  const term = await onlineTerminal(t, port, p);
  const hb = heartbeat(p, 60);
  const content = Buffer.alloc(hb.length);
  const n = unescapeInto(hb, 1, hb.length - 1, content);
  content[9] = 0xff; // the last byte of the 2013 header's BCD[6] phone
  const badPhone = sealFrame(content, n - 1);
  term.writeRaw(badPhone);
  term.writeRaw(withWrongCheck(badPhone));
  term.writeRaw(heartbeat(p, 61));
  assert.equal(await term.response(0x0002, 61), 0, 'the next good frame is answered');
  assert.deepEqual(
    broker.logs.filter((l) => l['level'] === 'error'),
    [],
    'no internal error',
  );
  assert.ok(
    broker.logs.some((l) => String(l['msg']).includes('bad-phone')),
    'the drop is logged with its cause',
  );
});

test('garbage between frames, a bad escape and an oversized frame are dropped; the decoder finds the next frame', async (t) => {
  const { broker, port } = await jt808Broker(t, ['--jt808-max-frame-size', '256']);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `jt808/${p}/${p}/up`);
  const term = await onlineTerminal(t, port, p);
  const up = collect(backend, 1, 3000, 'the location after the junk');
  const badEscape = Buffer.from('7e00020000' + '0123456789017d0300007e', 'hex');
  const oversized = Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(400, 0x31), Buffer.from([0x7e])]);
  const location = encodeMessage(terminalHeader(p, false, 0x0200, 7), sampleLocation());
  // Split the good frame across writes too.
  term.writeRaw(Buffer.concat([Buffer.from('hello garbage'), badEscape, Buffer.from([1, 2, 3]), oversized, location.subarray(0, 10)]));
  await new Promise((r) => setTimeout(r, 50));
  term.writeRaw(location.subarray(10));
  assert.equal(await term.response(0x0200, 7), 0);
  const msg = JSON.parse((await up)[0]!.payload.toString()) as { body: unknown };
  assert.deepEqual(msg.body, sampleLocation());
  assert.equal(term.closed, false);
});

test('the connection closes after --jt808-max-violations bad frames in a row; other terminals carry on', async (t) => {
  const { port } = await jt808Broker(t, ['--jt808-max-violations', '3']);
  const p = phone();
  const other = await onlineTerminal(t, port, phone());
  const term = await onlineTerminal(t, port, p);
  // Two bad frames, then a good one: the count restarts.
  term.writeRaw(Buffer.from('7e7d037e7e7d037e', 'hex'));
  term.writeRaw(heartbeat(p, 50));
  assert.equal(await term.response(0x0002, 50), 0);
  term.writeRaw(Buffer.from('7e7d037e7e7d037e7e7d037e', 'hex'));
  await term.waitClosed();
  const sn = other.send(0x0002);
  assert.equal(await other.response(0x0002, sn), 0, 'the other terminal is unaffected');
});

test('a split message is reassembled before it is parsed and published', async (t) => {
  const { broker, port } = await jt808Broker(t);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `jt808/${p}/${p}/up`);
  const term = await onlineTerminal(t, port, p);
  const up = collect(backend, 1, 3000, 'reassembled pass-through');
  const data = Buffer.alloc(2500);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  // encodeMessage splits bodies over 1023 bytes into packets with consecutive msg_sn.
  term.writeRaw(encodeMessage(terminalHeader(p, false, 0x0900, 200), { type: 0xf0, data: data.toString('base64') }));
  const msg = JSON.parse((await up)[0]!.payload.toString()) as { header: Record<string, number>; body: { type: number; data: string } };
  assert.equal(msg.body.type, 0xf0);
  assert.deepEqual(Buffer.from(msg.body.data, 'base64'), data);
  assert.equal(msg.header['len'], 2501);
  assert.equal(msg.header['frag_total'], 3);
  assert.equal(msg.header['msg_sn'], 200);
});

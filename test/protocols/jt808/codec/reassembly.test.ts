/** Split-message reassembly: order, duplicates, the bound on held packets, the time limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reassembler, SplitRefusal, type Reassembled } from '../../../../src/protocols/jt808/codec/reassembly.js';
import type { Jt808Header } from '../../../../src/protocols/jt808/codec/header.js';

function part(msgId: number, firstSn: number, total: number, index: number): Jt808Header {
  return { msgId, encrypt: 0, bodyLength: 1, is2019: false, protoVer: 0, phone: '013912345678', msgSn: firstSn + index - 1, fragTotal: total, fragSn: index };
}

test("packets arriving out of order and duplicated join in index order under the first packet's header", () => {
  const r = new Reassembler(16, 1000);
  assert.equal(r.add(part(0x0801, 10, 3, 3), Buffer.from('c'), 0), null);
  assert.equal(r.add(part(0x0801, 10, 3, 1), Buffer.from('a'), 0), null);
  assert.equal(r.add(part(0x0801, 10, 3, 1), Buffer.from('a'), 0), null);
  const whole = r.add(part(0x0801, 10, 3, 2), Buffer.from('b'), 0) as Reassembled;
  assert.equal(whole.body.toString(), 'abc');
  assert.equal(whole.header.msgSn, 10);
  assert.equal(whole.header.bodyLength, 3);
  assert.equal(whole.header.fragSn, 1);
  assert.equal(r.held, 0);
});

test('more packets than the limit in one message, or an index outside 1..total, are refused', () => {
  const r = new Reassembler(4, 1000);
  assert.equal(r.add(part(1, 0, 5, 1), Buffer.from('x'), 0), SplitRefusal.TooManyParts);
  assert.equal(r.add(part(1, 0, 3, 4), Buffer.from('x'), 0), SplitRefusal.BadIndex);
  assert.equal(r.add(part(1, 0, 3, 0), Buffer.from('x'), 0), SplitRefusal.BadIndex);
});

test('at the bound the oldest unfinished message is dropped to make room', () => {
  const r = new Reassembler(4, 1000);
  r.add(part(1, 0, 3, 1), Buffer.from('a'), 0);
  r.add(part(1, 0, 3, 2), Buffer.from('b'), 0);
  r.add(part(2, 100, 3, 1), Buffer.from('x'), 0);
  r.add(part(2, 100, 3, 2), Buffer.from('y'), 0);
  assert.equal(r.held, 4);
  const done = r.add(part(2, 100, 3, 3), Buffer.from('z'), 0) as Reassembled;
  assert.equal(done.body.toString(), 'xyz');
  assert.equal(r.dropped, 1);
  assert.equal(r.held, 0);
});

test('an unfinished message is dropped at its deadline', () => {
  const r = new Reassembler(8, 1000);
  r.add(part(1, 0, 2, 1), Buffer.from('a'), 5000);
  assert.equal(r.nextDeadline(), 6000);
  assert.equal(r.expire(5999), 6000);
  assert.equal(r.expire(6000), 0);
  assert.equal(r.dropped, 1);
  assert.equal(r.add(part(1, 0, 2, 2), Buffer.from('b'), 6001), null, 'a late packet starts over');
});

/**
 * Downlink commands against a real broker: re-sent until answered, dropped with a $SYS event
 * after the retries, a bounded queue, bad JSON reported, replies other than 0001 settle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, connect, subscribeCodes } from '../../../interop/harness.js';
import { jt808Broker, onlineTerminal, testPhone } from '../helpers.js';
import { sampleLocation } from '../../../../bench/lib/jt808-terminal.js';

const phone = (): string => testPhone(139);

interface DropEvent {
  clientid: string;
  msg_id: number;
  msg_sn: number;
  reason: string;
  detail: string;
  attempts: number;
}

test('an unanswered command is re-sent with the same msg_sn, then dropped with a $SYS event', async (t) => {
  const { broker, port } = await jt808Broker(t, ['--jt808-retry-interval', '1', '--jt808-retry-count', '2']);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `$SYS/brokers/+/jt808/${p}/dropped`);
  const term = await onlineTerminal(t, port, p);
  const dropped = collect(backend, 1, 6000, 'drop event');
  backend.publish(`jt808/${p}/${p}/dn`, JSON.stringify({ header: { msg_id: 0x8201 } }));
  const event = JSON.parse((await dropped)[0]!.payload.toString()) as DropEvent;
  const sends = term.received.filter((r) => r.header['msg_id'] === 0x8201);
  assert.equal(sends.length, 3, 'sent once and re-sent twice');
  assert.ok(
    sends.every((s) => s.header['msg_sn'] === sends[0]!.header['msg_sn']),
    're-sends keep the msg_sn',
  );
  assert.equal(event.reason, 'no-reply');
  assert.equal(event.msg_id, 0x8201);
  assert.equal(event.msg_sn, sends[0]!.header['msg_sn']);
  assert.equal(event.attempts, 3);
});

test('a command answered by its specific reply (8201 -> 0201 with seq) is not re-sent', async (t) => {
  const { broker, port } = await jt808Broker(t, ['--jt808-retry-interval', '1']);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `jt808/${p}/${p}/up`);
  const term = await onlineTerminal(t, port, p);
  backend.publish(`jt808/${p}/${p}/dn`, JSON.stringify({ header: { msg_id: 0x8201 }, body: {} }));
  const query = await term.expect('8201', (r) => r.header['msg_id'] === 0x8201);
  const up = collect(backend, 1, 3000, '0201 response');
  term.send(0x0201, { seq: query.header['msg_sn'] as number, params: sampleLocation() });
  const reply = JSON.parse((await up)[0]!.payload.toString()) as { body: { seq: number; params: unknown } };
  assert.equal(reply.body.seq, query.header['msg_sn']);
  assert.deepEqual(reply.body.params, sampleLocation());
  await new Promise((r) => setTimeout(r, 1600));
  assert.equal(term.received.filter((r) => r.header['msg_id'] === 0x8201).length, 1, 'no re-send after the reply');
});

test('commands beyond the in-flight window wait in the queue; beyond the queue they are dropped as queue-full', async (t) => {
  const { broker, port } = await jt808Broker(t, ['--jt808-max-inflight', '1', '--jt808-max-queued', '1', '--jt808-retry-interval', '30']);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `$SYS/brokers/+/jt808/${p}/dropped`);
  const term = await onlineTerminal(t, port, p);
  const dropped = collect(backend, 1, 3000, 'drop event');
  for (const text of ['one', 'two', 'three']) backend.publish(`jt808/${p}/${p}/dn`, JSON.stringify({ header: { msg_id: 0x8300 }, body: { flag: 0, text } }));
  const event = JSON.parse((await dropped)[0]!.payload.toString()) as DropEvent;
  assert.equal(event.reason, 'queue-full');
  const first = await term.expect('first 8300', (r) => r.header['msg_id'] === 0x8300);
  assert.equal(first.body['text'], 'one');
  assert.equal(term.received.filter((r) => r.header['msg_id'] === 0x8300).length, 1, 'the second waits for the first to be answered');
  term.send(0x0001, { seq: first.header['msg_sn'] as number, id: 0x8300, result: 0 });
  const second = await term.expect('second 8300', (r) => r.header['msg_id'] === 0x8300 && r.body['text'] === 'two');
  assert.equal(second.body['flag'], 0);
});

test('bad downlink JSON is reported on the drop topic with the reason', async (t) => {
  const { broker, port } = await jt808Broker(t);
  const backend = await connect(t, broker.url);
  const p = phone();
  await subscribeCodes(backend, `$SYS/brokers/+/jt808/${p}/dropped`);
  const term = await onlineTerminal(t, port, p);
  const dropped = collect(backend, 3, 3000, 'drop events');
  backend.publish(`jt808/${p}/${p}/dn`, 'not json');
  backend.publish(`jt808/${p}/${p}/dn`, JSON.stringify({ header: { msg_id: 0x8300 }, body: { flag: 'x', text: 'hi' } }));
  backend.publish(`jt808/${p}/${p}/dn`, JSON.stringify({ header: { msg_id: 0x8f99 }, body: {} }));
  const events = (await dropped).map((m) => JSON.parse(m.payload.toString()) as DropEvent);
  assert.ok(events.every((e) => e.reason === 'invalid'));
  assert.match(events[0]!.detail, /not JSON/);
  assert.match(events[1]!.detail, /body\.flag must be an integer 0\.\.255/);
  assert.match(events[2]!.detail, /0x8f99 has no body encoder/);
  // The terminal still works.
  const sn = term.send(0x0002);
  assert.equal(await term.response(0x0002, sn), 0);
});

test('raw bytes for an id without an encoder go down with {"unknown_id": true, "data"}', async (t) => {
  const { broker, port } = await jt808Broker(t);
  const backend = await connect(t, broker.url);
  const p = phone();
  const term = await onlineTerminal(t, port, p);
  backend.publish(`jt808/${p}/${p}/dn`, JSON.stringify({ header: { msg_id: 0x8f01 }, body: { unknown_id: true, data: Buffer.from([1, 2, 0x7e]).toString('base64') } }));
  const got = await term.expect('0x8F01', (r) => r.header['msg_id'] === 0x8f01);
  assert.deepEqual(got.body, { unknown_id: true, data: Buffer.from([1, 2, 0x7e]).toString('base64') });
});

/** SEND/SUBSCRIBE, receipts, ack modes, NACK and drop redelivery, transactions, DISCONNECT. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawStomp, frame, stompBroker } from '../helpers.js';

test('SEND reaches a subscriber with its body (NUL bytes included), headers and subscription id', async (t) => {
  const { port } = await stompBroker(t);
  const sub = await RawStomp.connect(t, port);
  await sub.request('SUBSCRIBE', { id: 's1', destination: 'room/+' });
  const pub = await RawStomp.connect(t, port);
  const body = Buffer.from([0x68, 0x00, 0x69]);
  await pub.request('SEND', { destination: 'room/1', 'content-type': 'application/octet-stream', 'content-length': '3', 'x-trace': 'a:b' }, body);
  const m = await sub.next('MESSAGE');
  assert.equal(m.header('subscription'), 's1');
  assert.equal(m.header('destination'), 'room/1');
  assert.equal(m.header('content-type'), 'application/octet-stream');
  assert.equal(m.header('x-trace'), 'a:b');
  assert.equal(m.header('ack'), undefined, 'auto subscriptions carry no ack header');
  assert.ok(m.header('message-id'));
  assert.deepEqual(m.body, body);
});

test('UNSUBSCRIBE stops deliveries; an unknown id is an ERROR naming it', async (t) => {
  const { port } = await stompBroker(t);
  const c = await RawStomp.connect(t, port);
  await c.request('SUBSCRIBE', { id: 'a', destination: 't' });
  await c.request('UNSUBSCRIBE', { id: 'a' });
  await c.request('SEND', { destination: 't' }, 'x');
  assert.ok(await c.quiet(200), 'no MESSAGE after UNSUBSCRIBE');
  c.send(frame('UNSUBSCRIBE', { id: 'nope' }));
  assert.match((await c.next('ERROR')).header('message') ?? '', /subscription 'nope', which does not exist/);
});

test('client-individual: NACK redelivers marked redelivered, ACK settles; nothing else comes back', async (t) => {
  const { port } = await stompBroker(t);
  const c = await RawStomp.connect(t, port);
  await c.request('SUBSCRIBE', { id: 's', destination: 'jobs', ack: 'client-individual' });
  const pub = await RawStomp.connect(t, port);
  await pub.request('SEND', { destination: 'jobs' }, 'one');
  await pub.request('SEND', { destination: 'jobs' }, 'two');
  const one = await c.next('MESSAGE');
  const two = await c.next('MESSAGE');
  assert.equal(one.body.toString(), 'one');
  assert.ok(one.header('ack'));
  await c.request('NACK', { id: one.header('ack')! });
  const again = await c.next('MESSAGE');
  assert.equal(again.body.toString(), 'one');
  assert.equal(again.header('redelivered'), 'true');
  await c.request('ACK', { id: again.header('ack')! });
  await c.request('ACK', { id: two.header('ack')! });
  assert.ok(await c.quiet(300), 'acknowledged messages are not sent again');
});

test('client mode: an ACK covers every earlier message of the subscription; the window refills', async (t) => {
  const { port } = await stompBroker(t, ['--max-inflight', '3']);
  const c = await RawStomp.connect(t, port);
  await c.request('SUBSCRIBE', { id: 's', destination: 'q', ack: 'client' });
  const pub = await RawStomp.connect(t, port);
  for (let i = 0; i < 5; i++) await pub.request('SEND', { destination: 'q' }, `m${i}`);
  const first = [await c.next('MESSAGE'), await c.next('MESSAGE'), await c.next('MESSAGE')];
  assert.deepEqual(
    first.map((m) => m.body.toString()),
    ['m0', 'm1', 'm2'],
  );
  assert.ok(await c.quiet(200), 'at most --max-inflight unacknowledged messages are out');
  await c.request('ACK', { id: first[2]!.header('ack')! });
  const rest = [await c.next('MESSAGE'), await c.next('MESSAGE')];
  assert.deepEqual(
    rest.map((m) => m.body.toString()),
    ['m3', 'm4'],
  );
});

test('messages unacknowledged when the connection drops go to the next subscriber of that client-id', async (t) => {
  const { port } = await stompBroker(t);
  const first = await RawStomp.connect(t, port, { 'client-id': 'worker-1' });
  await first.request('SUBSCRIBE', { id: 's', destination: '/topic/orders.*', ack: 'client-individual' });
  const pub = await RawStomp.connect(t, port);
  await pub.request('SEND', { destination: '/topic/orders.eu' }, 'order-1');
  const m = await first.next('MESSAGE');
  assert.equal(m.header('destination'), '/topic/orders.eu');
  first.socket.destroy();
  await first.closedWithin(1000);

  // Another client does not get it; worker-1 coming back does.
  const other = await RawStomp.connect(t, port, { 'client-id': 'worker-2' });
  await other.request('SUBSCRIBE', { id: 's', destination: '/topic/orders.*', ack: 'client' });
  const back = await RawStomp.connect(t, port, { 'client-id': 'worker-1' });
  await back.request('SUBSCRIBE', { id: 's', destination: '/topic/orders.#', ack: 'client-individual' });
  const again = await back.next('MESSAGE');
  assert.equal(again.body.toString(), 'order-1');
  assert.equal(again.header('redelivered'), 'true');
  assert.ok(await other.quiet(200), 'the redelivery went to worker-1 only');
});

test('transactions: SENDs wait for COMMIT, ABORT drops them, a dropped connection aborts', async (t) => {
  const { port } = await stompBroker(t);
  const sub = await RawStomp.connect(t, port);
  await sub.request('SUBSCRIBE', { id: 's', destination: 'tx' });
  const c = await RawStomp.connect(t, port);
  await c.request('BEGIN', { transaction: 't1' });
  await c.request('SEND', { destination: 'tx', transaction: 't1' }, 'a');
  await c.request('SEND', { destination: 'tx', transaction: 't1' }, 'b');
  assert.ok(await sub.quiet(200), 'nothing before COMMIT');
  await c.request('COMMIT', { transaction: 't1' });
  assert.equal((await sub.next('MESSAGE')).body.toString(), 'a');
  assert.equal((await sub.next('MESSAGE')).body.toString(), 'b');

  await c.request('BEGIN', { transaction: 't2' });
  await c.request('SEND', { destination: 'tx', transaction: 't2' }, 'dropped');
  await c.request('ABORT', { transaction: 't2' });
  await c.request('BEGIN', { transaction: 't3' });
  await c.request('SEND', { destination: 'tx', transaction: 't3' }, 'lost');
  c.socket.destroy();
  assert.ok(await sub.quiet(300), 'aborted and unfinished transactions deliver nothing');

  const d = await RawStomp.connect(t, port);
  d.send(frame('COMMIT', { transaction: 'never' }));
  assert.match((await d.next('ERROR')).header('message') ?? '', /transaction 'never', which is not open/);
});

test('an ACK in an aborted transaction leaves the message unacknowledged', async (t) => {
  const { port } = await stompBroker(t, ['--max-inflight', '1']);
  const c = await RawStomp.connect(t, port);
  await c.request('SUBSCRIBE', { id: 's', destination: 'w', ack: 'client-individual' });
  const pub = await RawStomp.connect(t, port);
  await pub.request('SEND', { destination: 'w' }, 'first');
  await pub.request('SEND', { destination: 'w' }, 'second');
  const m = await c.next('MESSAGE');
  await c.request('BEGIN', { transaction: 'x' });
  await c.request('ACK', { id: m.header('ack')!, transaction: 'x' });
  await c.request('ABORT', { transaction: 'x' });
  assert.ok(await c.quiet(200), 'the window of 1 is still taken');
  await c.request('ACK', { id: m.header('ack')! });
  assert.equal((await c.next('MESSAGE')).body.toString(), 'second');
});

test('DISCONNECT with a receipt gets its RECEIPT, then the server closes', async (t) => {
  const { port } = await stompBroker(t);
  const c = await RawStomp.connect(t, port);
  c.send(frame('DISCONNECT', { receipt: 'bye' }));
  assert.equal((await c.next('RECEIPT')).header('receipt-id'), 'bye');
  await c.closedWithin(2000);
});

test('1.0 and 1.1: ACK by message-id, headers escaped per version', async (t) => {
  const { port } = await stompBroker(t);
  const v11 = await RawStomp.connect(t, port, { 'accept-version': '1.1' });
  await v11.request('SUBSCRIBE', { id: 's', destination: 'v', ack: 'client' });
  const pub = await RawStomp.connect(t, port);
  await pub.request('SEND', { destination: 'v', 'x-note': 'a\\cb\\nc' }, 'hi');
  const m = await v11.next('MESSAGE');
  assert.equal(m.header('x-note'), 'a:b\nc');
  assert.equal(m.header('ack'), undefined, '1.1 has no ack header');
  await v11.request('ACK', { subscription: 's', 'message-id': m.header('message-id')! });

  const v10 = await RawStomp.connect(t, port, { 'accept-version': '1.0' });
  v10.send(frame('SUBSCRIBE', { destination: 'v', receipt: 'r' }));
  await v10.next('RECEIPT');
  await pub.request('SEND', { destination: 'v' }, 'plain');
  assert.equal((await v10.next('MESSAGE')).header('subscription'), 'v', '1.0 subscriptions without id are named by destination');
});

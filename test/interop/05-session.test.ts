/** Sessions: persistence while offline, session present, expiry, takeover, queue bound, restarts. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, clientId, collect, connect, connectCollecting, rawClient, sleep, startBroker, target, type Broker, type TestContext } from './harness.js';
import { PacketType, ackPacket, parseConnack, parseDisconnect, parsePublish, subscribePacket, connectPacket, describe, Prop } from './wire.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

test('3.1.1: a persistent session keeps subscriptions and queues QoS 1/2 while offline', async (t) => {
  const id = clientId('persist311');
  const first = await connectCollecting(t, broker.url, { protocolVersion: 4, clientId: id, clean: false }, 0, 10);
  assert.equal(first.connack.sessionPresent, false, 'no session at first');
  await first.client.subscribeAsync('sess/q', { qos: 2 });
  await first.client.endAsync();

  const pub = await connect(t, broker.url, { protocolVersion: 4 });
  await pub.publishAsync('sess/q', 'q1', { qos: 1 });
  await pub.publishAsync('sess/q', 'q2', { qos: 2 });

  const back = await connectCollecting(t, broker.url, { protocolVersion: 4, clientId: id, clean: false }, 2, 3000);
  assert.equal(back.connack.sessionPresent, true, 'session present on return');
  const got = await back.received;
  assert.deepEqual(
    got.map((m) => `${m.payload.toString()}@${m.packet.qos}`),
    ['q1@1', 'q2@2'],
  );

  const live = collect(back.client, 1);
  await pub.publishAsync('sess/q', 'live', { qos: 1 });
  assert.equal((await live)[0]!.payload.toString(), 'live', 'the subscription is still active');
});

test('3.1.1: clean session discards the previous session', async (t) => {
  const id = clientId('clean311');
  const a = await connect(t, broker.url, { protocolVersion: 4, clientId: id, clean: false });
  await a.subscribeAsync('sess/clean', { qos: 1 });
  await a.endAsync();
  const b = await connectCollecting(t, broker.url, { protocolVersion: 4, clientId: id, clean: true }, 0, 10);
  assert.equal(b.connack.sessionPresent, false);
  await b.client.endAsync();
  const c = await connectCollecting(t, broker.url, { protocolVersion: 4, clientId: id, clean: false }, 0, 10);
  assert.equal(c.connack.sessionPresent, false, 'the clean connection removed the old session');
});

test('5.0: a session is gone after its Session Expiry Interval, kept before', async (t) => {
  const shortId = clientId('exp-short');
  const longId = clientId('exp-long');
  for (const [id, expiry] of [
    [shortId, 1],
    [longId, 30],
  ] as const) {
    const c = await connect(t, broker.url, { protocolVersion: 5, clientId: id, clean: true, properties: { sessionExpiryInterval: expiry } });
    await c.subscribeAsync('sess/exp', { qos: 1 });
    await c.endAsync();
  }
  await sleep(2200);
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('sess/exp', 'after-expiry', { qos: 1 });
  const short = await connectCollecting(t, broker.url, { protocolVersion: 5, clientId: shortId, clean: false, properties: { sessionExpiryInterval: 30 } }, 0, 500);
  assert.equal(short.connack.sessionPresent, false, 'expired session not present');
  assert.deepEqual(
    (await short.received).map((m) => m.payload.toString()),
    [],
    'nothing queued for an expired session',
  );
  const long = await connectCollecting(t, broker.url, { protocolVersion: 5, clientId: longId, clean: false, properties: { sessionExpiryInterval: 30 } }, 1, 3000);
  assert.equal(long.connack.sessionPresent, true, 'unexpired session present');
  assert.equal((await long.received)[0]!.payload.toString(), 'after-expiry');
});

test('5.0: takeover closes the first connection with DISCONNECT 0x8E and continues the session with inflight messages', async (t) => {
  const id = clientId('takeover');
  const first = await rawClient(t, broker.port, 5);
  await first.handshake({ clientId: id, clean: true, props: [[Prop.SessionExpiryInterval, 60]] });
  first.send(subscribePacket(1, [{ filter: 'sess/take', options: 1 }], 5));
  await first.next(PacketType.SUBACK);

  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('sess/take', 'inflight', { qos: 1 });
  const delivered = parsePublish(await first.next(PacketType.PUBLISH), 5);
  assert.equal(delivered.payload.toString(), 'inflight');
  // Not acknowledged: the message stays inflight in the session.

  const second = await rawClient(t, broker.port, 5);
  second.send(connectPacket({ version: 5, clientId: id, clean: false, props: [[Prop.SessionExpiryInterval, 60]] }));
  const connack = parseConnack(await second.next(PacketType.CONNACK), 5);
  assert.equal(connack.code, 0);
  assert.equal(connack.sessionPresent, true, 'session continued');

  const rest = await first.expectClose();
  const again = parsePublish(await second.next(PacketType.PUBLISH), 5);
  assert.equal(again.payload.toString(), 'inflight', 'inflight message redelivered to the new connection');
  assert.equal(again.dup, true, 'DUP set on redelivery');
  const disc = rest.find((p) => p.type === PacketType.DISCONNECT);
  // mosquitto 2.0.11 closes the old connection without a DISCONNECT (docs/CONFORMANCE.md).
  if (disc !== undefined || target !== 'mosquitto') {
    assert.ok(disc, `the first connection got a DISCONNECT before close; it got: ${rest.map(describe).join(', ') || 'nothing'}`);
    assert.equal(parseDisconnect(disc).reason, 0x8e, 'Session taken over');
  }
  second.send(ackPacket(PacketType.PUBACK, again.packetId));
});

test('3.1.1: takeover closes the first connection and keeps the subscription', async (t) => {
  const id = clientId('takeover311');
  const first = await connect(t, broker.url, { protocolVersion: 4, clientId: id, clean: false });
  await first.subscribeAsync('sess/take4', { qos: 1 });
  const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
  const second = await connectCollecting(t, broker.url, { protocolVersion: 4, clientId: id, clean: false }, 0, 10);
  assert.equal(second.connack.sessionPresent, true);
  await Promise.race([closed, sleep(3000).then(() => assert.fail('first connection not closed within 3 s'))]);
  const pub = await connect(t, broker.url, { protocolVersion: 4 });
  const got = collect(second.client, 1);
  await pub.publishAsync('sess/take4', 'to-second', { qos: 1 });
  assert.equal((await got)[0]!.payload.toString(), 'to-second');
});

test('--max-queued-messages: extra messages for an offline session are dropped, the rest arrive', async (t) => {
  const b = await brokerFor(t, { args: ['--max-queued-messages', '5'] });
  const id = clientId('bounded');
  const s = await connect(t, b.url, { protocolVersion: 4, clientId: id, clean: false });
  await s.subscribeAsync('sess/bound', { qos: 1 });
  await s.endAsync();
  const pub = await connect(t, b.url, { protocolVersion: 4 });
  for (let i = 0; i < 10; i++) await pub.publishAsync('sess/bound', String(i), { qos: 1 });
  const back = await connectCollecting(t, b.url, { protocolVersion: 4, clientId: id, clean: false }, 0, 1000);
  const got = (await back.received).map((m) => m.payload.toString());
  assert.deepEqual(got, ['0', '1', '2', '3', '4'], 'the first five queued messages arrive, the rest were dropped');
});

async function persistentSubscriber(t: TestContext, b: Broker, id: string, topic: string, qos: 1 | 2): Promise<void> {
  const s = await connect(t, b.url, { protocolVersion: 5, clientId: id, clean: false, properties: { sessionExpiryInterval: 300 } });
  await s.subscribeAsync(topic, { qos });
  await s.endAsync();
}

test('offline queue, retained messages and persistent sessions survive kill -9 and restart', async (t) => {
  const b = await brokerFor(t, { persistence: true });
  const id = clientId('k9');
  await persistentSubscriber(t, b, id, 'k9/q', 1);
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  for (let i = 0; i < 3; i++) await pub.publishAsync('k9/q', `m${i}`, { qos: 1 });
  await pub.publishAsync('k9/r', 'kept', { qos: 1, retain: true });
  pub.end(true);
  if (target === 'mosquitto') await sleep(1500); // mosquitto saves on its autosave tick, not per ack
  await b.kill9();
  await b.restart();

  const back = await connectCollecting(t, b.url, { protocolVersion: 5, clientId: id, clean: false, properties: { sessionExpiryInterval: 300 } }, 3, 5000);
  assert.equal(back.connack.sessionPresent, true, 'persistent session survived');
  assert.deepEqual(
    (await back.received).map((m) => m.payload.toString()),
    ['m0', 'm1', 'm2'],
  );
  const probe = await connectCollecting(t, b.url, { protocolVersion: 5 }, 1, 3000);
  await probe.client.subscribeAsync('k9/r', { qos: 1 });
  const [r] = await probe.received;
  assert.equal(r!.payload.toString(), 'kept');
  assert.equal(r!.packet.retain, true);
});

for (const how of ['SIGTERM', 'kill -9'] as const) {
  test(`QoS 2 to an offline persistent subscriber arrives exactly once across a restart (${how})`, async (t) => {
    const b = await brokerFor(t, { persistence: true });
    const id = clientId('eo');
    await persistentSubscriber(t, b, id, 'eo/t', 2);
    const pub = await connect(t, b.url, { protocolVersion: 5 });
    const n = 20;
    for (let i = 0; i < n; i++) await pub.publishAsync('eo/t', String(i), { qos: 2 });
    pub.end(true);
    if (how === 'SIGTERM') {
      const code = await b.stop('SIGTERM');
      assert.equal(code, 0, 'clean exit on SIGTERM');
    } else {
      if (target === 'mosquitto') await sleep(1500);
      await b.kill9();
    }
    await b.restart();
    const back = await connectCollecting(t, b.url, { protocolVersion: 5, clientId: id, clean: false, properties: { sessionExpiryInterval: 300 } }, 0, 2500);
    assert.equal(back.connack.sessionPresent, true);
    const got = (await back.received).map((m) => Number(m.payload.toString()));
    assert.deepEqual(
      got,
      Array.from({ length: n }, (_, i) => i),
      `each of ${n} messages exactly once, in order`,
    );
  });
}

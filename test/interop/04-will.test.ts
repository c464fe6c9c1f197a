/** Will messages: on abnormal close only, DISCONNECT 0x04, Will Delay Interval, properties, retain. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientId, collect, connect, dropSocket, gather, startBroker, type Broker } from './harness.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion}: will is published when the socket drops, not after DISCONNECT`, async (t) => {
    const topic = `will/drop/v${protocolVersion}`;
    const watcher = await connect(t, broker.url, { protocolVersion });
    await watcher.subscribeAsync(topic, { qos: 1 });

    const polite = await connect(t, broker.url, { protocolVersion, will: { topic, payload: Buffer.from('polite'), qos: 1, retain: false } });
    const none = gather(watcher, 700);
    await polite.endAsync();
    assert.deepEqual(
      (await none).map((m) => m.payload.toString()),
      [],
      'no will after a normal DISCONNECT',
    );

    const crasher = await connect(t, broker.url, { protocolVersion, will: { topic, payload: Buffer.from('crashed'), qos: 1, retain: false } });
    const got = collect(watcher, 1, 3000, 'will message');
    dropSocket(crasher);
    const [m] = await got;
    assert.equal(m!.payload.toString(), 'crashed');
    assert.equal(m!.packet.qos, 1, 'will QoS kept');
  });
}

test('5.0: DISCONNECT with reason 0x04 publishes the will', async (t) => {
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  await watcher.subscribeAsync('will/x04', { qos: 1 });
  const c = await connect(t, broker.url, { protocolVersion: 5, will: { topic: 'will/x04', payload: Buffer.from('with-will'), qos: 1, retain: false } });
  const got = collect(watcher, 1, 3000, 'will after DISCONNECT 0x04');
  await c.endAsync(false, { reasonCode: 0x04 });
  assert.equal((await got)[0]!.payload.toString(), 'with-will');
});

test('5.0: Will Delay Interval delays the will', async (t) => {
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  await watcher.subscribeAsync('will/delay', { qos: 1 });
  const c = await connect(t, broker.url, {
    protocolVersion: 5,
    clean: true,
    properties: { sessionExpiryInterval: 30 },
    will: { topic: 'will/delay', payload: Buffer.from('late'), qos: 1, retain: false, properties: { willDelayInterval: 2 } },
  });
  const got = collect(watcher, 1, 5000, 'delayed will');
  const dropped = Date.now();
  dropSocket(c);
  await got;
  const elapsed = Date.now() - dropped;
  assert.ok(elapsed >= 1700, `will arrived after ${elapsed} ms, expected about 2000 ms`);
  assert.ok(elapsed < 4500, `will arrived after ${elapsed} ms, expected about 2000 ms`);
});

test('5.0: reconnecting within the Will Delay Interval cancels the will', async (t) => {
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  await watcher.subscribeAsync('will/cancel', { qos: 1 });
  const id = clientId('will-cancel');
  const opts = {
    protocolVersion: 5 as const,
    clientId: id,
    clean: false,
    properties: { sessionExpiryInterval: 30 },
    will: { topic: 'will/cancel', payload: Buffer.from('should-not-arrive'), qos: 1 as const, retain: false, properties: { willDelayInterval: 2 } },
  };
  const first = await connect(t, broker.url, opts);
  const none = gather(watcher, 3200);
  dropSocket(first);
  await new Promise((r) => setTimeout(r, 300));
  const again = await connect(t, broker.url, { ...opts, will: undefined });
  assert.deepEqual(
    (await none).map((m) => m.payload.toString()),
    [],
    'no will when the session came back in time',
  );
  await again.endAsync();
});

test('5.0: will properties pass through unchanged', async (t) => {
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  await watcher.subscribeAsync('will/props', { qos: 1 });
  const c = await connect(t, broker.url, {
    protocolVersion: 5,
    will: {
      topic: 'will/props',
      payload: Buffer.from('{"state":"offline"}'),
      qos: 1,
      retain: false,
      properties: {
        contentType: 'application/json',
        payloadFormatIndicator: true,
        responseTopic: 'will/reply',
        correlationData: Buffer.from([1, 2, 3]),
        userProperties: { device: 'd-17', site: 'north' },
      },
    },
  });
  const got = collect(watcher, 1, 3000, 'will with properties');
  dropSocket(c);
  const p = (await got)[0]!.packet.properties ?? {};
  assert.equal(p.contentType, 'application/json');
  assert.equal(p.payloadFormatIndicator, true);
  assert.equal(p.responseTopic, 'will/reply');
  assert.deepEqual([...(p.correlationData ?? [])], [1, 2, 3]);
  assert.deepEqual({ ...p.userProperties }, { device: 'd-17', site: 'north' });
});

test('a will with retain set becomes the retained message', async (t) => {
  const c = await connect(t, broker.url, { protocolVersion: 4, will: { topic: 'will/retained', payload: Buffer.from('gone'), qos: 1, retain: true } });
  const probe = await connect(t, broker.url, { protocolVersion: 4 });
  await probe.subscribeAsync('will/retained', { qos: 1 });
  const live = collect(probe, 1, 3000, 'live will');
  dropSocket(c);
  await live;
  const late = await connect(t, broker.url, { protocolVersion: 4 });
  const got = collect(late, 1, 2000, 'retained will for a new subscriber');
  await late.subscribeAsync('will/retained', { qos: 1 });
  const [m] = await got;
  assert.equal(m!.payload.toString(), 'gone');
  assert.equal(m!.packet.retain, true);
});

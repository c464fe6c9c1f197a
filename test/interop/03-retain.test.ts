/** Retained messages: set, replace, delete, retain flag on delivery, Retain Handling, expiry, bound. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, collect, connect, gather, junctionOnly, sleep, startBroker, type Broker } from './harness.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

async function retainedOn(filter: string, protocolVersion: 4 | 5 = 4, url = broker.url): Promise<Array<{ topic: string; payload: string; retain: boolean }>> {
  const sub = await connect(null, url, { protocolVersion });
  try {
    const all = gather(sub, 500);
    await sub.subscribeAsync(filter, { qos: 1 });
    return (await all).map((m) => ({ topic: m.topic, payload: m.payload.toString(), retain: m.packet.retain })).sort((a, b) => a.topic.localeCompare(b.topic));
  } finally {
    sub.end(true);
  }
}

test('retained message is set, replaced and deleted by an empty payload', async (t) => {
  const pub = await connect(t, broker.url, { protocolVersion: 4 });
  await pub.publishAsync('ret/a', 'one', { qos: 1, retain: true });
  assert.deepEqual(await retainedOn('ret/a'), [{ topic: 'ret/a', payload: 'one', retain: true }]);
  await pub.publishAsync('ret/a', 'two', { qos: 1, retain: true });
  assert.deepEqual(await retainedOn('ret/a'), [{ topic: 'ret/a', payload: 'two', retain: true }], 'replaced');
  await pub.publishAsync('ret/a', '', { qos: 1, retain: true });
  assert.deepEqual(await retainedOn('ret/a'), [], 'deleted by an empty retained payload');
});

test('retained messages are delivered on subscribe to matching wildcards, with the retain flag', async (t) => {
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('retw/x/1', 'a', { qos: 1, retain: true });
  await pub.publishAsync('retw/y/1', 'b', { qos: 0, retain: true });
  await pub.publishAsync('retw/x/2', 'c', { qos: 2, retain: true });
  await sleep(100);
  assert.deepEqual(await retainedOn('retw/+/1', 5), [
    { topic: 'retw/x/1', payload: 'a', retain: true },
    { topic: 'retw/y/1', payload: 'b', retain: true },
  ]);
  assert.equal((await retainedOn('retw/#', 4)).length, 3);
});

test('live messages reach existing subscribers with retain 0, unless Retain As Published', async (t) => {
  const plain4 = await connect(t, broker.url, { protocolVersion: 4 });
  const plain5 = await connect(t, broker.url, { protocolVersion: 5 });
  const rap = await connect(t, broker.url, { protocolVersion: 5 });
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await plain4.subscribeAsync('retl/t', { qos: 1 });
  await plain5.subscribeAsync('retl/t', { qos: 1, rap: false });
  await rap.subscribeAsync('retl/t', { qos: 1, rap: true });
  const [a, b, c] = [collect(plain4, 1), collect(plain5, 1), collect(rap, 1)];
  await pub.publishAsync('retl/t', 'live', { qos: 1, retain: true });
  assert.equal((await a)[0]!.packet.retain, false, '3.1.1 subscriber: retain 0 on live delivery');
  assert.equal((await b)[0]!.packet.retain, false, '5.0 subscriber: retain 0 on live delivery');
  assert.equal((await c)[0]!.packet.retain, true, 'Retain As Published keeps retain 1');
});

test('Retain Handling 0 sends on every subscribe, 1 only on a new subscription, 2 never', async (t) => {
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('reth/t', 'kept', { qos: 1, retain: true });
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  const count = async (rh: 0 | 1 | 2): Promise<number> => {
    const all = gather(sub, 400);
    await sub.subscribeAsync('reth/t', { qos: 1, rh });
    return (await all).length;
  };
  assert.equal(await count(0), 1, 'rh 0, new subscription');
  assert.equal(await count(0), 1, 'rh 0, existing subscription');
  assert.equal(await count(1), 0, 'rh 1, existing subscription');
  await sub.unsubscribeAsync('reth/t');
  assert.equal(await count(1), 1, 'rh 1, new subscription');
  await sub.unsubscribeAsync('reth/t');
  assert.equal(await count(2), 0, 'rh 2, new subscription');
});

test('a retained message with Message Expiry Interval is gone after it expires', async (t) => {
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('rete/t', 'short', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
  await pub.publishAsync('rete/keep', 'long', { qos: 1, retain: true, properties: { messageExpiryInterval: 60 } });
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  const before = gather(sub, 400);
  await sub.subscribeAsync('rete/t', { qos: 1 });
  const fresh = await before;
  assert.equal(fresh.length, 1, 'delivered before expiry');
  const left = fresh[0]!.packet.properties?.messageExpiryInterval;
  assert.ok(left !== undefined && left <= 1, `expiry property present and not above 1 s, got ${left}`);
  await sleep(2200);
  assert.deepEqual(await retainedOn('rete/#', 5), [{ topic: 'rete/keep', payload: 'long', retain: true }], 'only the unexpired one remains');
});

test('--max-retained-messages: new topics beyond the bound are not retained, existing ones can be replaced', async (t) => {
  if (junctionOnly(t, '--max-retained-messages has no mosquitto 2.0 equivalent')) return;
  const b = await brokerFor(t, { args: ['--max-retained-messages', '3'] });
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  const live = await connect(t, b.url, { protocolVersion: 5 });
  await live.subscribeAsync('mr/#', { qos: 1 });
  const liveGot = collect(live, 5, 3000, 'live messages (the bound must not drop live delivery)');
  for (let i = 0; i < 5; i++) {
    // The publisher may get a failure reason for the refused retain; the message itself still flows.
    await pub.publishAsync(`mr/${i}`, `v${i}`, { qos: 1, retain: true }).catch(() => undefined);
  }
  assert.equal((await liveGot).length, 5);
  assert.deepEqual(
    (await retainedOn('mr/#', 5, b.url)).map((m) => m.topic),
    ['mr/0', 'mr/1', 'mr/2'],
    'the first three topics are retained',
  );
  await pub.publishAsync('mr/0', 'replaced', { qos: 1, retain: true });
  const after = await retainedOn('mr/#', 5, b.url);
  assert.equal(after.find((m) => m.topic === 'mr/0')?.payload, 'replaced', 'an existing topic can be replaced at the bound');
  await pub.publishAsync('mr/1', '', { qos: 1, retain: true });
  await pub.publishAsync('mr/9', 'new', { qos: 1, retain: true });
  assert.deepEqual(
    (await retainedOn('mr/#', 5, b.url)).map((m) => m.topic),
    ['mr/0', 'mr/2', 'mr/9'],
    'deleting one frees a slot',
  );
});

/** PUBLISH and SUBSCRIBE: QoS in both directions, wildcards, $-topics, filter validation, order, overlap. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientId, collect, connect, gather, junctionOnly, rawClient, startBroker, subscribeCodes, type Broker, type MqttClient } from './harness.js';
import { PacketType, parseSuback, subscribePacket, unsubscribePacket } from './wire.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

const versionOpts = {
  3: { protocolId: 'MQIsdp' as const, protocolVersion: 3 as const },
  4: { protocolVersion: 4 as const },
  5: { protocolVersion: 5 as const },
};

for (const version of [3, 4, 5] as const) {
  test(`MQTT ${version}: QoS 0/1/2 publish in, delivered at min(publish, subscription) QoS`, async (t) => {
    const sub = await connect(t, broker.url, versionOpts[version]);
    const pub = await connect(t, broker.url, versionOpts[version]);
    const base = `qos/v${version}`;
    for (const q of [0, 1, 2] as const) {
      const granted = await subscribeCodes(sub, `${base}/sub${q}`, { qos: q });
      assert.deepEqual(granted, [q], `granted QoS for a QoS ${q} subscription`);
    }
    const got = collect(sub, 9, 5000);
    for (const subQ of [0, 1, 2]) {
      for (const pubQ of [0, 1, 2] as const) await pub.publishAsync(`${base}/sub${subQ}`, `p${pubQ}`, { qos: pubQ });
    }
    const msgs = await got;
    for (const m of msgs) {
      const subQ = Number(m.topic.slice(-1));
      const pubQ = Number(m.payload.toString().slice(1));
      assert.equal(m.packet.qos, Math.min(subQ, pubQ), `${m.topic} published at QoS ${pubQ} arrives at QoS ${Math.min(subQ, pubQ)}`);
    }
    const seen = msgs.map((m) => `${m.topic}:${m.payload.toString()}`).sort();
    assert.equal(new Set(seen).size, 9, `each message once: ${seen.join(', ')}`);
  });
}

async function received(filter: string, topics: string[]): Promise<string[]> {
  const sub = await connect(null, broker.url, { protocolVersion: 4 });
  const pub = await connect(null, broker.url, { protocolVersion: 4 });
  try {
    await sub.subscribeAsync(filter, { qos: 1 });
    const all = gather(sub, 600);
    for (const topic of topics) await pub.publishAsync(topic, topic, { qos: 1 });
    return (await all).map((m) => m.topic).sort();
  } finally {
    sub.end(true);
    pub.end(true);
  }
}

test('single-level wildcard + matches exactly one level, including an empty one', async () => {
  const got = await received('wc1/+/c', ['wc1/b/c', 'wc1//c', 'wc1/b/d', 'wc1/c', 'wc1/b/c/d', 'wc1x/b/c']);
  assert.deepEqual(got, ['wc1//c', 'wc1/b/c']);
});

test('multi-level wildcard # matches the parent and every level below', async () => {
  const got = await received('wc2/#', ['wc2', 'wc2/a', 'wc2/a/b/c', 'wc2x', 'other/wc2']);
  assert.deepEqual(got, ['wc2', 'wc2/a', 'wc2/a/b/c']);
});

test('$SYS topics are not matched by # or +/brokers/# but are by $SYS/#, and clients cannot publish there', async (t) => {
  if (junctionOnly(t, "the topics of Junction's own client events")) return;
  const hash = await connect(t, broker.url, { protocolVersion: 5 });
  const plus = await connect(t, broker.url, { protocolVersion: 5 });
  const sys = await connect(t, broker.url, { protocolVersion: 5 });
  await hash.subscribeAsync('#', { qos: 1 });
  await plus.subscribeAsync('+/brokers/#', { qos: 1 });
  await sys.subscribeAsync('$SYS/#', { qos: 1 });
  const [gh, gp, gs] = [gather(hash, 800), gather(plus, 800), gather(sys, 800)];
  // The broker publishes $SYS/brokers/{node}/clients/{id}/connected for this client.
  const id = clientId('sys-event');
  const pub = await connect(t, broker.url, { protocolVersion: 5, clientId: id });
  await assert.rejects(pub.publishAsync('$SYS/x', 'sys', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87, 'a client publish under $SYS is refused');
  const only = async (p: Promise<Array<{ topic: string }>>): Promise<string[]> => (await p).map((m) => m.topic).filter((x) => x.startsWith('$SYS/'));
  assert.deepEqual(await only(gh), [], '# does not receive $SYS topics');
  assert.deepEqual(await only(gp), [], '+/brokers/# does not receive $SYS topics');
  const seen = await only(gs);
  assert.ok(
    seen.some((x) => x.endsWith(`/clients/${id}/connected`)),
    `$SYS/# receives the connect event (got ${seen.join(', ')})`,
  );
  assert.ok(!seen.includes('$SYS/x'), 'the refused publish reached nobody');
});

const invalidFilters = ['inv/#/b', 'inv+', 'inv/a+/c', '#inv', 'inv/b#'];

test('5.0: invalid filters get SUBACK 0x8F, valid ones in the same SUBSCRIBE are granted', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 closes the connection on an invalid filter instead of SUBACK 0x8F')) return;
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(subscribePacket(7, [{ filter: 'valid/one', options: 1 }, ...invalidFilters.map((filter) => ({ filter, options: 1 }))], 5));
  const suback = parseSuback(await raw.next(PacketType.SUBACK), 5);
  assert.equal(suback.packetId, 7);
  assert.deepEqual(suback.codes, [1, ...invalidFilters.map(() => 0x8f)]);
});

test('1000 QoS 1 messages on one topic arrive in order', async (t) => {
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await sub.subscribeAsync('order/t', { qos: 1 });
  const got = collect(sub, 1000, 15000);
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < 1000; i++) sends.push(pub.publishAsync('order/t', String(i), { qos: 1 }));
  await Promise.all(sends);
  const seq = (await got).map((m) => Number(m.payload.toString()));
  const firstOff = seq.findIndex((v, i) => v !== i);
  assert.equal(firstOff, -1, `out of order at index ${firstOff}: got ${seq.slice(Math.max(0, firstOff - 2), firstOff + 3).join(',')}`);
});

test('3.1.1: overlapping subscriptions deliver one copy at the highest QoS', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 delivers one copy per matching subscription (allowed by 3.1.1)')) return;
  const sub = await connect(t, broker.url, { protocolVersion: 4 });
  const pub = await connect(t, broker.url, { protocolVersion: 4 });
  await sub.subscribeAsync({ 'ov4/+': { qos: 0 }, 'ov4/#': { qos: 2 }, 'ov4/a': { qos: 1 } });
  const all = gather(sub, 800);
  await pub.publishAsync('ov4/a', 'x', { qos: 2 });
  const msgs = await all;
  assert.equal(msgs.length, 1, `one copy, got ${msgs.length}`);
  assert.equal(msgs[0]!.packet.qos, 2, 'at the highest granted QoS');
});

test('5.0: overlapping subscriptions deliver one copy carrying every Subscription Identifier', async (t) => {
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await sub.subscribeAsync('ov5/+', { qos: 1, properties: { subscriptionIdentifier: 11 } });
  await sub.subscribeAsync('ov5/#', { qos: 1, properties: { subscriptionIdentifier: 22 } });
  const all = gather(sub, 800);
  await pub.publishAsync('ov5/a', 'x', { qos: 1 });
  const msgs = await all;
  if (msgs.length !== 1 && junctionOnly(t, 'mosquitto 2.0.11 sends one copy per subscription (allowed by 5.0)')) return;
  assert.equal(msgs.length, 1, `one copy, got ${msgs.length}`);
  const ids = msgs[0]!.packet.properties?.subscriptionIdentifier;
  const list = (Array.isArray(ids) ? ids : [ids]).slice().sort((a, b) => Number(a) - Number(b));
  assert.deepEqual(list, [11, 22]);
});

test('unsubscribe stops delivery', async (t) => {
  for (const protocolVersion of [4, 5] as const) {
    const sub: MqttClient = await connect(t, broker.url, { protocolVersion });
    const pub = await connect(t, broker.url, { protocolVersion });
    await sub.subscribeAsync('unsub/t', { qos: 1 });
    const first = collect(sub, 1);
    await pub.publishAsync('unsub/t', 'before', { qos: 1 });
    await first;
    await sub.unsubscribeAsync('unsub/t');
    const later = gather(sub, 500);
    await pub.publishAsync('unsub/t', 'after', { qos: 1 });
    assert.deepEqual(
      (await later).map((m) => m.payload.toString()),
      [],
      `v${protocolVersion}: nothing after UNSUBSCRIBE`,
    );
  }
});

test('5.0: UNSUBACK reason 0x11 for a filter that was not subscribed, 0x00 for one that was', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(subscribePacket(1, [{ filter: 'known/filter', options: 1 }], 5));
  await raw.next(PacketType.SUBACK);
  raw.send(unsubscribePacket(2, ['known/filter', 'never/subscribed'], 5));
  const unsuback = parseSuback(await raw.next(PacketType.UNSUBACK), 5);
  assert.equal(unsuback.packetId, 2);
  assert.deepEqual(unsuback.codes, [0x00, 0x11]);
});

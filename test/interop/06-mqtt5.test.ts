/** MQTT 5 features: aliases, flow control, sizes, expiry, properties, No Local, shared subscriptions, AUTH. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, clientId, collect, connect, connectCollecting, gather, junctionOnly, rawClient, sleep, startBroker, type Broker } from './harness.js';
import {
  PacketType,
  Prop,
  ackPacket,
  connectPacket,
  describe,
  parseAck,
  parseConnack,
  parseDisconnect,
  parsePublish,
  parseSuback,
  prop,
  publishPacket,
  subscribePacket,
  unsubscribePacket,
  type RawPacket,
} from './wire.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

function disconnectReason(packets: RawPacket[]): number | undefined {
  const d = packets.find((p) => p.type === PacketType.DISCONNECT);
  return d ? parseDisconnect(d).reason : undefined;
}

test('topic alias client to broker: an alias set once is resolved for later PUBLISHes', async (t) => {
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  await sub.subscribeAsync('alias/in', { qos: 1 });
  const got = collect(sub, 2);
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(publishPacket({ version: 5, topic: 'alias/in', payload: 'first', qos: 1, packetId: 1, props: [[Prop.TopicAlias, 1]] }));
  await raw.next(PacketType.PUBACK);
  raw.send(publishPacket({ version: 5, topic: '', payload: 'second', qos: 1, packetId: 2, props: [[Prop.TopicAlias, 1]] }));
  await raw.next(PacketType.PUBACK);
  assert.deepEqual(
    (await got).map((m) => `${m.topic}:${m.payload.toString()}`),
    ['alias/in:first', 'alias/in:second'],
  );
});

test('topic alias client to broker via MQTT.js autoUseTopicAlias', async (t) => {
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  await sub.subscribeAsync('alias/auto', { qos: 1 });
  const got = collect(sub, 3);
  const pub = await connect(t, broker.url, { protocolVersion: 5, autoUseTopicAlias: true });
  for (let i = 0; i < 3; i++) await pub.publishAsync('alias/auto', String(i), { qos: 1 });
  assert.deepEqual(
    (await got).map((m) => m.topic),
    ['alias/auto', 'alias/auto', 'alias/auto'],
  );
});

test('topic alias broker to client: the 2nd delivery of a topic uses the alias', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 never assigns outbound topic aliases')) return;
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake({ props: [[Prop.TopicAliasMaximum, 5]] });
  raw.send(subscribePacket(1, [{ filter: 'alias/out', options: 0 }], 5));
  await raw.next(PacketType.SUBACK);
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  for (let i = 0; i < 3; i++) await pub.publishAsync('alias/out', String(i), { qos: 0 });
  const pubs: ReturnType<typeof parsePublish>[] = [];
  for (let i = 0; i < 3; i++) pubs.push(parsePublish(await raw.next(PacketType.PUBLISH), 5));
  const alias = prop(pubs[0]!.props, Prop.TopicAlias);
  assert.equal(pubs[0]!.topic, 'alias/out', 'the first delivery names the topic');
  assert.equal(pubs[1]!.topic, '', `the 2nd delivery sends an empty topic, got '${pubs[1]!.topic}'`);
  const second = prop(pubs[1]!.props, Prop.TopicAlias);
  assert.ok(typeof second === 'number' && second >= 1 && second <= 5, `alias within the client's maximum, got ${second}`);
  assert.equal(second, alias, 'the alias was set on the first delivery');
  assert.deepEqual(
    pubs.map((p) => p.payload.toString()),
    ['0', '1', '2'],
  );
});

test('topic alias broker to client: MQTT.js resolves them to the right topics', async (t) => {
  const sub = await connect(t, broker.url, { protocolVersion: 5, properties: { topicAliasMaximum: 2 } });
  await sub.subscribeAsync('alias/mjs/#', { qos: 1 });
  const got = collect(sub, 9);
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  for (let i = 0; i < 3; i++) for (const leaf of ['a', 'b', 'c']) await pub.publishAsync(`alias/mjs/${leaf}`, leaf, { qos: 1 });
  for (const m of await got) assert.equal(m.topic, `alias/mjs/${m.payload.toString()}`);
});

test('a topic alias above the maximum gets DISCONNECT 0x94', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  const connack = await raw.handshake();
  const max = Number(prop(connack.props, Prop.TopicAliasMaximum) ?? 0);
  raw.send(publishPacket({ version: 5, topic: 'alias/bad', payload: 'x', qos: 0, props: [[Prop.TopicAlias, max + 1]] }));
  const rest = await raw.expectClose();
  assert.equal(disconnectReason(rest), 0x94, `DISCONNECT 0x94 before close; got ${rest.map(describe).join(', ') || 'nothing'}`);
});

test('outbound flow: never more unacknowledged PUBLISHes than the client Receive Maximum', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 sends several PUBLISHes for one PUBACK, past the Receive Maximum (docs/CONFORMANCE.md)')) return;
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake({ props: [[Prop.ReceiveMaximum, 3]] });
  raw.send(subscribePacket(1, [{ filter: 'flow/out', options: 1 }], 5));
  await raw.next(PacketType.SUBACK);
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  for (let i = 0; i < 10; i++) await pub.publishAsync('flow/out', String(i), { qos: 1 });
  const first = (await raw.drain(700)).filter((p) => p.type === PacketType.PUBLISH).map((p) => parsePublish(p, 5));
  assert.equal(first.length, 3, `3 unacknowledged PUBLISHes at most, got ${first.length}`);
  raw.send(ackPacket(PacketType.PUBACK, first[0]!.packetId));
  const more = (await raw.drain(500)).filter((p) => p.type === PacketType.PUBLISH).map((p) => parsePublish(p, 5));
  assert.equal(more.length, 1, `one more after one PUBACK, got ${more.map((m) => `${m.payload.toString()}#${m.packetId}${m.dup ? ' dup' : ''}`).join(', ')}`);
  assert.equal(more[0]!.payload.toString(), '3', 'the next message in order');
});

test('a client exceeding our Receive Maximum gets DISCONNECT 0x93', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 does not hold clients to the Receive Maximum it announces (docs/CONFORMANCE.md)')) return;
  const b = await brokerFor(t, { args: ['--receive-maximum', '2'] });
  const raw = await rawClient(t, b.port, 5);
  const connack = await raw.handshake();
  assert.equal(prop(connack.props, Prop.ReceiveMaximum), 2);
  // QoS 2 stays in the quota until PUBCOMP, and we never send PUBREL.
  for (let id = 1; id <= 3; id++) raw.send(publishPacket({ version: 5, topic: 'flow/in', payload: 'x', qos: 2, packetId: id }));
  const rest = await raw.expectClose();
  assert.equal(disconnectReason(rest), 0x93, `DISCONNECT 0x93; got ${rest.map(describe).join(', ') || 'nothing'}`);
});

test('an inbound packet over --max-packet-size gets DISCONNECT 0x95', async (t) => {
  const b = await brokerFor(t, { args: ['--max-packet-size', '1024'] });
  const raw = await rawClient(t, b.port, 5);
  await raw.handshake();
  raw.send(publishPacket({ version: 5, topic: 'big/in', payload: Buffer.alloc(2000, 0x61), qos: 0 }));
  const rest = await raw.expectClose();
  assert.equal(disconnectReason(rest), 0x95, `DISCONNECT 0x95; got ${rest.map(describe).join(', ') || 'nothing'}`);
});

test('an outbound packet over the client Maximum Packet Size is dropped for that client only', async (t) => {
  const small = await connect(t, broker.url, { protocolVersion: 5, properties: { maximumPacketSize: 200 } });
  const large = await connect(t, broker.url, { protocolVersion: 5 });
  await small.subscribeAsync('big/out', { qos: 1 });
  await large.subscribeAsync('big/out', { qos: 1 });
  const [gs, gl] = [gather(small, 800), gather(large, 800)];
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('big/out', Buffer.alloc(500, 0x62), { qos: 1 });
  await pub.publishAsync('big/out', 'small', { qos: 1 });
  assert.deepEqual(
    (await gs).map((m) => m.payload.length),
    [5],
    'the limited client gets only the small message',
  );
  assert.deepEqual(
    (await gl).map((m) => m.payload.length),
    [500, 5],
    'the other client gets both',
  );
  assert.equal(small.connected, true, 'the limited client stays connected');
});

test('Message Expiry Interval is counted down while queued; expired messages are not delivered', async (t) => {
  const id = clientId('expiry');
  const opts = { protocolVersion: 5 as const, clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } };
  const s = await connect(t, broker.url, opts);
  await s.subscribeAsync('exp/q', { qos: 1 });
  await s.endAsync();
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('exp/q', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
  await pub.publishAsync('exp/q', 'long', { qos: 1, properties: { messageExpiryInterval: 10 } });
  await sleep(2100);
  const back = await connectCollecting(t, broker.url, opts, 0, 800);
  const got = await back.received;
  assert.deepEqual(
    got.map((m) => m.payload.toString()),
    ['long'],
    'the expired message is not delivered',
  );
  const left = got[0]!.packet.properties?.messageExpiryInterval;
  assert.ok(left !== undefined && left >= 6 && left <= 8, `expiry counted down from 10 by about 2 s, got ${left}`);
});

test('Payload Format Indicator 1 with invalid UTF-8 gets PUBACK 0x99 or DISCONNECT 0x99', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 does not validate payloads (validation is a MAY)')) return;
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(publishPacket({ version: 5, topic: 'pfi/t', payload: Buffer.from([0xff, 0xfe, 0x41]), qos: 1, packetId: 9, props: [[Prop.PayloadFormatIndicator, 1]] }));
  const p = await raw.next(undefined, 3000);
  if (p.type === PacketType.PUBACK) {
    assert.equal(parseAck(p).reason, 0x99, 'PUBACK reason Payload format invalid');
  } else {
    assert.equal(p.type, PacketType.DISCONNECT, `PUBACK or DISCONNECT, got ${describe(p)}`);
    assert.equal(parseDisconnect(p).reason, 0x99);
  }
});

test('content type, response topic, correlation data and user properties pass through unchanged', async (t) => {
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  await sub.subscribeAsync('props/t', { qos: 1 });
  const got = collect(sub, 1);
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(
    publishPacket({
      version: 5,
      topic: 'props/t',
      payload: 'p',
      qos: 1,
      packetId: 3,
      props: [
        [Prop.ContentType, 'text/plain; charset=utf-8'],
        [Prop.ResponseTopic, 'props/reply'],
        [Prop.CorrelationData, Buffer.from([0, 255, 7])],
        [Prop.UserProperty, ['k', 'v1']],
        [Prop.UserProperty, ['k', 'v2']],
        [Prop.UserProperty, ['other', 'ü']],
        [Prop.PayloadFormatIndicator, 1],
      ],
    }),
  );
  await raw.next(PacketType.PUBACK);
  const p = (await got)[0]!.packet.properties ?? {};
  assert.equal(p.contentType, 'text/plain; charset=utf-8');
  assert.equal(p.responseTopic, 'props/reply');
  assert.deepEqual([...(p.correlationData ?? [])], [0, 255, 7]);
  assert.deepEqual({ ...p.userProperties }, { k: ['v1', 'v2'], other: 'ü' }, 'user properties, repeated keys in order');
  assert.equal(p.payloadFormatIndicator, true);
});

test('No Local: a client does not receive its own publications', async (t) => {
  const c = await connect(t, broker.url, { protocolVersion: 5 });
  const other = await connect(t, broker.url, { protocolVersion: 5 });
  await c.subscribeAsync('nolocal/t', { qos: 1, nl: true });
  const all = gather(c, 700);
  await c.publishAsync('nolocal/t', 'own', { qos: 1 });
  await other.publishAsync('nolocal/t', 'other', { qos: 1 });
  assert.deepEqual(
    (await all).map((m) => m.payload.toString()),
    ['other'],
  );
});

test('shared subscriptions: each message to one member, roughly even; each group gets every message', async (t) => {
  const members = await Promise.all([0, 1, 2].map(() => connect(t, broker.url, { protocolVersion: 5 })));
  for (const m of members) await m.subscribeAsync('$share/g1/shared/t', { qos: 1 });
  const solo = await connect(t, broker.url, { protocolVersion: 5 });
  await solo.subscribeAsync('$share/g2/shared/t', { qos: 1 });
  const gathers = members.map((m) => gather(m, 1500));
  const soloGot = collect(solo, 30, 3000, 'messages to the second group');
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  for (let i = 0; i < 30; i++) await pub.publishAsync('shared/t', String(i), { qos: 1 });
  const per = (await Promise.all(gathers)).map((g) => g.map((m) => m.payload.toString()));
  const all = per.flat().sort((a, b) => Number(a) - Number(b));
  assert.deepEqual(
    all,
    Array.from({ length: 30 }, (_, i) => String(i)),
    'every message exactly once across the group',
  );
  for (const [i, got] of per.entries()) assert.ok(got.length >= 5 && got.length <= 15, `member ${i} got ${got.length} of 30, expected about 10`);
  assert.equal((await soloGot).length, 30);
});

test('$queue/topic is a shared subscription shorthand', async (t) => {
  if (junctionOnly(t, 'mosquitto has no $queue/')) return;
  const a = await connect(t, broker.url, { protocolVersion: 4 });
  const b = await connect(t, broker.url, { protocolVersion: 5 });
  await a.subscribeAsync('$queue/q/t', { qos: 1 });
  await b.subscribeAsync('$queue/q/t', { qos: 1 });
  const [ga, gb] = [gather(a, 1000), gather(b, 1000)];
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  for (let i = 0; i < 10; i++) await pub.publishAsync('q/t', String(i), { qos: 1 });
  const [ra, rb] = [(await ga).length, (await gb).length];
  assert.equal(ra + rb, 10, `each message once: ${ra} + ${rb}`);
  assert.ok(ra > 0 && rb > 0, `both members receive: ${ra} and ${rb}`);
});

test('shared subscriptions: an unacknowledged QoS 1 message of a member that leaves goes to another member', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 does not hand unacknowledged messages to another member')) return;
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake({ clean: true });
  raw.send(subscribePacket(1, [{ filter: '$share/g3/shared/leave', options: 1 }], 5));
  await raw.next(PacketType.SUBACK);
  const other = await connect(t, broker.url, { protocolVersion: 5 });
  await other.subscribeAsync('$share/g3/shared/leave', { qos: 1 });
  const seen = gather(other, 2500);
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  for (let i = 0; i < 4; i++) await pub.publishAsync('shared/leave', String(i), { qos: 1 });
  const held = (await raw.drain(400)).filter((p) => p.type === PacketType.PUBLISH).map((p) => parsePublish(p, 5).payload.toString());
  assert.ok(held.length > 0, 'the raw member received some messages (round robin)');
  raw.close(); // leaves without acknowledging
  const got = (await seen).map((m) => m.payload.toString()).sort();
  assert.deepEqual(got, ['0', '1', '2', '3'], `the remaining member ends up with every message (raw held ${held.join(',')})`);
});

test('PUBACK carries 0x10 No matching subscribers when nobody subscribes', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(publishPacket({ version: 5, topic: 'nobody/listens/here', payload: 'x', qos: 1, packetId: 4 }));
  const ack = parseAck(await raw.next(PacketType.PUBACK));
  assert.equal(ack.packetId, 4);
  assert.equal(ack.reason, 0x10);
});

test('CONNECT with an unknown Authentication Method gets CONNACK 0x8C', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  raw.send(connectPacket({ version: 5, clientId: clientId('auth'), props: [[Prop.AuthenticationMethod, 'X-UNKNOWN-METHOD']] }));
  const connack = parseConnack(await raw.next(PacketType.CONNACK), 5);
  assert.equal(connack.code, 0x8c, `CONNACK 0x8C Bad authentication method, got 0x${connack.code.toString(16)}`);
  await raw.expectClose();
});

test('Request Problem Information 0: no reason strings or user properties on acks', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake({ props: [[Prop.RequestProblemInformation, 0]] });
  raw.send(publishPacket({ version: 5, topic: 'nobody/rpi', payload: 'x', qos: 1, packetId: 5 }));
  const puback = parseAck(await raw.next(PacketType.PUBACK));
  raw.send(unsubscribePacket(6, ['never/rpi'], 5));
  const unsuback = parseSuback(await raw.next(PacketType.UNSUBACK), 5);
  raw.send(subscribePacket(7, [{ filter: 'ok/rpi', options: 1 }], 5));
  const suback = parseSuback(await raw.next(PacketType.SUBACK), 5);
  for (const [name, list] of [
    ['PUBACK', puback.props],
    ['UNSUBACK', unsuback.props],
    ['SUBACK', suback.props],
  ] as const) {
    assert.equal(prop(list, Prop.ReasonString), undefined, `${name} without Reason String`);
    assert.equal(prop(list, Prop.UserProperty), undefined, `${name} without User Property`);
  }
});

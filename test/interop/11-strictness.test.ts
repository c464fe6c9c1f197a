/**
 * Protocol strictness over raw frames, where the two protocol levels differ: fixed-header flags
 * per level (3.1 may set DUP on PUBREL, SUBSCRIBE and UNSUBSCRIBE), the client's Maximum Packet
 * Size against our CONNACK, acknowledgements of the wrong kind for a flow, malformed properties,
 * invalid filters in 3.1.1, and client publishes to `$` topics (every protocol).
 * JUNCTION_TEST_TARGET=mosquitto runs the parity cases against mosquitto 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientId, closedWith, connect, gather, junctionOnly, rawClient, sleep, startBroker, type Broker, type RawClient, type TestContext } from './harness.js';
import { PacketType, Prop, ackPacket, connectPacket, describe, parseAck, parseConnack, parsePublish, parseSuback, publishPacket, subscribePacket, unsubscribePacket, type Version } from './wire.js';
import { RawStomp, frame as stompFrame, stompBroker } from '../protocols/stomp/helpers.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

/** The packet with the DUP bit (bit 3 of the first byte) set. */
function withDup(packet: Buffer): Buffer {
  const copy = Buffer.from(packet);
  copy[0]! |= 0x08;
  return copy;
}

/** A raw client with a session that outlives the connection (3.1.1 clean session 0, 5.0 expiry 300 s). */
async function persistent(t: TestContext, version: Version, id: string): Promise<RawClient> {
  const raw = await rawClient(t, broker.port, version);
  await raw.handshake({ clientId: id, clean: false, props: version === 5 ? [[Prop.SessionExpiryInterval, 300]] : [] });
  return raw;
}

// --- 1. fixed-header flags per protocol level ------------------------------------------------

test('MQTT 3.1: a QoS 2 flow retried after a reconnect with DUP on PUBREL completes, the message delivered once', async (t) => {
  const topic = `strict/dup/${clientId('t')}`;
  const sub = await connect(t, broker.url, { protocolVersion: 4 });
  await sub.subscribeAsync(topic, { qos: 2 });
  const got = gather(sub, 1500);
  const id = clientId('v3');
  const first = await persistent(t, 3, id);
  first.send(publishPacket({ version: 3, topic, payload: 'once', qos: 2, packetId: 7 }));
  assert.equal(parseAck(await first.next(PacketType.PUBREC)).packetId, 7);
  first.close();
  await sleep(100);
  const again = await persistent(t, 3, id);
  again.send(withDup(ackPacket(PacketType.PUBREL, 7)));
  assert.equal(parseAck(await again.next(PacketType.PUBCOMP)).packetId, 7, 'PUBCOMP for the retried PUBREL');
  assert.deepEqual(
    (await got).map((m) => m.payload.toString()),
    ['once'],
  );
});

test('MQTT 3.1: SUBSCRIBE and UNSUBSCRIBE with DUP are answered', async (t) => {
  const raw = await rawClient(t, broker.port, 3);
  await raw.handshake({ clientId: clientId('v3') });
  raw.send(withDup(subscribePacket(3, [{ filter: 'strict/dup3/+', options: 1 }], 3)));
  const suback = parseSuback(await raw.next(PacketType.SUBACK), 3);
  assert.deepEqual([suback.packetId, suback.codes], [3, [1]]);
  raw.send(withDup(unsubscribePacket(4, ['strict/dup3/+'], 3)));
  assert.equal(parseSuback(await raw.next(PacketType.UNSUBACK), 3).packetId, 4);
});

for (const version of [4, 5] as const) {
  for (const [name, packet] of [
    ['PUBREL', withDup(ackPacket(PacketType.PUBREL, 9))],
    ['SUBSCRIBE', withDup(subscribePacket(9, [{ filter: 'strict/dup4', options: 1 }], version))],
    ['UNSUBSCRIBE', withDup(unsubscribePacket(9, ['strict/dup4'], version))],
  ] as const) {
    test(`MQTT ${version}: DUP on ${name} is malformed and closes the connection [MQTT-2.2.2-1]`, async (t) => {
      const raw = await rawClient(t, broker.port, version);
      await raw.handshake();
      raw.send(packet);
      await closedWith(raw, version, 0x81);
    });
  }
}

// --- 2. the client's Maximum Packet Size -----------------------------------------------------

test('MQTT 5: a CONNACK larger than the client Maximum Packet Size is not sent; the connection closes [MQTT-3.1.2-24]', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  raw.send(connectPacket({ version: 5, clientId: clientId('small'), props: [[Prop.MaximumPacketSize, 8]] }));
  const rest = await raw.expectClose();
  assert.deepEqual(rest.map(describe), [], 'nothing is sent, CONNACK least of all');
});

test('MQTT 5: a CONNACK within the client Maximum Packet Size is sent', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  raw.send(connectPacket({ version: 5, clientId: clientId('fits'), props: [[Prop.MaximumPacketSize, 128]] }));
  const connack = await raw.next(PacketType.CONNACK);
  assert.equal(parseConnack(connack, 5).code, 0);
  assert.ok(connack.body.length + 2 <= 128, `CONNACK of ${connack.body.length + 2} bytes`);
});

test('MQTT 5: a client that cannot take the CONNACK does not take over the session of its client id', async (t) => {
  if (junctionOnly(t, 'mosquitto takes the session over before it finds the CONNACK too large')) return;
  const id = clientId('owner');
  const owner = await rawClient(t, broker.port, 5);
  await owner.handshake({ clientId: id });
  const raw = await rawClient(t, broker.port, 5);
  raw.send(connectPacket({ version: 5, clientId: id, props: [[Prop.MaximumPacketSize, 8]] }));
  await raw.expectClose();
  owner.send(Buffer.from([0xc0, 0x00]));
  await owner.next(PacketType.PINGRESP);
  assert.equal(owner.closed, false, 'the connected client keeps its session');
});

// --- 3. acknowledgements of the wrong kind -----------------------------------------------------

interface WrongAck {
  readonly ack: PacketType;
  readonly qos: 1 | 2;
  readonly what: string;
}

const WRONG_ACKS: readonly WrongAck[] = [
  { ack: PacketType.PUBREC, qos: 1, what: 'PUBREC for a QoS 1 delivery' },
  { ack: PacketType.PUBCOMP, qos: 1, what: 'PUBCOMP for a QoS 1 delivery' },
  { ack: PacketType.PUBACK, qos: 2, what: 'PUBACK for a QoS 2 delivery' },
  { ack: PacketType.PUBCOMP, qos: 2, what: 'PUBCOMP for a QoS 2 delivery still waiting for PUBREC' },
];

for (const version of [4, 5] as const) {
  for (const c of WRONG_ACKS) {
    test(`MQTT ${version}: ${c.what} closes the connection${version === 5 ? ' with DISCONNECT 0x82' : ''}, and the message is resent`, async (t) => {
      const id = clientId('ack');
      const topic = `strict/ack/${id}`;
      const raw = await persistent(t, version, id);
      raw.send(subscribePacket(1, [{ filter: topic, options: c.qos }], version));
      await raw.next(PacketType.SUBACK);
      const pub = await connect(t, broker.url, { protocolVersion: 4 });
      await pub.publishAsync(topic, 'keep me', { qos: c.qos });
      const delivered = parsePublish(await raw.next(PacketType.PUBLISH), version);
      raw.send(ackPacket(c.ack, delivered.packetId));
      await closedWith(raw, version, 0x82);
      const again = await persistent(t, version, id);
      const resent = parsePublish(await again.nextOf(PacketType.PUBLISH), version);
      assert.deepEqual({ payload: resent.payload.toString(), qos: resent.qos, dup: resent.dup }, { payload: 'keep me', qos: c.qos, dup: true }, 'the same message again, marked as a redelivery');
    });
  }
}

// --- 4. malformed properties, invalid filters -------------------------------------------------

test('MQTT 5: a property not allowed in SUBSCRIBE is malformed (DISCONNECT 0x81)', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(subscribePacket(1, [{ filter: 'strict/props', options: 0 }], 5, [[Prop.TopicAlias, 1]]));
  await closedWith(raw, 5, 0x81);
});

test('MQTT 5: a property not allowed in PUBLISH is malformed (DISCONNECT 0x81)', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(publishPacket({ version: 5, topic: 'strict/props', payload: 'x', qos: 1, packetId: 1, props: [[Prop.ReceiveMaximum, 5]] }));
  await closedWith(raw, 5, 0x81);
});

for (const version of [3, 4] as const) {
  for (const filter of ['#/a', '', 'a/#/b', 'a+/b']) {
    test(`MQTT ${version}: SUBSCRIBE to the invalid filter '${filter}' closes the connection (3.1.1 section 4.8)`, async (t) => {
      const raw = await rawClient(t, broker.port, version);
      await raw.handshake({ clientId: clientId('v3') });
      raw.send(subscribePacket(1, [{ filter, options: 0 }], version));
      const rest = await raw.expectClose();
      assert.ok(!rest.some((p) => p.type === PacketType.SUBACK), `no SUBACK; got ${rest.map(describe).join(', ')}`);
    });
  }
  test(`MQTT ${version}: UNSUBSCRIBE from an invalid filter closes the connection (3.1.1 section 4.8)`, async (t) => {
    const raw = await rawClient(t, broker.port, version);
    await raw.handshake({ clientId: clientId('v3') });
    raw.send(unsubscribePacket(1, ['#/a'], version));
    const rest = await raw.expectClose();
    assert.ok(!rest.some((p) => p.type === PacketType.UNSUBACK), `no UNSUBACK; got ${rest.map(describe).join(', ')}`);
  });
}

test('MQTT 3.1.1: a SUBSCRIBE closed for an invalid filter takes none of its filters', async (t) => {
  if (junctionOnly(t, 'mosquitto adds the filters before the bad one')) return;
  const id = clientId('part');
  const topic = `strict/part/${id}`;
  const raw = await persistent(t, 4, id);
  raw.send(
    subscribePacket(
      1,
      [
        { filter: topic, options: 1 },
        { filter: '#/a', options: 1 },
      ],
      4,
    ),
  );
  await raw.expectClose();
  const again = await persistent(t, 4, id);
  const pub = await connect(t, broker.url, { protocolVersion: 4 });
  await pub.publishAsync(topic, 'not subscribed', { qos: 1 });
  assert.deepEqual((await again.drain(400)).map(describe), [], 'the valid filter of the closed SUBSCRIBE was not subscribed either');
});

test('MQTT 5: an invalid filter in UNSUBSCRIBE is answered 0x8F for that filter (SUBACK: 02-publish-subscribe)', async (t) => {
  if (junctionOnly(t, 'mosquitto closes the connection for an invalid filter in 5.0 too (docs/CONFORMANCE.md)')) return;
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(subscribePacket(1, [{ filter: 'strict/ok', options: 1 }], 5));
  await raw.next(PacketType.SUBACK);
  raw.send(unsubscribePacket(2, ['strict/ok', '#/a'], 5));
  assert.deepEqual(parseSuback(await raw.next(PacketType.UNSUBACK), 5).codes, [0, 0x8f]);
});

// --- 5. client publishes to `$` topics ---------------------------------------------------------

test('a client publish to any $ topic is refused (5.0: PUBACK 0x87) and reaches no subscriber of it', async (t) => {
  if (junctionOnly(t, 'mosquitto refuses only $SYS and $share publishes (docs/CONFORMANCE.md)')) return;
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  await watcher.subscribeAsync(['$strict/#', '$share/g/strict/x'], { qos: 1 });
  const seen = gather(watcher, 800);
  const v5 = await connect(t, broker.url, { protocolVersion: 5 });
  const refused = (e: Error & { code?: number }): boolean => e.code === 0x87;
  await assert.rejects(v5.publishAsync('$strict/five', 'x', { qos: 1 }), refused, 'PUBACK 0x87 Not authorized');
  await assert.rejects(v5.publishAsync('$share/g/strict/x', 'x', { qos: 1 }), refused, 'a shared-subscription name is no topic to publish to');
  const v4 = await connect(t, broker.url, { protocolVersion: 4 });
  await v4.publishAsync('$strict/four', 'x', { qos: 1 });
  await v4.publishAsync('$strict/four', 'x', { qos: 0, retain: true });
  assert.deepEqual(
    (await seen).map((m) => m.topic),
    [],
  );
  const later = await connect(t, broker.url, { protocolVersion: 4 });
  const retained = gather(later, 400);
  await later.subscribeAsync('$strict/#', { qos: 1 });
  assert.deepEqual(
    (await retained).map((m) => m.topic),
    [],
    'nothing was retained there either',
  );
});

test('a will on a $ topic is refused at CONNECT (5.0 CONNACK 0x87, 3.1.1 return code 5)', async (t) => {
  if (junctionOnly(t, 'mosquitto accepts wills on $ topics other than $SYS')) return;
  for (const version of [4, 5] as const) {
    const raw = await rawClient(t, broker.port, version);
    raw.send(connectPacket({ version, clientId: clientId('will'), will: { topic: '$strict/will', payload: 'gone' } }));
    const connack = parseConnack(await raw.next(PacketType.CONNACK), version);
    assert.equal(connack.code, version === 5 ? 0x87 : 5);
    await raw.expectClose();
  }
});

test('STOMP: a SEND to a $ topic is refused with ERROR', async (t) => {
  if (junctionOnly(t, 'STOMP')) return;
  const { broker: b, port } = await stompBroker(t);
  const watcher = await connect(t, b.url, { protocolVersion: 5 });
  await watcher.subscribeAsync('$strict/#', { qos: 1 });
  const seen = gather(watcher, 500);
  const stomp = await RawStomp.connect(t, port);
  stomp.send(stompFrame('SEND', { destination: '$strict/stomp' }, 'x'));
  const error = await stomp.next('ERROR');
  assert.match(error.header('message') ?? '', /not authorized to send to '\$strict\/stomp'/);
  await stomp.closedWithin(2000);
  assert.deepEqual(
    (await seen).map((m) => m.topic),
    [],
  );
});

/** CONNECT and CONNACK: versions, client ids, refusals and protocol errors, CONNACK properties. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, collect, connect, junctionOnly, rawClient, startBroker, type Broker } from './harness.js';
import { PacketType, Prop, connectPacket, parseConnack, parseDisconnect, prop, publishPacket, subscribePacket, PINGREQ } from './wire.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

const versions = [
  { name: 'MQTT 3.1', opts: { protocolId: 'MQIsdp' as const, protocolVersion: 3 as const } },
  { name: 'MQTT 3.1.1', opts: { protocolVersion: 4 as const } },
  { name: 'MQTT 5.0', opts: { protocolVersion: 5 as const } },
];

for (const v of versions) {
  test(`${v.name} client connects and receives its own subscription`, async (t) => {
    const c = await connect(t, broker.url, v.opts);
    await c.subscribeAsync('connect/version', { qos: 1 });
    const got = collect(c, 1);
    await c.publishAsync('connect/version', v.name, { qos: 1 });
    const [m] = await got;
    assert.equal(m!.payload.toString(), v.name);
  });
}

test('3.1.1: empty client id with clean session is accepted', async (t) => {
  const raw = await rawClient(t, broker.port, 4);
  raw.send(connectPacket({ version: 4, clientId: '', clean: true }));
  const connack = parseConnack(await raw.next(PacketType.CONNACK), 4);
  assert.equal(connack.code, 0, 'CONNACK return code');
  raw.send(PINGREQ);
  await raw.next(PacketType.PINGRESP);
});

test('3.1.1: empty client id without clean session is refused with return code 2 and closed', async (t) => {
  const raw = await rawClient(t, broker.port, 4);
  raw.send(connectPacket({ version: 4, clientId: '', clean: false }));
  const connack = parseConnack(await raw.next(PacketType.CONNACK), 4);
  assert.equal(connack.code, 2, 'CONNACK return code (identifier rejected)');
  await raw.expectClose();
});

test('5.0: empty client id gets an Assigned Client Identifier', async (t) => {
  const raw = await rawClient(t, broker.port, 5);
  raw.send(connectPacket({ version: 5, clientId: '', clean: true }));
  const connack = parseConnack(await raw.next(PacketType.CONNACK), 5);
  assert.equal(connack.code, 0);
  const assigned = prop(connack.props, Prop.AssignedClientIdentifier);
  assert.equal(typeof assigned, 'string', 'Assigned Client Identifier property present');
  assert.ok((assigned as string).length > 0, 'assigned id is not empty');
});

for (const level of [2, 6]) {
  test(`unsupported protocol level ${level} gets CONNACK rc 1 / 0x84 and is closed`, async (t) => {
    const raw = await rawClient(t, broker.port, 4);
    raw.send(connectPacket({ version: 4, level, clientId: 'badlevel' }));
    const p = await raw.next(PacketType.CONNACK);
    const code = p.body[1];
    assert.ok(code === 0x01 || code === 0x84, `CONNACK code 0x01 or 0x84, got 0x${code?.toString(16)}`);
    await raw.expectClose();
  });
}

test('3.1.1: a second CONNECT closes the connection', async (t) => {
  const raw = await rawClient(t, broker.port, 4);
  await raw.handshake();
  raw.send(connectPacket({ version: 4, clientId: 'second' }));
  const rest = await raw.expectClose();
  assert.ok(!rest.some((p) => p.type === PacketType.CONNACK), 'no CONNACK for the second CONNECT');
});

test('5.0: a second CONNECT gets DISCONNECT 0x82 and is closed', async (t) => {
  if (junctionOnly(t, 'mosquitto 2.0.11 closes without DISCONNECT (the spec makes DISCONNECT a MAY)')) return;
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  raw.send(connectPacket({ version: 5, clientId: 'second5' }));
  const rest = await raw.expectClose();
  const disc = rest.find((p) => p.type === PacketType.DISCONNECT);
  assert.ok(disc, 'DISCONNECT before close');
  assert.equal(parseDisconnect(disc).reason, 0x82);
});

test('first packet other than CONNECT closes the connection', async (t) => {
  for (const first of [PINGREQ, publishPacket({ topic: 'early', payload: 'x' }), subscribePacket(1, [{ filter: 'a', options: 0 }])]) {
    const raw = await rawClient(t, broker.port, 4);
    raw.send(first);
    const rest = await raw.expectClose();
    assert.ok(!rest.some((p) => p.type === PacketType.PINGRESP || p.type === PacketType.SUBACK), 'nothing answered before CONNECT');
  }
});

test('CONNECT with the reserved flag bit set is closed', async (t) => {
  for (const version of [4, 5] as const) {
    const raw = await rawClient(t, broker.port, version);
    // [MQTT-3.1.2-3] the reserved flag must be 0: clean session 0x02 | reserved 0x01.
    raw.send(connectPacket({ version, clientId: `reserved${version}`, flags: 0x03 }));
    const rest = await raw.expectClose();
    const connack = rest.find((p) => p.type === PacketType.CONNACK);
    if (connack) assert.notEqual(connack.body[1], 0, 'not accepted');
  }
});

test('no CONNECT within --connect-timeout closes the connection', async (t) => {
  if (junctionOnly(t, '--connect-timeout has no mosquitto equivalent')) return;
  const b = await brokerFor(t, { args: ['--connect-timeout', '1'] });
  const raw = await rawClient(t, b.port, 4);
  const started = Date.now();
  await raw.expectClose(4000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 800, `closed after ${elapsed} ms, expected about 1000 ms`);
});

test('5.0: Server Keep Alive only when the client asks for more than --max-keepalive', async (t) => {
  const b = await brokerFor(t, { args: ['--max-keepalive', '10'] });
  const high = await rawClient(t, b.port, 5);
  const c1 = await high.handshake({ keepalive: 60 });
  assert.equal(prop(c1.props, Prop.ServerKeepAlive), 10, 'Server Keep Alive lowered to the maximum');
  const low = await rawClient(t, b.port, 5);
  const c2 = await low.handshake({ keepalive: 5 });
  assert.equal(prop(c2.props, Prop.ServerKeepAlive), undefined, 'no Server Keep Alive when within the maximum');
});

test('5.0: default CONNACK properties', async (t) => {
  if (junctionOnly(t, 'Junction defaults (64/64/1 MiB)')) return;
  const raw = await rawClient(t, broker.port, 5);
  const c = await raw.handshake();
  assert.equal(prop(c.props, Prop.ReceiveMaximum), 64, 'Receive Maximum');
  assert.equal(prop(c.props, Prop.TopicAliasMaximum), 64, 'Topic Alias Maximum');
  assert.equal(prop(c.props, Prop.MaximumPacketSize), 1024 * 1024, 'Maximum Packet Size');
  assert.equal(prop(c.props, Prop.MaximumQoS), undefined, 'Maximum QoS absent (2)');
  // Absent means available; Junction states them, and they must never say 0.
  for (const [name, id] of [
    ['Retain Available', Prop.RetainAvailable],
    ['Wildcard Subscription Available', Prop.WildcardSubscriptionAvailable],
    ['Subscription Identifier Available', Prop.SubscriptionIdentifierAvailable],
    ['Shared Subscription Available', Prop.SharedSubscriptionAvailable],
  ] as const) {
    assert.equal(prop(c.props, id), 1, name);
  }
  assert.equal(c.sessionPresent, false);
});

test('5.0: CONNACK properties follow the flags', async (t) => {
  const b = await brokerFor(t, { args: ['--receive-maximum', '10', '--topic-alias-maximum', '5', '--max-packet-size', '2048'] });
  const raw = await rawClient(t, b.port, 5);
  const c = await raw.handshake();
  assert.equal(prop(c.props, Prop.ReceiveMaximum), 10, 'Receive Maximum');
  assert.equal(prop(c.props, Prop.TopicAliasMaximum), 5, 'Topic Alias Maximum');
  assert.equal(prop(c.props, Prop.MaximumPacketSize), 2048, 'Maximum Packet Size');
});

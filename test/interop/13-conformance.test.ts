/**
 * Deliberate differences from mosquitto 2.0.11 that docs/CONFORMANCE.md lists, pinned to
 * Junction's side: each test is junctionOnly; JUNCTION_TEST_TARGET=mosquitto
 * JUNCTION_TEST_NO_SKIP=1 shows mosquitto's side failing them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientId, collect, connect, dropSocket, junctionOnly, rawClient, startBroker, type Broker } from './harness.js';
import { PacketType, Prop, connectPacket, parseConnack, prop } from './wire.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

test('5.0: a will with a Will Delay Interval but Session Expiry 0 is published when the connection drops, as the session ends [MQTT-3.1.3-9]', async (t) => {
  if (junctionOnly(t, 'mosquitto waits the Will Delay Interval although the session ended (docs/CONFORMANCE.md)')) return;
  const topic = `conf/will/${clientId('t')}`;
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  await watcher.subscribeAsync(topic, { qos: 1 });
  const c = await connect(t, broker.url, {
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 0 },
    will: { topic, payload: Buffer.from('now'), qos: 1, retain: false, properties: { willDelayInterval: 5 } },
  });
  const got = collect(watcher, 1, 2500, 'the will, long before its 5 s delay');
  dropSocket(c);
  assert.equal((await got)[0]!.payload.toString(), 'now');
});

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion}: a takeover publishes the old connection's will when its Will Delay is 0, the session continuing`, async (t) => {
    if (junctionOnly(t, 'mosquitto does not publish the will of a connection taken over (docs/CONFORMANCE.md)')) return;
    const topic = `conf/takeover/${clientId('t')}`;
    const watcher = await connect(t, broker.url, { protocolVersion: 5 });
    await watcher.subscribeAsync(topic, { qos: 1 });
    const id = clientId('takeover');
    // A session that outlives both connections: mosquitto publishes the old will only when its session ends.
    const session = { protocolVersion, clientId: id, clean: false, properties: protocolVersion === 5 ? { sessionExpiryInterval: 300 } : {} };
    await connect(t, broker.url, { ...session, will: { topic, payload: Buffer.from('taken over'), qos: 1, retain: false } });
    const got = collect(watcher, 1, 3000, 'the will of the connection taken over');
    await connect(t, broker.url, session);
    assert.equal((await got)[0]!.payload.toString(), 'taken over');
  });
}

test('5.0: an assigned client identifier is junction- and 12 URL-safe characters', async (t) => {
  if (junctionOnly(t, 'mosquitto assigns auto-<UUID> (docs/CONFORMANCE.md)')) return;
  const raw = await rawClient(t, broker.port, 5);
  raw.send(connectPacket({ version: 5, clientId: '' }));
  const assigned = prop(parseConnack(await raw.next(PacketType.CONNACK), 5).props, Prop.AssignedClientIdentifier);
  assert.match(String(assigned), /^junction-[A-Za-z0-9_-]{12}$/);
});

/** MQTT over WebSocket (uWebSockets.js) against a real broker process. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { brokerFor, collect, connect, startBroker, type Broker } from '../interop/harness.js';
import { PacketType, connectPacket, parseConnack, parsePublish, parseSuback, publishPacket, subscribePacket } from '../interop/wire.js';
import { isNativeUws, loadNativeUws } from '../../src/transports/uws-loader.js';
import { chooseSubprotocol } from '../../src/transports/ws.js';
import { RawWs, portOf, refusedUpgrade, startRefused } from './helpers.js';

let broker: Broker;
let wsPort: number;
before(async () => {
  broker = await startBroker({ args: ['--ws-port', '0', '--store', 'memory'] });
  wsPort = await portOf(broker, 'ws');
});
after(() => broker.dispose());

test('the broker runs the native uWebSockets.js, not its JavaScript fallback', () => {
  const line = broker.logs.find((l) => l['msg'] === 'WebSocket transport: native uWebSockets.js');
  assert.ok(line, 'the broker logs which uWebSockets.js it loaded');
  assert.match(String(line['binary']), /uws_linux_x64_\d+\.node$/);
  const { uws } = loadNativeUws();
  assert.equal(isNativeUws(uws), true);
  assert.equal(typeof uws.SSLApp, 'function', 'the native module has SSLApp (the fallback has none)');
  const fallback: unknown = createRequire(import.meta.url)('uWebSockets.js/dist/index.js');
  assert.equal(isNativeUws(fallback), false, 'the JavaScript fallback is recognised as such');
});

test('with only the JavaScript fallback available the start is refused with a clear message', async () => {
  const r = await startRefused(['--ws-port', '0'], { UWS_USE_FALLBACK: '1' });
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, /WebSocket listeners need the native uWebSockets\.js.*UWS_USE_FALLBACK is set/);
});

for (const protocolVersion of [4, 5] as const) {
  for (const qos of [0, 1, 2] as const) {
    test(`MQTT.js ${protocolVersion === 5 ? '5.0' : '3.1.1'} over ws: QoS ${qos} round trip, and from a TCP publisher`, async (t) => {
      const url = `ws://127.0.0.1:${wsPort}/mqtt`;
      const sub = await connect(t, url, { protocolVersion });
      const pub = await connect(t, url, { protocolVersion });
      const tcpPub = await connect(t, broker.url, { protocolVersion });
      const topic = `ws/v${protocolVersion}/q${qos}`;
      await sub.subscribeAsync(topic, { qos });
      const got = collect(sub, 2);
      await pub.publishAsync(topic, 'from ws', { qos });
      await tcpPub.publishAsync(topic, 'from tcp', { qos });
      const messages = await got;
      assert.deepEqual(messages.map((m) => [m.topic, m.payload.toString(), m.packet.qos]).sort(), [
        [topic, 'from tcp', qos],
        [topic, 'from ws', qos],
      ]);
    });
  }
}

test('several MQTT packets in one WebSocket frame are all handled, in order', async (t) => {
  const raw = await RawWs.open(wsPort);
  t.after(() => raw.close());
  const topic = 'ws/batched';
  await raw.send(Buffer.concat([connectPacket({ clientId: 'ws-batched' }), subscribePacket(1, [{ filter: topic, options: 1 }]), publishPacket({ topic, payload: 'one', qos: 1, packetId: 2 })]));
  const packets = await raw.expect(4, 'CONNACK, SUBACK, PUBACK and the echoed PUBLISH');
  assert.deepEqual(
    packets.slice(0, 2).map((p) => p.type),
    [PacketType.CONNACK, PacketType.SUBACK],
  );
  assert.equal(parseConnack(packets[0]!, 4).code, 0);
  assert.deepEqual(parseSuback(packets[1]!, 4).codes, [1]);
  const rest = packets.slice(2);
  assert.deepEqual(rest.map((p) => p.type).sort(), [PacketType.PUBLISH, PacketType.PUBACK].sort());
  assert.equal(parsePublish(rest.find((p) => p.type === PacketType.PUBLISH)!, 4).payload.toString(), 'one');
});

test('one MQTT packet split over several WebSocket frames is reassembled', async (t) => {
  const raw = await RawWs.open(wsPort);
  t.after(() => raw.close());
  const topic = 'ws/split';
  const connect = connectPacket({ clientId: 'ws-split' });
  for (let i = 0; i < connect.length; i += 3) await raw.send(connect.subarray(i, i + 3));
  await raw.expect(1, 'CONNACK after a CONNECT sent 3 bytes per frame');
  await raw.send(subscribePacket(1, [{ filter: topic, options: 0 }]));
  await raw.expect(2, 'SUBACK');
  const publish = publishPacket({ topic, payload: Buffer.alloc(5000, 0x61), qos: 0 });
  await raw.send(publish.subarray(0, 1));
  await raw.send(publish.subarray(1, 2500));
  await raw.send(publish.subarray(2500));
  const packets = await raw.expect(3, 'the PUBLISH sent in three frames, echoed back');
  const echoed = parsePublish(packets[2]!, 4);
  assert.equal(echoed.topic, topic);
  assert.equal(echoed.payload.length, 5000);
});

test('an upgrade without a subprotocol the path accepts is refused with 400 naming the accepted ones', async () => {
  const wrong = await refusedUpgrade(`ws://127.0.0.1:${wsPort}/mqtt`, ['stomp', 'chat']);
  assert.equal(wrong.status, 400);
  assert.match(wrong.body, /mqtt or mqttv3\.1.*offered "stomp, ?chat"/);
  const none = await refusedUpgrade(`ws://127.0.0.1:${wsPort}/mqtt`, []);
  assert.equal(none.status, 400);
  assert.match(none.body, /offered none/);
  const elsewhere = await refusedUpgrade(`ws://127.0.0.1:${wsPort}/nothing-here`, ['mqtt']);
  assert.equal(elsewhere.status, 404);
  assert.match(elsewhere.body, /\/mqtt/);
});

test('the subprotocol chosen is the first one the client offers that the route accepts', () => {
  assert.equal(chooseSubprotocol('foo, mqttv3.1, mqtt', ['mqtt', 'mqttv3.1']), 'mqttv3.1');
  assert.equal(chooseSubprotocol('mqtt', ['mqtt', 'mqttv3.1']), 'mqtt');
  assert.equal(chooseSubprotocol('MQTT', ['mqtt']), null);
  assert.equal(chooseSubprotocol('', ['mqtt']), null);
});

test('--ws-path moves the MQTT route; the old path answers 404', async (t) => {
  const custom = await brokerFor(t, { args: ['--ws-port', '0', '--ws-path', '/devices/mqtt', '--store', 'memory'] });
  const port = await portOf(custom, 'ws');
  const client = await connect(t, `ws://127.0.0.1:${port}/devices/mqtt`, {});
  assert.equal(client.connected, true);
  assert.equal((await refusedUpgrade(`ws://127.0.0.1:${port}/mqtt`, ['mqtt'])).status, 404);
});

test('bad WebSocket settings stop the start with a message naming the flag', async () => {
  const idle = await startRefused(['--ws-port', '0', '--ws-idle-timeout', '5']);
  assert.equal(idle.code, 2);
  assert.match(idle.stderr, /--ws-idle-timeout must be 0 \(never\) or between 8 and 960/);
  const busy = await startRefused(['--ws-port', String(wsPort)]);
  assert.equal(busy.code, 2);
  assert.match(busy.stderr, new RegExp(`--ws-port ${wsPort}: cannot listen on 127\\.0\\.0\\.1:${wsPort} \\(the port is in use`));
  const path = await startRefused(['--ws-port', '0', '--ws-path', 'mqtt/*']);
  assert.equal(path.code, 2);
  assert.match(path.stderr, /--ws-path must be a URL path/);
});

/**
 * The mosquitto options users migrate with: an explicit --no-allow-anonymous on loopback,
 * --no-retain-available (mosquitto's retain_available false), --maximum-qos (max_qos) and a
 * --max-packet-size as small as a CONNECT. JUNCTION_TEST_TARGET=mosquitto runs the same cases
 * against mosquitto 2 with the translated mosquitto.conf (harness.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brokerFor, clientId, closedWith, connect, gather, junctionOnly, rawClient, runBroker, type Broker, type TestContext } from './harness.js';
import { PacketType, Prop, connectPacket, describe, parseConnack, parseSuback, prop, publishPacket, subscribePacket, type Version } from './wire.js';
import { RawStomp, frame as stompFrame, stompBroker } from '../protocols/stomp/helpers.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-options-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Sends CONNECT and returns the CONNACK's code, or null when the broker closed without one. */
async function connectCode(b: Broker, version: Version, options: Parameters<typeof connectPacket>[0] = {}): Promise<number | null> {
  const raw = await rawClient(null, b.port, version);
  try {
    raw.send(connectPacket({ version, clientId: clientId('opt'), ...options }));
    const first = await raw.next().catch((err: Error) => {
      if (raw.closed && raw.history.length === 0) return null;
      throw err;
    });
    if (first === null) return null;
    assert.equal(first.type, PacketType.CONNACK, `CONNACK first, got ${describe(first)}`);
    return parseConnack(first, version).code;
  } finally {
    raw.close();
  }
}

// --- an explicit --no-allow-anonymous ----------------------------------------------------------

test('--no-allow-anonymous refuses anonymous clients on a loopback listener too (5.0 0x87, 3.1.1 return code 5)', async (t) => {
  const b = await brokerFor(t, { args: ['--no-allow-anonymous'] });
  assert.equal(await connectCode(b, 5), 0x87);
  assert.equal(await connectCode(b, 4), 5);
});

test('"allow-anonymous": false in the config file refuses anonymous clients on loopback, like the flag', async (t) => {
  if (junctionOnly(t, '--config is a Junction flag')) return;
  const file = path.join(tempDir(t), 'junction.json');
  writeFileSync(file, JSON.stringify({ 'allow-anonymous': false }));
  const b = await brokerFor(t, { args: ['--config', file] });
  assert.equal(await connectCode(b, 4), 5);
});

test('STOMP: --no-allow-anonymous refuses a CONNECT without login on loopback', async (t) => {
  if (junctionOnly(t, 'STOMP')) return;
  const { port } = await stompBroker(t, ['--no-allow-anonymous']);
  const c = await RawStomp.open(t, port);
  c.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost' }));
  assert.match((await c.next('ERROR')).header('message') ?? '', /not authorized/);
  await c.closedWithin(2000);
});

// --- --no-retain-available ---------------------------------------------------------------------

test('--no-retain-available: MQTT 5 CONNACK says Retain Available 0; a retained PUBLISH gets DISCONNECT 0x9A and is neither delivered nor kept', async (t) => {
  const b = await brokerFor(t, { args: ['--no-retain-available'] });
  const topic = `opt/retain/${clientId('t')}`;
  const sub = await connect(t, b.url, { protocolVersion: 5 });
  await sub.subscribeAsync(topic, { qos: 1 });
  const seen = gather(sub, 600);
  const raw = await rawClient(t, b.port, 5);
  const connack = await raw.handshake();
  assert.equal(prop(connack.props, Prop.RetainAvailable), 0, 'Retain Available 0');
  raw.send(publishPacket({ version: 5, topic, payload: 'plain', qos: 1, packetId: 1 }));
  await raw.next(PacketType.PUBACK);
  raw.send(publishPacket({ version: 5, topic, payload: 'kept?', qos: 1, packetId: 2, retain: true }));
  await closedWith(raw, 5, 0x9a);
  assert.deepEqual(
    (await seen).map((m) => m.payload.toString()),
    ['plain'],
  );
  const later = await connect(t, b.url, { protocolVersion: 4 });
  const retained = gather(later, 400);
  await later.subscribeAsync(topic, { qos: 1 });
  assert.deepEqual(
    (await retained).map((m) => m.payload.toString()),
    [],
    'nothing retained',
  );
});

test('--no-retain-available: MQTT 3.1.1 has no code for it, so a retained PUBLISH closes the connection', async (t) => {
  const b = await brokerFor(t, { args: ['--no-retain-available'] });
  const raw = await rawClient(t, b.port, 4);
  await raw.handshake();
  raw.send(publishPacket({ version: 4, topic: 'opt/retain/v4', payload: 'x', qos: 0, retain: true }));
  await raw.expectClose();
});

test('--no-retain-available: a will with retain is refused (5.0 CONNACK 0x9A; 3.1.1 closed without CONNACK, no return code fits)', async (t) => {
  const b = await brokerFor(t, { args: ['--no-retain-available'] });
  const will = { topic: 'opt/retain/will', payload: 'gone', retain: true };
  assert.equal(await connectCode(b, 5, { will }), 0x9a);
  assert.equal(await connectCode(b, 4, { will }), null);
  assert.equal(await connectCode(b, 4, { will: { ...will, retain: false } }), 0, 'a will without retain is fine');
});

test('STOMP: --no-retain-available refuses a SEND with retain:true with ERROR', async (t) => {
  if (junctionOnly(t, 'STOMP')) return;
  const { broker: b, port } = await stompBroker(t, ['--no-retain-available']);
  const watcher = await connect(t, b.url, { protocolVersion: 5 });
  await watcher.subscribeAsync('opt/stomp/#', { qos: 1 });
  const seen = gather(watcher, 600);
  const c = await RawStomp.connect(t, port);
  await c.request('SEND', { destination: 'opt/stomp/plain' }, 'plain');
  c.send(stompFrame('SEND', { destination: 'opt/stomp/kept', retain: 'true' }, 'kept?'));
  assert.match((await c.next('ERROR')).header('message') ?? '', /cannot retain on 'opt\/stomp\/kept': retained messages are not available \(--retain-available is false\)/);
  await c.closedWithin(2000);
  assert.deepEqual(
    (await seen).map((m) => m.topic),
    ['opt/stomp/plain'],
  );
});

// --- --maximum-qos -----------------------------------------------------------------------------

for (const version of [4, 5] as const) {
  test(`--maximum-qos 1, MQTT ${version}: a SUBSCRIBE at QoS 2 is granted QoS 1; a QoS 2 PUBLISH closes the connection${version === 5 ? ' with DISCONNECT 0x9B' : ''}`, async (t) => {
    const b = await brokerFor(t, { args: ['--maximum-qos', '1'] });
    const raw = await rawClient(t, b.port, version);
    const connack = await raw.handshake();
    if (version === 5) assert.equal(prop(connack.props, Prop.MaximumQoS), 1, 'CONNACK Maximum QoS 1');
    raw.send(subscribePacket(1, [{ filter: 'opt/qos/+', options: 2 }], version));
    assert.deepEqual(parseSuback(await raw.next(PacketType.SUBACK), version).codes, [1], 'granted QoS 1');
    raw.send(publishPacket({ version, topic: 'opt/qos/one', payload: 'x', qos: 1, packetId: 1 }));
    await raw.nextOf(PacketType.PUBACK);
    raw.send(publishPacket({ version, topic: 'opt/qos/two', payload: 'x', qos: 2, packetId: 2 }));
    await closedWith(raw, version, 0x9b);
  });
}

test('--maximum-qos 1: a will at QoS 2 is refused (5.0 CONNACK 0x9B; 3.1.1 closed without CONNACK)', async (t) => {
  const b = await brokerFor(t, { args: ['--maximum-qos', '1'] });
  const will = { topic: 'opt/qos/will', payload: 'gone', qos: 2 };
  assert.equal(await connectCode(b, 5, { will }), 0x9b);
  assert.equal(await connectCode(b, 4, { will }), null);
  assert.equal(await connectCode(b, 4, { will: { ...will, qos: 1 } }), 0, 'a will at QoS 1 is fine');
});

test('--maximum-qos 0: MQTT 5 CONNACK says Maximum QoS 0, subscriptions are granted QoS 0, a QoS 1 PUBLISH gets DISCONNECT 0x9B', async (t) => {
  const b = await brokerFor(t, { args: ['--maximum-qos', '0'] });
  const raw = await rawClient(t, b.port, 5);
  const connack = await raw.handshake();
  assert.equal(prop(connack.props, Prop.MaximumQoS), 0);
  raw.send(
    subscribePacket(
      1,
      [
        { filter: 'opt/qos0/a', options: 1 },
        { filter: 'opt/qos0/b', options: 2 },
      ],
      5,
    ),
  );
  assert.deepEqual(parseSuback(await raw.next(PacketType.SUBACK), 5).codes, [0, 0]);
  raw.send(publishPacket({ version: 5, topic: 'opt/qos0/a', payload: 'x', qos: 1, packetId: 1 }));
  await closedWith(raw, 5, 0x9b);
});

// --- the --max-packet-size floor ---------------------------------------------------------------

test('--max-packet-size 17 admits the smallest CONNECT of every version and refuses a bigger packet', async (t) => {
  if (junctionOnly(t, 'mosquitto refuses max_packet_size below 20 in its configuration')) return;
  const b = await brokerFor(t, { args: ['--max-packet-size', '17'] });
  const v3 = await rawClient(t, b.port, 3);
  await v3.handshake({ clientId: 'a' });
  const v4 = await rawClient(t, b.port, 4);
  await v4.handshake({ clientId: '' });
  const v5 = await rawClient(t, b.port, 5);
  const connack = await v5.handshake({ clientId: '' });
  assert.equal(prop(connack.props, Prop.MaximumPacketSize), 17, 'announced to 5.0 clients');
  v5.send(publishPacket({ version: 5, topic: 'opt/size/over', payload: 'eighteen bytes!', qos: 0 }));
  await closedWith(v5, 5, 0x95);
});

test('--max-packet-size below 17 is refused at start, naming the floor', async (t) => {
  if (junctionOnly(t, 'Junction CLI')) return;
  const r = await runBroker(['start', '--mqtt-port', '0', '--data-dir', tempDir(t), '--max-packet-size', '16'], 8000);
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, /--max-packet-size must be a size between 17 and 268435455 bytes \(got "16"\)/);
});

/** STOMP <-> MQTT: the same topics, content type and user properties, retained messages, mount point. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { IPublishPacket } from 'mqtt';
import { RawStomp, clientId, stompBroker, waitFor } from '../helpers.js';

async function mqttClient(t: Parameters<typeof stompBroker>[0], url: string): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: clientId('m'), reconnectPeriod: 0 });
  t.after(() => client.end(true));
  return client;
}

test('STOMP SEND reaches an MQTT 5 subscriber with content-type and custom headers as properties', async (t) => {
  const { port, broker } = await stompBroker(t);
  const m = await mqttClient(t, broker.url);
  await m.subscribeAsync('sensors/#', { qos: 1 });
  const got: IPublishPacket[] = [];
  m.on('message', (_topic, _payload, packet) => got.push(packet));
  const s = await RawStomp.connect(t, port);
  await s.request('SEND', { destination: '/topic/sensors.kitchen', 'content-type': 'application/json', unit: 'celsius' }, '{"t":21}');
  await waitFor(() => got.length === 1, 3000, 'the MQTT message');
  const p = got[0]!;
  assert.equal(p.topic, 'sensors/kitchen');
  assert.equal(p.payload.toString(), '{"t":21}');
  assert.equal(p.qos, 1);
  assert.equal(p.properties?.contentType, 'application/json');
  assert.deepEqual({ ...p.properties?.userProperties }, { unit: 'celsius' });
});

test('an MQTT publish reaches STOMP subscribers (wildcards, /topic style) with its properties', async (t) => {
  const { port, broker } = await stompBroker(t);
  const s = await RawStomp.connect(t, port);
  await s.request('SUBSCRIBE', { id: 'plain', destination: 'cmd/+/set' });
  await s.request('SUBSCRIBE', { id: 'dotted', destination: '/topic/cmd.*.set', ack: 'client-individual' });
  const m = await mqttClient(t, broker.url);
  await m.publishAsync('cmd/lamp/set', Buffer.from([0, 1, 0]), { qos: 1, properties: { contentType: 'application/octet-stream', userProperties: { origin: 'mqtt' } } });
  const frames = [await s.next('MESSAGE'), await s.next('MESSAGE')].sort((a, b) => (a.header('subscription')! < b.header('subscription')! ? -1 : 1));
  assert.deepEqual(
    frames.map((f) => [f.header('subscription'), f.header('destination')]),
    [
      ['dotted', '/topic/cmd.lamp.set'],
      ['plain', 'cmd/lamp/set'],
    ],
  );
  for (const f of frames) {
    assert.deepEqual([...f.body], [0, 1, 0]);
    assert.equal(f.header('content-type'), 'application/octet-stream');
    assert.equal(f.header('origin'), 'mqtt');
  }
  assert.ok(frames[0]!.header('ack'), 'the client-individual subscription gets an ack id');
  assert.equal(frames[1]!.header('ack'), undefined);
});

test('retained MQTT messages are delivered on SUBSCRIBE; STOMP can retain too', async (t) => {
  const { port, broker } = await stompBroker(t);
  const m = await mqttClient(t, broker.url);
  await m.publishAsync('status/door', 'open', { qos: 1, retain: true });
  const s = await RawStomp.connect(t, port);
  await s.request('SUBSCRIBE', { id: 'r', destination: 'status/#' });
  const f = await s.next('MESSAGE');
  assert.equal(f.body.toString(), 'open');
  assert.equal(f.header('retain'), 'true');

  await s.request('SEND', { destination: 'status/window', retain: 'true' }, 'closed');
  const late = await mqttClient(t, broker.url);
  const got: IPublishPacket[] = [];
  late.on('message', (_t, _p, packet) => got.push(packet));
  await late.subscribeAsync('status/window', { qos: 1 });
  await waitFor(() => got.length === 1, 3000, 'the retained message from STOMP');
  assert.equal(got[0]!.retain, true);
  assert.equal(got[0]!.payload.toString(), 'closed');
});

test('--stomp-mount puts STOMP destinations under a prefix of the MQTT topic space', async (t) => {
  const { port, broker } = await stompBroker(t, ['--stomp-mount', 'stomp/']);
  const m = await mqttClient(t, broker.url);
  const got: IPublishPacket[] = [];
  m.on('message', (_t, _p, packet) => got.push(packet));
  await m.subscribeAsync('#', { qos: 0 });
  const s = await RawStomp.connect(t, port);
  await s.request('SUBSCRIBE', { id: 'x', destination: 'a/b' });
  await s.request('SEND', { destination: 'a/b' }, 'hi');
  await waitFor(() => got.some((p) => p.topic === 'stomp/a/b'), 3000, 'the message on stomp/a/b');
  assert.equal((await s.next('MESSAGE')).header('destination'), 'a/b');
  await m.publishAsync('a/b', 'outside the mount');
  await m.publishAsync('stomp/a/b', 'inside');
  assert.equal((await s.next('MESSAGE')).body.toString(), 'inside');
});

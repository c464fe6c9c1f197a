/**
 * One client id in the cluster: a client connecting on node B ends its connection on node A
 * (MQTT 5 DISCONNECT 0x8E, as on one node) and its session moves to B with its subscriptions
 * and its QoS 1/2 messages, inflight and queued, nothing lost; messages published afterwards on
 * either node reach it on B. Real nats-server (JetStream), two Junction nodes, MQTT.js.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type IPublishPacket } from 'mqtt';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { clientId, closeClient, connect, rawClient, waitFor, type Broker, type MqttClient, type TestContext } from '../interop/harness.js';
import { PacketType, parseDisconnect, parsePublish, Prop, subscribePacket } from '../interop/wire.js';
import { RawStomp } from '../protocols/stomp/helpers.js';
import { jt808Port, onlineTerminal, testPhone } from '../protocols/jt808/helpers.js';
import { clusterNode, isProbe, natsUrls, waitForLog } from './helpers.js';

let nats: ServiceProcess;
let a: Broker;
let b: Broker;

before(async () => {
  nats = await ServiceProcess.nats();
  const args = ['--store', 'memory', '--stomp-port', '0', '--jt808-port', '0'];
  [a, b] = await Promise.all([clusterNode('node-a', natsUrls([nats]), args), clusterNode('node-b', natsUrls([nats]), args)]);
});

after(async () => {
  if (process.env['CLUSTER_LOGS'] !== undefined) for (const n of [a, b]) for (const l of n?.logs ?? []) console.log(JSON.stringify(l));
  await Promise.all([a?.dispose(), b?.dispose()]);
  await nats?.stop();
});

interface Tally {
  counts: Map<string, number>;
  packets: IPublishPacket[];
}

/** Connects with a tally attached before CONNACK (a resumed session's messages follow it at once). */
async function connectTallying(t: TestContext, url: string, opts: IClientOptions): Promise<{ client: MqttClient; got: Tally }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  t.after(() => closeClient(client));
  const got = tally(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('error', () => undefined);
  return { client, got };
}

/** Payloads (probes left out) with how often each arrived, and the packets. */
function tally(client: MqttClient): Tally {
  const counts = new Map<string, number>();
  const packets: IPublishPacket[] = [];
  client.on('message', (_topic, payload, packet) => {
    if (isProbe(payload)) return;
    counts.set(payload.toString(), (counts.get(payload.toString()) ?? 0) + 1);
    packets.push(packet);
  });
  return { counts, packets };
}

test('a client id connecting on another node takes its session over: 0x8E on the old node, subscriptions, inflight and queued QoS 1/2 messages on the new one', async (t) => {
  const id = clientId('mover');
  // A raw client that acknowledges nothing: what it is sent stays inflight on node A.
  const first = await rawClient(t, a.port, 5);
  await first.handshake({
    clientId: id,
    clean: false,
    props: [
      [Prop.SessionExpiryInterval, 300],
      [Prop.ReceiveMaximum, 2],
    ],
  });
  first.send(subscribePacket(1, [{ filter: 'mv/#', options: 2 }], 5));
  await first.nextOf(PacketType.SUBACK);
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  // NATS carries the subscription's interest to node B a few ms after the SUBACK.
  await waitFor(
    () => {
      pub.publish('mv/probe', 'probe-raw', { qos: 0 });
      return first.queue.some((p) => p.type === PacketType.PUBLISH);
    },
    10_000,
    'the subscription on node A seen from node B',
  );
  await first.drain(300);

  const sent = ['q1-a', 'q2-b', 'q1-c', 'q2-d', 'q1-e'];
  for (const p of sent) await pub.publishAsync('mv/x', p, { qos: p.startsWith('q1') ? 1 : 2 });
  // Receive Maximum 2: two inflight (unacknowledged) on A, three queued behind them.
  const inflight = (await first.drain(500)).filter((p) => p.type === PacketType.PUBLISH).map((p) => parsePublish(p, 5).payload.toString());
  assert.equal(inflight.length, 2);

  const { client: second, got } = await connectTallying(t, b.url, { protocolVersion: 5, clean: false, clientId: id, properties: { sessionExpiryInterval: 300 } });
  assert.equal(second.connected, true);
  const disconnect = parseDisconnect(await first.nextOf(PacketType.DISCONNECT));
  assert.equal(disconnect.reason, 0x8e, 'Session taken over');

  await waitFor(() => sent.every((p) => got.counts.has(p)), 8000, 'every message on node B');
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const p of sent.filter((s) => s.startsWith('q2'))) assert.equal(got.counts.get(p), 1, `${p} (QoS 2) exactly once`);
  // The two that were inflight on A come again flagged as redeliveries (with durable QoS the three
  // queued ones too: the journal counts them delivered to node A, not whether A sent them).
  const dups = got.packets.filter((p) => p.dup).map((p) => p.payload.toString());
  for (const p of inflight) assert.ok(dups.includes(p), `${p}, inflight on node A, flagged DUP on node B`);

  // The subscription moved: messages published on either node now reach it on B.
  await pub.publishAsync('mv/after', 'from-b', { qos: 1 });
  const onA = await connect(t, a.url, { protocolVersion: 5 });
  await onA.publishAsync('mv/after', 'from-a', { qos: 2 });
  await waitFor(() => got.counts.has('from-b') && got.counts.has('from-a'), 5000, 'new messages from both nodes');
  assert.equal(got.counts.get('from-a'), 1);

  const moved = await waitForLog(a, (l) => l['msg'] === 'cluster session moved to another node' && l['clientId'] === id, 'the move in node A log');
  // Durable QoS (the default): the persistent session's deliveries stay with the journal, none go in the handed-over state.
  assert.equal(moved['messages'], 0);
});

test('the session moves back and forth; a clean start on the other node still ends the old connection', async (t) => {
  const id = clientId('pingpong');
  const opts = { protocolVersion: 5 as const, clean: false, clientId: id, properties: { sessionExpiryInterval: 300 } };
  const onA = await connect(t, a.url, opts);
  await onA.subscribeAsync('pp/t', { qos: 1 });
  onA.end(true);
  const pub = await connect(t, a.url, { protocolVersion: 5 });
  await pub.publishAsync('pp/t', 'while-away', { qos: 1 });

  const { client: onB, got: gotB } = await connectTallying(t, b.url, opts);
  await waitFor(() => gotB.counts.has('while-away'), 5000, 'the queued message on node B');
  onB.end(true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await pub.publishAsync('pp/t', 'second-away', { qos: 1 });

  const { client: backOnA, got: gotA } = await connectTallying(t, a.url, opts);
  await waitFor(() => gotA.counts.has('second-away'), 5000, 'the message queued on B delivered on A');
  assert.equal(gotA.counts.has('while-away'), false, 'what B delivered is not delivered again');

  let reason = -1;
  backOnA.on('disconnect', (p) => {
    reason = p.reasonCode ?? -1;
  });
  const clean = await connect(t, b.url, { protocolVersion: 5, clean: true, clientId: id });
  await waitFor(() => reason !== -1, 5000, 'the DISCONNECT of the connection on A');
  assert.equal(reason, 0x8e);
  assert.ok(clean.connected);
});

test('every protocol: a STOMP client-id used on another node ends the STOMP connection (ERROR) and the other way round', async (t) => {
  const stompPort = (node: Broker): number => node.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp')!['port'] as number;
  const id = clientId('stomp-mover');
  const onA = await RawStomp.connect(t, stompPort(a), { 'client-id': id });
  // The same client id from MQTT on node B.
  const mqttB = await connect(t, b.url, { protocolVersion: 5, clientId: id });
  const error = await onA.take((f) => f.command === 'ERROR', 'the ERROR frame on node A', 5000);
  assert.match(error.header('message') ?? '', /taken over/);
  // And from STOMP on node A again: the MQTT connection on B ends with 0x8E.
  let reason = -1;
  mqttB.on('disconnect', (p) => {
    reason = p.reasonCode ?? -1;
  });
  await RawStomp.connect(t, stompPort(a), { 'client-id': id });
  await waitFor(() => reason !== -1, 5000, 'the DISCONNECT on node B');
  assert.equal(reason, 0x8e);
});

test('every protocol: a JT/T 808 terminal logging in on another node ends its connection on the first', async (t) => {
  const phone = testPhone(152);
  const onA = await onlineTerminal(t, await jt808Port(a), phone);
  await onlineTerminal(t, await jt808Port(b), phone);
  await onA.waitClosed(5000);
  assert.equal(onA.closed, true);
});

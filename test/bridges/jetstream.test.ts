/**
 * The NATS JetStream bridge against Debian's nats-server (-js): MQTT messages are stored in the
 * stream holding their subject, with the key and user properties as headers; messages of a
 * stream reach MQTT subscribers through a durable consumer and are acknowledged after Junction
 * accepted them; a subject no stream holds is refused and counted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as natsConnect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { connect, waitFor } from '../interop/harness.js';
import { bridgedBroker, bridgeStats, consumeCount, eventually, forwardCount, subscriber } from './helpers.js';

let nats: ServiceProcess;
let nc: NatsConnection;
before(async () => {
  nats = await ServiceProcess.nats();
  nc = await natsConnect({ servers: `nats://127.0.0.1:${nats.port}` });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'] });
  await jsm.streams.add({ name: 'CMDS', subjects: ['cmds.>'] });
});
after(async () => {
  await nc.close();
  await nats.stop();
});

test('MQTT to JetStream: stored in the stream of the subject, key and user properties as headers; no stream = refused', async (t) => {
  const broker = await bridgedBroker(t, [
    {
      name: 'js',
      type: 'jetstream',
      servers: [`nats://127.0.0.1:${nats.port}`],
      forward: [
        { from: 'sensors/+/temp', to: 'events.${topic[1]}.temp', key: '${clientid}' },
        { from: 'nowhere/#', to: 'unstored.subject' },
      ],
    },
  ]);
  const pub = await connect(t, broker.url, { clientId: 'probe-3', protocolVersion: 5 });
  await pub.publishAsync('sensors/3/temp', '21.5', { qos: 1, properties: { userProperties: { unit: 'C' } } });
  await pub.publishAsync('nowhere/x', 'lost', { qos: 1 });
  const stats = await bridgeStats(broker, 'js', (l) => forwardCount(l, 0, 'forwarded') === 1 && forwardCount(l, 1, 'failed') === 1);
  assert.equal(forwardCount(stats, 1, 'buffered'), 0);
  const jsm = await jetstreamManager(nc);
  const stored = await jsm.streams.getMessage('EVENTS', { last_by_subj: 'events.3.temp' });
  assert.ok(stored !== null);
  assert.equal(stored.string(), '21.5');
  assert.equal(stored.header.get('Junction-Key'), 'probe-3');
  assert.equal(stored.header.get('unit'), 'C');
});

test('JetStream to MQTT: a durable consumer, ${key} from the Junction-Key header, acknowledged after the publish', async (t) => {
  const broker = await bridgedBroker(t, [{ name: 'jin', type: 'jetstream', servers: [`nats://127.0.0.1:${nats.port}`], consume: [{ from: 'cmds.>', group: 'junction', to: 'cmd/${key}', qos: 1 }] }]);
  const { messages } = await subscriber(t, broker.url, 'cmd/#');
  const jsm = await jetstreamManager(nc);
  await eventually(
    async () =>
      jsm.consumers.info('CMDS', 'junction').then(
        () => true,
        () => false,
      ),
    10_000,
    'the durable consumer junction on CMDS',
  );
  const js = jetstream(nc);
  for (const [dev, text] of [
    ['lamp1', 'on'],
    ['lamp2', 'off'],
  ] as const) {
    const h = headers();
    h.set('Junction-Key', dev);
    h.set('origin', 'scheduler');
    await js.publish(`cmds.${dev}`, text, { headers: h });
  }
  await waitFor(() => messages.length === 2, 10_000, 'two commands on cmd/#');
  assert.deepEqual(
    messages.map((m) => [m.topic, m.payload.toString()]),
    [
      ['cmd/lamp1', 'on'],
      ['cmd/lamp2', 'off'],
    ],
  );
  assert.deepEqual({ ...messages[1]!.packet.properties?.userProperties }, { origin: 'scheduler' });
  await bridgeStats(broker, 'jin', (l) => consumeCount(l, 0, 'consumed') === 2);
  await eventually(
    async () => {
      const info = await jsm.consumers.info('CMDS', 'junction');
      return info.num_ack_pending === 0 && info.num_pending === 0;
    },
    5000,
    'both messages acknowledged',
  );
});

/**
 * Kafka away: the outbox holds QoS 1 messages the publishers had acknowledged, survives kill -9
 * of Junction, and replays them in order per key once Kafka is back; a full outbox drops (and
 * counts) what does not fit, keeping what it holds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaMock } from '../../bench/lib/backend-services.js';
import { connect, waitFor } from '../interop/harness.js';
import { bridgedBroker, bridgeStats, forwardCount, readKafka } from './helpers.js';

let kafka: KafkaMock;
before(async () => {
  kafka = await KafkaMock.start();
});
after(() => kafka.stop());

/** Publishes `count` numbered QoS 1 messages from `clientId`, each acknowledged before the next returns. */
async function publishNumbered(t: Parameters<typeof connect>[0], url: string, clientId: string, count: number): Promise<void> {
  const pub = await connect(t, url, { clientId });
  for (let i = 0; i < count; i++) await pub.publishAsync(`fleet/${clientId}`, String(i), { qos: 1 });
  pub.end(true);
}

test('Kafka down: acknowledged messages wait in the outbox, survive kill -9, and replay in order per key', async (t) => {
  const topic = `outage-${process.pid}`;
  await kafka.createTopic(topic, 2);
  const broker = await bridgedBroker(
    t,
    [{ name: 'out', type: 'kafka', brokers: [kafka.bootstrap], connectTimeout: 500, requestTimeout: 2000, forward: [{ from: 'fleet/+', to: topic, key: '${clientid}' }] }],
    ['--bridge-retry-max', '1'],
  );
  await kafka.down();
  const n = 150;
  await Promise.all([publishNumbered(t, broker.url, 'a', n), publishNumbered(t, broker.url, 'b', n)]);
  // At once after the last PUBACK: an acknowledgement must mean the outbox write is durable.
  await broker.kill9();
  await broker.restart();
  assert.ok(
    broker.logs.some((l) => l['msg'] === 'bridge outbox restored' && l['records'] === 2 * n),
    'the restarted broker found every acknowledged message in its outbox',
  );
  await kafka.up();
  const records = await readKafka(kafka.bootstrap, topic, 2 * n, 30_000);
  for (const key of ['a', 'b']) {
    const mine = records.filter((r) => r.key === key).sort((x, y) => x.offset - y.offset);
    assert.ok(
      mine.every((r) => r.partition === mine[0]!.partition),
      `every record of ${key} in one partition`,
    );
    assert.deepEqual(
      mine.map((r) => Number(r.value.toString())),
      Array.from({ length: n }, (_, i) => i),
      `the records of ${key}, once each, in the order they were published`,
    );
  }
  const stats = await bridgeStats(broker, 'out', (l) => forwardCount(l, 0, 'forwarded') === 2 * n);
  assert.equal(forwardCount(stats, 0, 'buffered'), 0);
});

test('a full outbox (--bridge-outbox-max) drops new QoS 1 messages, a long queue drops QoS 0 (--bridge-qos0-buffer); both counted', async (t) => {
  const topic = `full-${process.pid}`;
  await kafka.createTopic(topic, 1);
  const broker = await bridgedBroker(
    t,
    [
      {
        name: 'full',
        type: 'kafka',
        brokers: [kafka.bootstrap],
        connectTimeout: 500,
        requestTimeout: 2000,
        forward: [
          { from: 'fleet/+', to: topic },
          { from: 'chatter/+', to: topic },
        ],
      },
    ],
    ['--bridge-outbox-max', '20', '--bridge-qos0-buffer', '23', '--bridge-retry-max', '1'],
  );
  await kafka.down();
  t.after(() => kafka.up());
  await publishNumbered(t, broker.url, 'c', 25);
  const chatter = await connect(t, broker.url, {});
  for (let i = 0; i < 5; i++) await chatter.publishAsync('chatter/x', `q0-${i}`, { qos: 0 });
  const stats = await bridgeStats(broker, 'full', (l) => forwardCount(l, 0, 'dropped') === 5 && forwardCount(l, 1, 'dropped') === 2);
  assert.equal(forwardCount(stats, 0, 'buffered'), 20, 'the oldest 20 QoS 1 messages kept');
  assert.equal(forwardCount(stats, 1, 'buffered'), 3, 'QoS 0 kept while fewer than 23 records waited');
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'bridge outbox full (--bridge-outbox-max): message dropped'), 5000, 'the log line');
  await kafka.up();
  const records = await readKafka(kafka.bootstrap, topic, 23);
  assert.deepEqual(
    records.map((r) => r.value.toString()),
    [...Array.from({ length: 20 }, (_, i) => String(i)), 'q0-0', 'q0-1', 'q0-2'],
  );
});

/**
 * The Kafka bridge against librdkafka's mock cluster (tools/kafka-mock): MQTT messages reach
 * Kafka with their key, headers and envelope; Kafka records reach MQTT subscribers and a JT/T 808
 * terminal; a record Junction refuses is dead-lettered and its offset still committed; with
 * Kafka down the outbox buffers, survives kill -9 and replays in order per key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaMock } from '../../bench/lib/backend-services.js';
import { clientId, connect, waitFor } from '../interop/harness.js';
import { jt808Port, onlineTerminal, testPhone } from '../protocols/jt808/helpers.js';
import { bridgedBroker, bridgeStats, committedOffset, consumeCount, forwardCount, produceKafka, readKafka, subscriber } from './helpers.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let kafka: KafkaMock;
before(async () => {
  kafka = await KafkaMock.start();
});
after(() => kafka.stop());

let topics = 0;
/** A fresh Kafka topic for one test. */
async function topic(partitions = 1): Promise<string> {
  const name = `t${++topics}-${process.pid}`;
  await kafka.createTopic(name, partitions);
  return name;
}

test('MQTT to Kafka: key from the client id, user properties as headers, raw bytes or a JSON envelope', async (t) => {
  const raw = await topic(2);
  const enveloped = await topic();
  const broker = await bridgedBroker(t, [
    {
      name: 'k',
      type: 'kafka',
      brokers: [kafka.bootstrap],
      forward: [
        { from: 'fleet/#', to: raw, key: '${clientid}' },
        { from: 'fleet/+/env', to: enveloped, key: '${topic[1]}', payload: 'json' },
      ],
    },
  ]);
  const id = clientId('truck');
  const pub = await connect(t, broker.url, { clientId: id, protocolVersion: 5 });
  await pub.publishAsync('fleet/7/env', Buffer.from([0, 1, 2, 250]), { qos: 1, properties: { userProperties: { unit: 'C' }, contentType: 'application/octet-stream' } });
  await pub.publishAsync('fleet/7/gps', 'here', { qos: 1 });
  await pub.publishAsync('other/7', 'not forwarded', { qos: 1 });

  const records = await readKafka(kafka.bootstrap, raw, 2);
  records.sort((a, b) => a.offset - b.offset);
  assert.deepEqual(
    records.map((r) => [r.key, r.value.toString('hex'), r.headers['unit']]),
    [
      [id, '000102fa', 'C'],
      [id, Buffer.from('here').toString('hex'), undefined],
    ],
  );
  const [env] = await readKafka(kafka.bootstrap, enveloped, 1);
  assert.equal(env!.key, '7');
  const body = JSON.parse(env!.value.toString()) as Record<string, unknown>;
  assert.equal(body['clientid'], id);
  assert.equal(body['topic'], 'fleet/7/env');
  assert.equal(body['qos'], 1);
  assert.equal(body['payload'], Buffer.from([0, 1, 2, 250]).toString('base64'));
  assert.deepEqual(body['properties'], { contentType: 'application/octet-stream', userProperties: [['unit', 'C']] });
  const stats = await bridgeStats(broker, 'k', (l) => forwardCount(l, 0, 'forwarded') === 2 && forwardCount(l, 1, 'forwarded') === 1);
  assert.equal(forwardCount(stats, 0, 'buffered'), 0);
});

test('Kafka to MQTT and to a JT/T 808 terminal: ${key} and headers in the topic, headers as user properties, offsets committed', async (t) => {
  const commands = await topic();
  const jt808 = await topic();
  const broker = await bridgedBroker(
    t,
    [
      {
        name: 'kin',
        type: 'kafka',
        brokers: [kafka.bootstrap],
        fetchMaxWait: 50,
        consume: [
          { from: commands, group: 'cmd', to: 'cmd/${key}/${headers.kind}', qos: 1 },
          { from: jt808, to: 'jt808/${key}/${key}/dn', qos: 1 },
        ],
      },
    ],
    ['--jt808-port', '0'],
  );
  const { messages } = await subscriber(t, broker.url, 'cmd/#');
  const phone = testPhone(171);
  const terminal = await onlineTerminal(t, await jt808Port(broker), phone);

  await produceKafka(kafka.bootstrap, commands, [{ key: 'dev1', value: 'reboot', headers: { kind: 'power', trace: 'abc' } }]);
  await produceKafka(kafka.bootstrap, jt808, [{ key: phone, value: JSON.stringify({ header: { msg_id: 0x8300 }, body: { flag: 1, text: 'from kafka' } }) }]);

  await waitFor(() => messages.length > 0, 15_000, 'the Kafka record on cmd/#');
  const m = messages[0]!;
  assert.equal(m.topic, 'cmd/dev1/power');
  assert.equal(m.payload.toString(), 'reboot');
  assert.deepEqual({ ...m.packet.properties?.userProperties }, { kind: 'power', trace: 'abc' });

  const text = await terminal.expect('the 8300 text from Kafka', (r) => r.header['msg_id'] === 0x8300, 15_000);
  assert.equal(text.body['text'], 'from kafka');

  const stats = await bridgeStats(broker, 'kin', (l) => consumeCount(l, 0, 'consumed') === 1 && consumeCount(l, 1, 'consumed') === 1);
  assert.equal(consumeCount(stats, 0, 'failed'), 0);
  assert.equal(await committedOffset(kafka.bootstrap, 'cmd', commands), 1);
});

test('a record Junction refuses (the bridge may not publish there) is counted, dead-lettered with the reason, and committed', async (t) => {
  const input = await topic();
  const dlq = await topic();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-acl-'));
  const acl = path.join(dir, 'acl');
  writeFileSync(acl, 'topic readwrite #\nuser kafka-in\ntopic write cmd/#\n');
  const broker = await bridgedBroker(
    t,
    [{ name: 'kin', type: 'kafka', username: 'kafka-in', brokers: [kafka.bootstrap], fetchMaxWait: 50, consume: [{ from: input, group: 'g', to: '${key}', deadLetter: dlq }] }],
    ['--allow-anonymous', '--acl-file', acl],
  );
  const { messages } = await subscriber(t, broker.url, '#');
  await produceKafka(kafka.bootstrap, input, [
    { key: 'secret/door', value: 'open' },
    { key: 'cmd/ok', value: 'fine' },
  ]);
  const [dead] = await readKafka(kafka.bootstrap, dlq, 1);
  assert.equal(dead!.value.toString(), 'open');
  assert.match(dead!.headers['junction-error'] ?? '', /not authorized/);
  const stats = await bridgeStats(broker, 'kin', (l) => consumeCount(l, 0, 'consumed') === 1 && consumeCount(l, 0, 'deadLettered') === 1);
  assert.equal(consumeCount(stats, 0, 'failed'), 1);
  assert.deepEqual(
    messages.map((m) => m.topic),
    ['cmd/ok'],
  );
  assert.equal(await committedOffset(kafka.bootstrap, 'g', input), 2);
});

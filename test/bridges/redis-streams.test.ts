/**
 * The Redis Streams bridge against Debian's redis-server, read and written with redis-cli:
 * MQTT messages become stream entries (payload, key, h:* headers); entries of a consumer group
 * become MQTT messages and are acknowledged (XACK) once Junction accepted them; a wrong-type
 * key is refused and counted, not retried for ever.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { connect, waitFor } from '../interop/harness.js';
import { bridgedBroker, bridgeStats, consumeCount, eventually, forwardCount, subscriber } from './helpers.js';

const run = promisify(execFile);
let redis: ServiceProcess;
before(async () => {
  redis = await ServiceProcess.redis();
});
after(() => redis.stop());

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(redis.port), ...args]);
  return stdout.trim();
}

test('MQTT to a Redis stream: payload, key and user properties as fields; a refused entry is counted', async (t) => {
  await cli('SET', 'not-a-stream', 'x');
  const broker = await bridgedBroker(t, [
    {
      name: 'rs',
      type: 'redis-streams',
      url: `redis://127.0.0.1:${redis.port}`,
      forward: [
        { from: 'meters/+/kwh', to: 'meters:${topic[1]}', key: '${clientid}' },
        { from: 'broken/#', to: 'not-a-stream' },
      ],
    },
  ]);
  const pub = await connect(t, broker.url, { clientId: 'meter-9', protocolVersion: 5 });
  await pub.publishAsync('meters/9/kwh', '12.5', { qos: 1, properties: { userProperties: { site: 'north' } } });
  await pub.publishAsync('broken/x', 'never stored', { qos: 1 });
  const stats = await bridgeStats(broker, 'rs', (l) => forwardCount(l, 0, 'forwarded') === 1 && forwardCount(l, 1, 'failed') === 1);
  assert.equal(forwardCount(stats, 1, 'buffered'), 0, 'the refused entry is not retried');
  const entry = await cli('--no-raw', 'XRANGE', 'meters:9', '-', '+');
  assert.match(entry, /"payload"\n.*"12\.5"\n.*"key"\n.*"meter-9"\n.*"h:site"\n.*"north"/);
});

test('a Redis stream to MQTT: ${key} in the topic, h:* fields as user properties, XACK after the publish', async (t) => {
  const broker = await bridgedBroker(t, [
    { name: 'rin', type: 'redis-streams', url: `redis://127.0.0.1:${redis.port}`, block: 100, consume: [{ from: 'commands', group: 'junction', to: 'cmd/${key}', qos: 1 }] },
  ]);
  const { messages } = await subscriber(t, broker.url, 'cmd/#');
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'bridge connected'), 5000, 'the bridge connected');
  // The group is created when the rule starts; wait for it before adding entries.
  await eventually(async () => (await cli('XINFO', 'GROUPS', 'commands').catch(() => '')).includes('junction'), 5000, 'the consumer group');
  await cli('XADD', 'commands', '*', 'payload', 'open', 'key', 'gate1', 'h:by', 'ops');
  await cli('XADD', 'commands', '*', 'payload', 'close', 'key', 'gate2');
  await waitFor(() => messages.length === 2, 10_000, 'two commands on cmd/#');
  assert.deepEqual(
    messages.map((m) => [m.topic, m.payload.toString()]),
    [
      ['cmd/gate1', 'open'],
      ['cmd/gate2', 'close'],
    ],
  );
  assert.deepEqual({ ...messages[0]!.packet.properties?.userProperties }, { by: 'ops' });
  await bridgeStats(broker, 'rin', (l) => consumeCount(l, 0, 'consumed') === 2);
  await eventually(async () => (await cli('XPENDING', 'commands', 'junction')).startsWith('0'), 5000, 'no entry left pending (XACK)');
});

test('Redis away: the bridge buffers, reconnects and writes what waited, in order', async (t) => {
  const broker = await bridgedBroker(
    t,
    [{ name: 'rso', type: 'redis-streams', url: `redis://127.0.0.1:${redis.port}`, connectTimeout: 300, forward: [{ from: 'q/#', to: 'queued' }] }],
    ['--bridge-retry-max', '1'],
  );
  const pub = await connect(t, broker.url, { protocolVersion: 5 });
  await pub.publishAsync('q/a', 'before', { qos: 1 });
  await bridgeStats(broker, 'rso', (l) => forwardCount(l, 0, 'forwarded') === 1);
  await redis.halt();
  for (let i = 0; i < 5; i++) await pub.publishAsync('q/a', `during ${i}`, { qos: 1 });
  await bridgeStats(broker, 'rso', (l) => forwardCount(l, 0, 'buffered') === 5);
  await redis.restart();
  await bridgeStats(broker, 'rso', (l) => forwardCount(l, 0, 'forwarded') === 6 && forwardCount(l, 0, 'buffered') === 0, 20_000);
  // Redis kept nothing across its restart (no persistence here): the stream holds what waited.
  const entries = await cli('XRANGE', 'queued', '-', '+');
  assert.deepEqual(
    entries.split('\n').filter((line) => line.startsWith('during')),
    Array.from({ length: 5 }, (_, i) => `during ${i}`),
  );
});

test('a Redis stream into a full store: the entry stays pending (no XACK) and is delivered once there is room', { timeout: 60_000 }, async (t) => {
  const broker = await bridgedBroker(
    t,
    [{ name: 'rfull', type: 'redis-streams', url: `redis://127.0.0.1:${redis.port}`, block: 100, consume: [{ from: 'full-commands', group: 'junction', to: 'fullcmd/${key}', qos: 1 }] }],
    ['--max-store-size', '512KiB', '--allow-anonymous'],
  );
  // An offline persistent session: a consumed command is stored for it before the XACK.
  const offline = await connect(t, broker.url, { protocolVersion: 4, clean: false, clientId: 'offline-cmd' });
  await offline.subscribeAsync('fullcmd/#', { qos: 1 });
  await offline.endAsync();
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'bridge connected'), 5000, 'the bridge connected');
  await eventually(async () => (await cli('XINFO', 'GROUPS', 'full-commands').catch(() => '')).includes('junction'), 5000, 'the consumer group');
  // Fill the store with retained messages until it refuses (MQTT 5 PUBACK 0x97).
  const filler = await connect(t, broker.url, { protocolVersion: 5, clientId: 'filler' });
  let filled = 0;
  for (;;) {
    const refused = await filler.publishAsync(`fill/${filled}`, Buffer.alloc(4000, 0x61), { qos: 1, retain: true }).then(
      () => false,
      (err: { code?: number }) => err.code === 0x97,
    );
    if (refused) break;
    if (++filled > 2000) assert.fail('the store never refused');
  }
  await cli('XADD', 'full-commands', '*', 'payload', 'open', 'key', 'gate1');
  // Consumed, published, but not kept: not acknowledged to Redis.
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'bridge could not read from Redis; retrying'), 10_000, 'the bridge retrying the batch');
  assert.match(await cli('XPENDING', 'full-commands', 'junction'), /^1\n/);
  // Room again: the pending entry is delivered and acknowledged.
  for (let i = 0; i < filled; i++) await filler.publishAsync(`fill/${i}`, '', { qos: 1, retain: true });
  await eventually(async () => (await cli('XPENDING', 'full-commands', 'junction')).startsWith('0'), 15_000, 'the entry acknowledged once stored');
});

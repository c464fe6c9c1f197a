/**
 * Records fuzz seeds for the MQTT target (not a test; run after a build with
 * `node build/test/reliability/record-sessions.js`): real MQTT.js sessions (3.1, 3.1.1, 5.0)
 * through a recording proxy in front of a live broker, both directions, plus every codec test
 * vector. Writes test/corpus/mqtt/seed-*.bin: byte 0 = version index (0: 3.1, 1: 3.1.1, 2: 5.0).
 */
import net from 'node:net';
import mqtt from 'mqtt';
import { saveSeed } from '../../bench/fuzz/corpus.js';
import { startBroker, sleep } from '../interop/harness.js';
import { VECTORS } from '../protocols/mqtt/codec/vectors.js';

const VERSION_INDEX: Record<number, number> = { 3: 0, 4: 1, 5: 2 };

interface Recording {
  up: Buffer[];
  down: Buffer[];
}

/** A proxy that forwards one connection to `port` and records what passes each way. */
function recordingProxy(port: number): Promise<{ port: number; rec: Recording; close: () => void }> {
  const rec: Recording = { up: [], down: [] };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (d: Buffer) => {
      rec.up.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      rec.down.push(Buffer.from(d));
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ port: (server.address() as net.AddressInfo).port, rec, close: () => server.close() });
    });
  });
}

async function session(brokerPort: number, version: 3 | 4 | 5): Promise<Recording> {
  const proxy = await recordingProxy(brokerPort);
  const v5 = version === 5;
  const client = mqtt.connect(`mqtt://127.0.0.1:${proxy.port}`, {
    protocolVersion: version,
    ...(version === 3 ? { protocolId: 'MQIsdp' as const } : {}),
    clientId: `rec-${version}`,
    clean: !v5,
    reconnectPeriod: 0,
    will: { topic: 'rec/will', payload: Buffer.from('gone'), qos: 1, retain: false, ...(v5 ? { properties: { willDelayInterval: 2 } } : {}) },
    ...(v5 ? { properties: { sessionExpiryInterval: 60, receiveMaximum: 20, topicAliasMaximum: 4, userProperties: { app: 'rec' } } } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync({ 'rec/+/a': { qos: 1 }, 'rec/#': { qos: 2, ...(v5 ? { nl: true, rap: true, rh: 1 } : {}) } } as mqtt.ISubscriptionMap);
  for (const qos of [0, 1, 2] as const) {
    await client.publishAsync(`rec/${qos}/a`, Buffer.from(`payload at qos ${qos}`), {
      qos,
      retain: qos === 1,
      ...(v5
        ? {
            properties: {
              contentType: 'text/plain',
              messageExpiryInterval: 30,
              responseTopic: 'rec/reply',
              correlationData: Buffer.from([1, 2]),
              userProperties: { k: 'v' },
              payloadFormatIndicator: true,
            },
          }
        : {}),
    });
  }
  await client.publishAsync('rec/empty', Buffer.alloc(0), { qos: 1, retain: true });
  await sleep(200);
  await client.unsubscribeAsync(['rec/+/a', 'rec/#']);
  await client.endAsync();
  await sleep(100);
  proxy.close();
  return proxy.rec;
}

async function main(): Promise<void> {
  const broker = await startBroker({ args: ['--allow-anonymous'] });
  try {
    for (const version of [3, 4, 5] as const) {
      const rec = await session(broker.port, version);
      const v = Buffer.of(VERSION_INDEX[version]!);
      console.log(saveSeed('mqtt', `mqttjs-v${version}-client`, Buffer.concat([v, ...rec.up])));
      console.log(saveSeed('mqtt', `mqttjs-v${version}-broker`, Buffer.concat([v, ...rec.down])));
    }
  } finally {
    await broker.dispose();
  }
  for (const [i, vec] of VECTORS.entries()) {
    const bytes = Buffer.from(vec.hex.replace(/\s+/g, ''), 'hex');
    saveSeed('mqtt', `vector-${String(i).padStart(2, '0')}`, Buffer.concat([Buffer.of(VERSION_INDEX[vec.version]!), bytes]));
  }
  console.log(`${VECTORS.length} vectors saved`);
}

await main();

/** Bridge tests: a broker started with a bridge configuration, and reading what reached Kafka. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { brokerFor, connect, waitFor, type Broker, type LogLine, type TestContext } from '../interop/harness.js';
import type { IClientOptions, IPublishPacket } from 'mqtt';

/** Polls an async `check` every 50 ms until it holds, or throws after `timeoutMs` naming `what`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One MQTT message a subscriber received. */
export interface Got {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

/** An MQTT 5 subscriber to `filter` (QoS 1) collecting into `messages`; closed after the test. */
export async function subscriber(t: TestContext, url: string, filter: string, opts: IClientOptions = {}): Promise<{ messages: Got[] }> {
  const client = await connect(t, url, { protocolVersion: 5, ...opts });
  const messages: Got[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, packet }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages };
}

/** Writes `bridges` as a --bridge-config file in a temp folder; returns its path. */
export function bridgeConfigFile(bridges: unknown[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-bridges-'));
  const file = path.join(dir, 'bridges.json');
  writeFileSync(file, JSON.stringify({ bridges }, null, 2));
  return file;
}

/** A broker running `bridges` (plus `args`), stats logged every second, for one test. */
export async function bridgedBroker(t: TestContext, bridges: unknown[], args: string[] = [], dataDir?: string): Promise<Broker> {
  return brokerFor(t, { args: ['--bridge-config', bridgeConfigFile(bridges), '--bridge-stats-interval', '1', ...args], ...(dataDir === undefined ? {} : { dataDir }) });
}

/** The newest "bridge stats" line of `bridge`, once one satisfies `ready`. */
export async function bridgeStats(broker: Broker, bridge: string, ready: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
  const find = (): LogLine | undefined => {
    for (let i = broker.logs.length - 1; i >= 0; i--) {
      const l = broker.logs[i]!;
      if (l['msg'] === 'bridge stats' && l['bridge'] === bridge && ready(l)) return l;
    }
    return undefined;
  };
  try {
    await waitFor(() => find() !== undefined, timeoutMs, `a "bridge stats" line of ${bridge} that satisfies the test`);
  } catch (err) {
    const last = broker.logs.filter((l) => l['bridge'] === bridge).slice(-4);
    throw new Error(`${(err as Error).message}; its last lines:\n${last.map((l) => JSON.stringify(l)).join('\n')}`);
  }
  return find()!;
}

/** Counter `name` of forward rule `i` in a stats line. */
export function forwardCount(line: LogLine, i: number, name: string): number {
  return (line['forward'] as Array<Record<string, number>>)[i]?.[name] ?? -1;
}

/** Counter `name` of consume rule `i` in a stats line. */
export function consumeCount(line: LogLine, i: number, name: string): number {
  return (line['consume'] as Array<Record<string, number>>)[i]?.[name] ?? -1;
}

/** One record read back from Kafka. */
export interface KafkaRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

const quiet = { logLevel: logLevel.NOTHING };

/** Reads `count` records of `topic` from the beginning (a fresh consumer group), or fails naming what arrived. */
export async function readKafka(bootstrap: string, topic: string, count: number, timeoutMs = 15_000): Promise<KafkaRecord[]> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'test-reader', ...quiet });
  const consumer = kafka.consumer({ groupId: `reader-${process.pid}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 50 });
  const records: KafkaRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({
          partition,
          offset: Number(message.offset),
          key: message.key === null ? null : message.key.toString(),
          value: message.value ?? Buffer.alloc(0),
          headers: plainHeaders(message.headers),
        });
      },
    });
    await waitFor(() => records.length >= count, timeoutMs, `${count} records in Kafka topic ${topic} (${records.length} so far)`);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

function plainHeaders(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = (Array.isArray(v) ? v[v.length - 1]! : v).toString();
  return out;
}

/** Produces records to `topic` with a plain kafkajs producer. */
export async function produceKafka(bootstrap: string, topic: string, messages: Array<{ key?: string; value: string | Buffer; headers?: Record<string, string> }>): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'test-producer', ...quiet });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers ?? {} })) });
  } finally {
    await producer.disconnect();
  }
}

/** The committed offset of `group` on partition 0 of `topic` (-1 = none). */
export async function committedOffset(bootstrap: string, group: string, topic: string): Promise<number> {
  const admin = new Kafka({ brokers: [bootstrap], clientId: 'test-admin', ...quiet }).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return Number(entry?.partitions.find((p) => p.partition === 0)?.offset ?? -1);
  } finally {
    await admin.disconnect();
  }
}

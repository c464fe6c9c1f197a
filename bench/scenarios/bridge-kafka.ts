/**
 * The Kafka bridge side by side with the Kafka client alone, in one run, against librdkafka's
 * mock cluster (tools/kafka-mock; `make test-tools`):
 *   raw      kafkajs alone produces the messages in batches of --batch, one batch in flight,
 *            acks=all, keyed by publisher (what the bridge does);
 *   bridge   QoS 1 MQTT publishers into Junction (LMDB store), forwarded by a bridge with the
 *            same batch size; the clock stops when Kafka holds every message (high watermarks);
 *   latency  publisher PUBLISH→PUBACK at a fixed rate, Junction without a bridge, then with one;
 *   consume  records already in Kafka consumed by a bridge and delivered to an MQTT subscriber.
 * Rounds interleave raw and bridge runs; the medians and their ratio are printed as JSON, with
 * the ratio of each round (on a shared machine the median of those is steadier), the CPU time
 * per message of the raw client and of the Junction process (all its threads; Linux /proc), and
 * the load average before and after.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { FlagDef } from '../../src/config/flags.js';
import { KafkaMock } from '../lib/backend-services.js';
import { startJunction, type BrokerProcess } from '../lib/broker-process.js';
import { percentile, Qos1Publisher } from '../lib/qos1-publisher.js';
import { StreamClient } from '../lib/stream-client.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';

interface BridgeKafkaOptions {
  messages: number;
  payload: number;
  batch: number;
  partitions: number;
  publishers: number;
  window: number;
  rounds: number;
  latencyRate: number;
  latencySeconds: number;
  consume: number;
}

const FLAGS: readonly FlagDef<keyof BridgeKafkaOptions>[] = [
  { group: 'Load', name: 'messages', key: 'messages', kind: 'int', default: 200_000, min: 1000, max: 100_000_000, help: 'messages per raw and per bridge run' },
  { group: 'Load', name: 'payload', key: 'payload', kind: 'int', default: 64, min: 0, max: 1_000_000, help: 'payload bytes per message' },
  { group: 'Load', name: 'batch', key: 'batch', kind: 'int', default: 500, min: 1, max: 10_000, help: 'records per Kafka produce request (raw client and the bridge alike)' },
  { group: 'Load', name: 'partitions', key: 'partitions', kind: 'int', default: 4, min: 1, max: 64, help: 'partitions of each Kafka topic' },
  { group: 'Load', name: 'publishers', key: 'publishers', kind: 'int', default: 8, min: 1, max: 1000, help: 'QoS 1 MQTT publishers (and keys)' },
  { group: 'Load', name: 'window', key: 'window', kind: 'int', default: 64, min: 1, max: 65_000, help: 'unacknowledged QoS 1 messages per publisher (Junction runs with this --receive-maximum)' },
  { group: 'Load', name: 'rounds', key: 'rounds', kind: 'int', default: 3, min: 1, max: 50, help: 'interleaved raw and bridge runs; medians are reported' },
  { group: 'Latency', name: 'latency-rate', key: 'latencyRate', kind: 'int', default: 2000, min: 10, max: 1_000_000, help: 'messages per second of the latency runs' },
  { group: 'Latency', name: 'latency-seconds', key: 'latencySeconds', kind: 'int', default: 5, min: 1, max: 600, help: 'length of each latency run' },
  { group: 'Consume', name: 'consume', key: 'consume', kind: 'int', default: 100_000, min: 0, max: 100_000_000, help: 'records consumed from Kafka into MQTT (0 = skip)' },
];

const SPEC: ToolSpec = {
  command: 'node dist/bench/scenarios/bridge-kafka.js',
  about: [
    'MQTT to Kafka through a Junction bridge against kafkajs alone, to the same mock cluster with the same batching, in one run; publisher latency with the bridge off and on; Kafka to MQTT consumed records per second. Prints progress on stderr and one JSON line on stdout.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/bridge-kafka.js --messages 200000 --rounds 3'],
};

const o = parseToolArgs<BridgeKafkaOptions>(SPEC).values;
const progress = (msg: string): void => void process.stderr.write(`bridge-kafka: ${msg}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const payload = Buffer.alloc(o.payload, 0x61);

const kafka = await KafkaMock.start();
const client = new Kafka({ brokers: [kafka.bootstrap], clientId: 'bench', logLevel: logLevel.NOTHING });
const admin = client.admin();
await admin.connect();
let topics = 0;

async function freshTopic(): Promise<string> {
  const name = `bench-${++topics}`;
  await kafka.createTopic(name, o.partitions);
  return name;
}

async function held(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/** CPU seconds (user + system, every thread) of process `pid` so far; NaN where /proc is missing. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

const rawCpu: number[] = [];
const bridgeCpu: number[] = [];

/** kafkajs alone: batches of --batch, one in flight, keyed like the publishers. */
async function rawRun(): Promise<number> {
  const topic = await freshTopic();
  const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, maxInFlightRequests: 1 });
  await producer.connect();
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let sent = 0; sent < o.messages; ) {
    const messages = [];
    for (let i = 0; i < o.batch && sent < o.messages; i++, sent++) messages.push({ key: `pub-${sent % o.publishers}`, value: payload });
    await producer.send({ topic, acks: -1, messages });
  }
  const rate = o.messages / ((performance.now() - start) / 1000);
  const used = process.cpuUsage(cpu);
  rawCpu.push((used.user + used.system) / o.messages);
  await producer.disconnect();
  return rate;
}

function bridgeFile(bridges: unknown[]): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'junction-bench-bridge-')), 'bridges.json');
  writeFileSync(file, JSON.stringify({ bridges }));
  return file;
}

async function junctionWith(bridges: unknown[] | null, receiveMaximum = o.window): Promise<BrokerProcess> {
  const args = ['--receive-maximum', String(receiveMaximum)];
  if (bridges !== null) args.push('--bridge-config', bridgeFile(bridges), '--bridge-stats-interval', '0');
  return startJunction({ args });
}

/** QoS 1 publishers into a bridged Junction; stops when Kafka holds every message. */
async function bridgeRun(): Promise<number> {
  const topic = await freshTopic();
  const broker = await junctionWith([{ name: 'bench', type: 'kafka', brokers: [kafka.bootstrap], batchSize: o.batch, forward: [{ from: 'bench/+', to: topic, key: '${clientid}' }] }]);
  try {
    const pubs = await Promise.all(Array.from({ length: o.publishers }, (_, i) => Qos1Publisher.connect(broker.port, `pub-${i}`, `bench/${i}`, payload)));
    const per = Math.floor(o.messages / o.publishers);
    const total = per * o.publishers;
    const start = performance.now();
    const cpu = cpuSeconds(broker.process.pid!);
    await Promise.all(pubs.map((p) => p.run(per, o.window)));
    while ((await held(topic)) < total) await new Promise((resolve) => setTimeout(resolve, 10));
    const rate = total / ((performance.now() - start) / 1000);
    bridgeCpu.push(((cpuSeconds(broker.process.pid!) - cpu) * 1e6) / total);
    for (const p of pubs) p.close();
    return rate;
  } finally {
    await broker.dispose();
  }
}

/** PUBLISH→PUBACK at a fixed rate: p50 and p99 in ms. */
async function latencyRun(bridged: boolean): Promise<{ p50: number; p99: number }> {
  const topic = await freshTopic();
  const broker = await junctionWith(
    bridged ? [{ name: 'bench', type: 'kafka', brokers: [kafka.bootstrap], batchSize: o.batch, forward: [{ from: 'bench/+', to: topic, key: '${clientid}' }] }] : null,
    // Paced, not windowed: acknowledgements waiting for a commit must not hit the receive maximum.
    65_535,
  );
  try {
    const pub = await Qos1Publisher.connect(broker.port, 'lat', 'bench/lat', payload);
    await pub.paced(o.latencyRate, 1); // warm-up
    pub.latencies.length = 0;
    await pub.paced(o.latencyRate, o.latencySeconds);
    pub.close();
    return { p50: round(percentile(pub.latencies, 50)), p99: round(percentile(pub.latencies, 99)) };
  } finally {
    await broker.dispose();
  }
}

/** Records already in Kafka, consumed by a bridge and delivered to an MQTT subscriber. */
async function consumeRun(): Promise<number> {
  const topic = await freshTopic();
  const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  for (let sent = 0; sent < o.consume; ) {
    const messages = [];
    for (let i = 0; i < o.batch && sent < o.consume; i++, sent++) messages.push({ key: `dev-${sent % 100}`, value: payload });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  const broker = await junctionWith([{ name: 'in', type: 'kafka', brokers: [kafka.bootstrap], batchSize: o.batch, consume: [{ from: topic, to: 'in/${key}', qos: 1 }] }]);
  try {
    const sub = await StreamClient.connect(broker.port, 'bench-sub');
    await sub.subscribe('in/#', 0);
    let first = 0;
    let last = 0;
    sub.onPublish = () => {
      last = performance.now();
      if (first === 0) first = last;
    };
    const until = Date.now() + 120_000;
    while (sub.publishes < o.consume && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    sub.close();
    if (sub.publishes < o.consume) throw new Error(`only ${sub.publishes} of ${o.consume} records reached the subscriber within 120 s`);
    return (o.consume - 1) / ((last - first) / 1000);
  } finally {
    await broker.dispose();
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;
const loadBefore = os.loadavg().map(round);
const raw: number[] = [];
const bridged: number[] = [];
for (let r = 1; r <= o.rounds; r++) {
  raw.push(await rawRun());
  progress(`round ${r}/${o.rounds}: raw kafkajs ${Math.round(raw.at(-1)!)} msg/s`);
  bridged.push(await bridgeRun());
  progress(`round ${r}/${o.rounds}: through the bridge ${Math.round(bridged.at(-1)!)} msg/s`);
}
const off = await latencyRun(false);
progress(`latency without a bridge: p50 ${off.p50} ms, p99 ${off.p99} ms`);
const on = await latencyRun(true);
progress(`latency with a bridge: p50 ${on.p50} ms, p99 ${on.p99} ms`);
const consumed = o.consume > 0 ? await consumeRun() : 0;
if (o.consume > 0) progress(`Kafka to MQTT: ${Math.round(consumed)} records/s`);
await admin.disconnect();
await kafka.stop();
const rawMedian = median(raw);
const bridgeMedian = median(bridged);
const roundRatios = raw.map((r, i) => round(bridged[i]! / r));
process.stdout.write(
  JSON.stringify({
    bench: 'bridge-kafka',
    options: o,
    rawMsgPerSec: Math.round(rawMedian),
    bridgeMsgPerSec: Math.round(bridgeMedian),
    ratio: round(bridgeMedian / rawMedian),
    medianRoundRatio: median(roundRatios),
    rounds: { raw: raw.map(Math.round), bridge: bridged.map(Math.round), ratio: roundRatios },
    cpuMicrosPerMessage: { rawClient: round(median(rawCpu)), junction: round(median(bridgeCpu)) },
    loadAverage: { before: loadBefore, after: os.loadavg().map(round) },
    latencyMs: { bridgeOff: off, bridgeOn: on },
    consumeRecordsPerSec: Math.round(consumed),
  }) + '\n',
);

/**
 * Kafka through kafkajs (pure JavaScript, no dependencies of its own; see docs/BRIDGES.md for
 * why it and not @platformatic/kafka). Forward: one producer in a worker thread
 * (kafka-producer-worker.ts), batches sent with acks=all and kafkajs's own retries off (the
 * bridge runtime retries, in order), up to PIPELINE_DEPTH posted ahead and sent one at a time. The idempotent producer
 * stays off: librdkafka's mock cluster answers controller id 0, which kafkajs's
 * InitProducerId handling does not accept, and one batch in flight per bridge keeps order
 * anyway. Consume: one consumer group per rule, offsets committed by hand after the batch was
 * accepted by Junction.
 */
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel, type Consumer, type IHeaders, type LogEntry } from 'kafkajs';
import { RejectedError, type BackendContext, type BackendModule, type BridgeBackend, type InRecord, type OptionReader, type OutRecord, type RecordSink } from '../backend.js';
import type { ConsumeRule } from '../config.js';
import type { ProducerBatch, ProducerReply, ProducerWorkerSetup } from './kafka-producer-worker.js';

export interface KafkaOptions {
  readonly brokers: string[];
  /** ms to wait for a broker connection */
  readonly connectTimeout: number;
  /** ms to wait for a produce acknowledgement */
  readonly requestTimeout: number;
  /** ms an empty fetch waits on the broker (the mock cluster always waits all of it) */
  readonly fetchMaxWait: number;
}

/** Kafka error types that no retry will cure: the record is refused for good. */
const REFUSED = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'POLICY_VIOLATION',
  'INVALID_REQUIRED_ACKS',
]);

export const KAFKA_BACKEND: BackendModule<KafkaOptions> = {
  bridgeKeys: ['brokers', 'connectTimeout', 'requestTimeout', 'fetchMaxWait'],
  consumeKeys: ['fromBeginning'],
  consumes: true,
  parse(read: OptionReader): KafkaOptions {
    return {
      brokers: read.strings('brokers'),
      connectTimeout: read.int('connectTimeout', 100, 600_000, 5000),
      requestTimeout: read.int('requestTimeout', 100, 600_000, 30_000),
      fetchMaxWait: read.int('fetchMaxWait', 0, 60_000, 100),
    };
  },
  create(options: KafkaOptions, context: BackendContext): BridgeBackend {
    return new KafkaBackend(options, context);
  },
};

/** Batches posted to the producer thread ahead of the one Kafka is answering. */
const PIPELINE_DEPTH = 4;

class KafkaBackend implements BridgeBackend {
  readonly pipelineDepth = PIPELINE_DEPTH;
  private readonly kafka: Kafka;
  /** A batch failed: the next one posted tells the producer thread to send again. */
  private resume = false;
  private readonly consumers: Consumer[] = [];
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: ProducerReply) => void>();

  constructor(
    private readonly options: KafkaOptions,
    private readonly context: BackendContext,
  ) {
    const log = context.log;
    this.kafka = new Kafka({
      clientId: context.clientId,
      brokers: options.brokers,
      connectionTimeout: options.connectTimeout,
      requestTimeout: options.requestTimeout,
      retry: { retries: 0 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const fields = { bridge: context.bridge, kafka: entry.log.message, broker: (entry.log as { broker?: string }).broker };
        if (entry.level === logLevel.ERROR) log.debug('kafka client error', fields);
        else log.debug('kafka client warning', fields);
      },
    });
  }

  async connect(): Promise<void> {
    const reply = await this.request({ id: 0, connect: true });
    if (!reply.ok) throw new Error(`Kafka at ${this.options.brokers.join(',')}: ${reply.message}`);
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    const batch = packBatch(records, this.resume);
    this.resume = false;
    const reply = await this.request(batch);
    if (reply.ok) return;
    this.resume = true;
    if (reply.type !== null && REFUSED.has(reply.type)) throw new RejectedError(`Kafka refused the record: ${reply.type}`);
    throw new Error(`Kafka at ${this.options.brokers.join(',')}: ${reply.message}`);
  }

  /** Hands one request to the producer worker (started on first use) and waits for its answer. */
  private request(msg: ProducerBatch | { id: number; connect: true }): Promise<ProducerReply> {
    const worker = (this.worker ??= this.startWorker());
    msg.id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(msg.id, resolve);
      if ('bytes' in msg) worker.postMessage(msg, [msg.bytes.buffer as ArrayBuffer]);
      else worker.postMessage(msg);
    });
  }

  private startWorker(): Worker {
    const setup: ProducerWorkerSetup = {
      clientId: this.context.clientId,
      brokers: this.options.brokers,
      connectTimeout: this.options.connectTimeout,
      requestTimeout: this.options.requestTimeout,
    };
    const worker = new Worker(new URL('./kafka-producer-worker.js', import.meta.url), { workerData: setup });
    worker.unref();
    worker.on('message', (reply: ProducerReply) => {
      const done = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      done?.(reply);
    });
    worker.on('error', (err) => this.workerGone(err.message));
    worker.on('exit', (code) => this.workerGone(`the Kafka producer thread exited (${code})`));
    return worker;
  }

  /** Fails what waited on a worker that died; the next send starts another. */
  private workerGone(message: string): void {
    this.worker = null;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const [id, done] of waiting) done({ id, ok: false, type: null, message });
  }

  async consume(rule: ConsumeRule, _index: number, sink: RecordSink): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: rule.group, maxWaitTimeInMs: this.options.fetchMaxWait, retry: { retries: 5 } });
    this.consumers.push(consumer);
    await consumer.connect();
    const fromBeginning = rule.options.bool('fromBeginning', true);
    await consumer.subscribe({ topic: rule.from, fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        const records: InRecord[] = batch.messages.map((m) => ({
          topic: batch.topic,
          key: m.key === null ? '' : m.key.toString('utf8'),
          value: m.value ?? Buffer.alloc(0),
          headers: recordHeaders(m.headers),
        }));
        await sink(records);
        const last = batch.messages[batch.messages.length - 1]!;
        // The fetch position moves past the batch only once it is resolved; then the commit.
        resolveOffset(last.offset);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
        await heartbeat();
      },
    });
    this.context.log.debug('kafka consumer running', { bridge: this.context.bridge, topic: rule.from, group: rule.group });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.disconnect()));
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }
}

/** One batch as the worker takes it: the values copied back to back into one transferable buffer. */
export function packBatch(records: readonly OutRecord[], resume: boolean): ProducerBatch {
  const n = records.length;
  const offsets = new Uint32Array(n + 1);
  let size = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = size;
    size += records[i]!.value.length;
  }
  offsets[n] = size;
  const bytes = new Uint8Array(new ArrayBuffer(size));
  const topics: string[] = [];
  const topicOf = new Uint16Array(n);
  const keys: Array<string | null> = new Array(n);
  const headers: Array<Array<[string, string]> | null> = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    bytes.set(r.value, offsets[i]);
    let t = topics.indexOf(r.to);
    if (t === -1) t = topics.push(r.to) - 1;
    topicOf[i] = t;
    keys[i] = r.key;
    headers[i] = r.headers;
  }
  return { id: 0, resume, topics, topicOf, keys, offsets, bytes, headers };
}

function recordHeaders(headers: IHeaders | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (headers === undefined) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    // A repeated header: the last value (user properties keep only one per key here).
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last !== undefined) out.set(k, last.toString());
  }
  return out;
}

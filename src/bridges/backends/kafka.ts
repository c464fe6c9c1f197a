/**
 * Kafka through kafkajs (pure JavaScript, no dependencies of its own; see docs/BRIDGES.md for
 * why it and not @platformatic/kafka). Forward: one producer, batches sent with acks=all and
 * kafkajs's own retries off (the bridge runtime retries, in order). The idempotent producer
 * stays off: librdkafka's mock cluster answers controller id 0, which kafkajs's
 * InitProducerId handling does not accept, and one batch in flight per bridge keeps order
 * anyway. Consume: one consumer group per rule, offsets committed by hand after the batch was
 * accepted by Junction.
 */
import { Kafka, logLevel, Partitioners, type Consumer, type IHeaders, type LogEntry, type Producer } from 'kafkajs';
import { RejectedError, type BackendContext, type BackendModule, type BridgeBackend, type InRecord, type OptionReader, type OutRecord, type RecordSink } from '../backend.js';
import type { ConsumeRule } from '../config.js';

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

class KafkaBackend implements BridgeBackend {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly consumers: Consumer[] = [];
  private producerUp = false;

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
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1, retry: { retries: 0 } });
    this.producer.on('producer.disconnect', () => {
      this.producerUp = false;
    });
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
      this.producerUp = true;
    } catch (err) {
      throw new Error(`Kafka at ${this.options.brokers.join(',')}: ${(err as Error).message}`);
    }
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    if (!this.producerUp) await this.connect();
    const byTopic = new Map<string, Array<{ key: string | null; value: Buffer; headers?: IHeaders }>>();
    for (const r of records) {
      let messages = byTopic.get(r.to);
      if (messages === undefined) byTopic.set(r.to, (messages = []));
      messages.push(r.headers === null ? { key: r.key, value: r.value } : { key: r.key, value: r.value, headers: kafkaHeaders(r.headers) });
    }
    try {
      await this.producer.sendBatch({ acks: -1, timeout: this.options.requestTimeout, topicMessages: Array.from(byTopic, ([topic, messages]) => ({ topic, messages })) });
    } catch (err) {
      const type = errorType(err);
      if (type !== null && REFUSED.has(type)) throw new RejectedError(`Kafka refused the record: ${type}`);
      throw err;
    }
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
    await this.producer.disconnect().catch(() => undefined);
  }
}

function kafkaHeaders(headers: Array<[string, string]>): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of headers) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
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

/** The Kafka error type inside a kafkajs error (it wraps them in retriable and aggregate errors). */
function errorType(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const o = e as { type?: unknown; cause?: unknown; errors?: unknown[]; originalError?: unknown };
    if (typeof o.type === 'string' && o.type !== 'UNKNOWN') return o.type;
    if (Array.isArray(o.errors) && o.errors.length > 0) e = o.errors[0];
    else e = o.originalError ?? o.cause;
  }
  return null;
}

/**
 * The Kafka bridge's producer in a worker thread: kafkajs spends more CPU per record than the
 * rest of the forward path together (encoding, CRC32C, partitioning), so it runs beside the
 * event loop that serves the devices. The main thread posts batches as one transferred buffer
 * each (values back to back) plus keys, lengths and headers, up to the backend's pipeline depth
 * ahead; the worker sends them one after the other, each once the one before it was
 * acknowledged, so the next batch leaves the moment Kafka answers, whatever the event loop is
 * doing. It answers with the batch id, and the Kafka error type when the send failed; after a
 * failure it sends nothing more (answering "not sent") until a batch marked `resume` arrives,
 * which the main thread posts only once every earlier batch was answered.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel, Partitioners, type ICustomPartitioner, type IHeaders, type PartitionerArgs } from 'kafkajs';

/** What the worker is started with. */
export interface ProducerWorkerSetup {
  clientId: string;
  brokers: string[];
  connectTimeout: number;
  requestTimeout: number;
}

/** One batch for the worker: record i's value is bytes[offsets[i], offsets[i+1]). */
export interface ProducerBatch {
  id: number;
  /** the first batch after a failure: sending starts again */
  resume: boolean;
  topics: string[];
  /** index into topics, per record */
  topicOf: Uint16Array;
  keys: Array<string | null>;
  offsets: Uint32Array;
  bytes: Uint8Array;
  headers: Array<Array<[string, string]> | null>;
}

/** The worker's answer: ok, or the Kafka error type (null when it has none) and message. */
export type ProducerReply = { id: number; ok: true } | { id: number; ok: false; type: string | null; message: string };

if (parentPort !== null && workerData !== undefined) {
  const setup = workerData as ProducerWorkerSetup;
  const port = parentPort;
  const kafka = new Kafka({
    clientId: setup.clientId,
    brokers: setup.brokers,
    connectionTimeout: setup.connectTimeout,
    requestTimeout: setup.requestTimeout,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ createPartitioner: keyedPartitioner, allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1, retry: { retries: 0 } });
  let connected: Promise<void> | null = null;
  producer.on('producer.disconnect', () => {
    connected = null;
  });
  const connect = (): Promise<void> => {
    connected ??= producer.connect().catch((err: unknown) => {
      connected = null;
      throw err;
    });
    return connected;
  };
  const send = async (msg: ProducerBatch): Promise<ProducerReply> => {
    try {
      await connect();
      await producer.sendBatch({ acks: -1, timeout: setup.requestTimeout, topicMessages: topicMessages(msg) });
      return { id: msg.id, ok: true };
    } catch (err) {
      return { id: msg.id, ok: false, type: errorType(err), message: (err as Error).message };
    }
  };
  const notSent = (id: number): ProducerReply => ({ id, ok: false, type: null, message: 'not sent: an earlier batch failed' });
  const waiting: ProducerBatch[] = [];
  let busy = false;
  let halted = false;
  const drain = async (): Promise<void> => {
    busy = true;
    while (waiting.length > 0) {
      const reply = await send(waiting.shift()!);
      port.postMessage(reply);
      if (!reply.ok) {
        // Order: nothing after a failed batch leaves until the main thread has taken it back.
        halted = true;
        for (const later of waiting.splice(0)) port.postMessage(notSent(later.id));
      }
    }
    busy = false;
  };
  port.on('message', (msg: ProducerBatch | { id: number; connect: true }) => {
    if ('connect' in msg) {
      connect().then(
        () => port.postMessage({ id: msg.id, ok: true } satisfies ProducerReply),
        (err: unknown) => port.postMessage({ id: msg.id, ok: false, type: errorType(err), message: (err as Error).message } satisfies ProducerReply),
      );
      return;
    }
    if (msg.resume) halted = false;
    if (halted) {
      port.postMessage(notSent(msg.id));
      return;
    }
    waiting.push(msg);
    if (!busy) void drain();
  });
}

/** Keys remembered per topic before the table starts over (a key per device: bounded memory). */
const KNOWN_KEYS_MAX = 100_000;

/**
 * kafkajs's default partitioner (murmur2 of the key, as the Java client) remembering the
 * partition of each key: bridge keys repeat (a key per device), and the hash and kafkajs's scan
 * of the partition list per message cost more than a lookup. Records without a key go to the
 * default partitioner (round robin over available partitions).
 */
export function keyedPartitioner(): ReturnType<ICustomPartitioner> {
  const fallback = Partitioners.DefaultPartitioner();
  const topics = new Map<string, { partitions: number; known: Map<string, number> }>();
  return (args: PartitionerArgs): number => {
    const { key, partition } = args.message;
    if (typeof key !== 'string' || (partition !== undefined && partition !== null)) return fallback(args);
    const partitions = args.partitionMetadata.length;
    let topic = topics.get(args.topic);
    if (topic === undefined || topic.partitions !== partitions || topic.known.size >= KNOWN_KEYS_MAX) {
      topic = { partitions, known: new Map() };
      topics.set(args.topic, topic);
    }
    let p = topic.known.get(key);
    if (p === undefined) {
      p = fallback(args);
      topic.known.set(key, p);
    }
    return p;
  };
}

function topicMessages(b: ProducerBatch): Array<{ topic: string; messages: Array<{ key: string | null; value: Buffer; headers?: IHeaders }> }> {
  const out = b.topics.map((topic) => ({ topic, messages: [] as Array<{ key: string | null; value: Buffer; headers?: IHeaders }> }));
  const bytes = b.bytes;
  for (let i = 0; i < b.keys.length; i++) {
    const value = Buffer.from(bytes.buffer, bytes.byteOffset + b.offsets[i]!, b.offsets[i + 1]! - b.offsets[i]!);
    const h = b.headers[i];
    out[b.topicOf[i]!]!.messages.push(h === null || h === undefined ? { key: b.keys[i]!, value } : { key: b.keys[i]!, value, headers: kafkaHeaders(h) });
  }
  return out;
}

/** Record headers for kafkajs; a repeated name becomes a list. */
export function kafkaHeaders(headers: Array<[string, string]>): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of headers) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

/** The Kafka error type inside a kafkajs error (it wraps them in retriable and aggregate errors). */
export function errorType(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const o = e as { type?: unknown; cause?: unknown; errors?: unknown[]; originalError?: unknown };
    if (typeof o.type === 'string' && o.type !== 'UNKNOWN') return o.type;
    if (Array.isArray(o.errors) && o.errors.length > 0) e = o.errors[0];
    else e = o.originalError ?? o.cause;
  }
  return null;
}

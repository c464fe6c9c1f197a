/**
 * The Kafka bridge's producer in a worker thread: kafkajs spends more CPU per record than the
 * rest of the forward path together (encoding, CRC32C, partitioning), so it runs beside the
 * event loop that serves the devices. The main thread sends one batch at a time as one
 * transferred buffer (values back to back) plus keys, lengths and headers; the worker answers
 * with the batch id, and the Kafka error type when the send failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel, Partitioners, type IHeaders } from 'kafkajs';

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
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1, retry: { retries: 0 } });
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
  port.on('message', (msg: ProducerBatch | { id: number; connect: true }) => {
    void (async (): Promise<ProducerReply> => {
      try {
        await connect();
        if ('connect' in msg) return { id: msg.id, ok: true };
        await producer.sendBatch({ acks: -1, timeout: setup.requestTimeout, topicMessages: topicMessages(msg) });
        return { id: msg.id, ok: true };
      } catch (err) {
        return { id: msg.id, ok: false, type: errorType(err), message: (err as Error).message };
      }
    })().then((reply) => port.postMessage(reply));
  });
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

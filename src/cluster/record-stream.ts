/**
 * A JetStream stream used as a table with one record per key (a key-value bucket built on the
 * JetStream API alone): the newest message of a key's subject is its record, an empty one means
 * "none". Writes may name the sequence they replace, which JetStream checks atomically
 * (Nats-Expected-Last-Subject-Sequence), so two nodes racing for one key cannot both win.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log/logger.js';
import { ensureStream } from './streams.js';

/** A record as read: its value and the sequence a conditional write names. */
export interface Versioned<T> {
  value: T;
  seq: number;
}

const EMPTY = new Uint8Array(0);

/** JSON.stringify replacer keeping Buffers as {"$b": base64} (payloads, correlation data). */
export function bufferReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return Buffer.isBuffer(raw) ? { $b: raw.toString('base64') } : value;
}

/** JSON.parse reviver turning {"$b": base64} back into a Buffer. */
export function bufferReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { $b?: unknown }).$b === 'string') return Buffer.from((value as { $b: string }).$b, 'base64');
  return value;
}

/** Text of `value` with its Buffers in base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, bufferReplacer);
}

/** The value of toJson's text. */
export function fromJson<T>(text: string): T {
  return JSON.parse(text, bufferReviver) as T;
}

/** A write that named a sequence the key no longer has (another node wrote first). */
export class RecordConflictError extends Error {
  constructor(key: string) {
    super(`record ${key} changed meanwhile`);
    this.name = 'RecordConflictError';
  }
}

export class RecordStream<T> {
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;

  constructor(
    readonly name: string,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {}

  /** The subject holding `key`'s record (key in base64url: any client id fits a subject token). */
  subject(key: string): string {
    return this.prefix + Buffer.from(key, 'utf8').toString('base64url');
  }

  private keyOf(subject: string): string {
    return Buffer.from(subject.slice(this.prefix.length), 'base64url').toString('utf8');
  }

  /** Creates the stream if needed (one replica on a NATS server that is not clustered). */
  async open(nc: NatsConnection, replicas: number, log: Logger): Promise<void> {
    const jsm = await jetstreamManager(nc, { timeout: this.timeoutMs });
    await ensureStream(jsm, nc, { name: this.name, subjects: [`${this.prefix}>`], max_msgs_per_subject: 1 }, replicas, log);
    this.jsm = jsm;
    this.js = jetstream(nc, { timeout: this.timeoutMs });
  }

  get ready(): boolean {
    return this.js !== null;
  }

  /** The record of `key`, or null (none, or an empty one: seq says which to replace). */
  async get(key: string): Promise<Versioned<T | null>> {
    const jsm = this.jsm;
    if (jsm === null) throw new Error(`stream ${this.name} not open`);
    let m: { seq: number; data: Uint8Array } | null = null;
    try {
      m = await jsm.streams.getMessage(this.name, { last_by_subj: this.subject(key) });
    } catch (err) {
      if (!/no message found|not found/i.test((err as Error).message)) throw err;
    }
    if (m === null) return { value: null, seq: 0 };
    return { value: m.data.length === 0 ? null : fromJson<T>(Buffer.from(m.data).toString('utf8')), seq: m.seq };
  }

  /**
   * Writes `key`'s record (null: removes it); with `expectSeq`, only if its newest sequence is
   * still that one (0: none yet), else RecordConflictError. Resolves with the new sequence.
   */
  async put(key: string, value: T | null, expectSeq?: number): Promise<number> {
    const js = this.js;
    if (js === null) throw new Error(`stream ${this.name} not open`);
    const data = value === null ? EMPTY : Buffer.from(toJson(value), 'utf8');
    try {
      const ack = await js.publish(this.subject(key), data, expectSeq === undefined ? undefined : { expect: { lastSubjectSequence: expectSeq } });
      return ack.seq;
    } catch (err) {
      if (/wrong last sequence|10071/i.test((err as Error).message)) throw new RecordConflictError(key);
      throw err;
    }
  }

  /** Every record (newest per key, empty ones left out), read once up to the stream's end. */
  async scan(visit: (key: string, record: Versioned<T>) => void): Promise<void> {
    const js = this.js;
    const jsm = this.jsm;
    if (js === null || jsm === null) throw new Error(`stream ${this.name} not open`);
    const total = (await jsm.streams.info(this.name)).state.messages;
    if (total === 0) return;
    const consumer = await js.consumers.get(this.name, { deliver_policy: DeliverPolicy.LastPerSubject });
    const messages = await consumer.consume();
    let seen = 0;
    for await (const m of messages) {
      seen++;
      if (m.data.length > 0) visit(this.keyOf(m.subject), { value: fromJson<T>(Buffer.from(m.data).toString('utf8')), seq: m.seq });
      if (m.info.pending === 0 || seen >= total) break;
    }
    await messages.close();
  }
}

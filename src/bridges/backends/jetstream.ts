/**
 * NATS JetStream through @nats-io/transport-node and @nats-io/jetstream. Forward: js.publish of
 * every record of a batch to its subject (in order on one connection), each waiting for the
 * stream's acknowledgement; the key travels as the `Nats-Msg-Id`-free header `Junction-Key`.
 * Consume: a durable pull consumer per rule (named by `group`, created on the stream that holds
 * the subject, acknowledging explicitly), fetched in batches and acknowledged after Junction
 * accepted the batch; what is not acknowledged is redelivered by JetStream.
 */
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { RejectedError, type BackendContext, type BackendModule, type BridgeBackend, type InRecord, type OptionReader, type OutRecord, type RecordSink } from '../backend.js';
import type { ConsumeRule } from '../config.js';

export interface JetStreamOptions {
  readonly servers: string[];
  /** ms to wait for a connection */
  readonly connectTimeout: number;
  /** ms to wait for the stream's acknowledgement of a publish */
  readonly ackTimeout: number;
}

/** The header carrying a forward rule's key (JetStream messages have none of their own). */
const KEY_HEADER = 'Junction-Key';

export const JETSTREAM_BACKEND: BackendModule<JetStreamOptions> = {
  bridgeKeys: ['servers', 'connectTimeout', 'ackTimeout'],
  consumeKeys: [],
  consumes: true,
  parse(read: OptionReader): JetStreamOptions {
    return {
      servers: read.strings('servers'),
      connectTimeout: read.int('connectTimeout', 100, 600_000, 5000),
      ackTimeout: read.int('ackTimeout', 100, 600_000, 5000),
    };
  },
  create(options: JetStreamOptions, context: BackendContext): BridgeBackend {
    return new JetStreamBackend(options, context);
  },
};

class JetStreamBackend implements BridgeBackend {
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private closed = false;

  constructor(
    private readonly options: JetStreamOptions,
    private readonly context: BackendContext,
  ) {}

  async connect(): Promise<void> {
    if (this.nc !== null) return;
    try {
      // Reconnect for ever: the bridge buffers meanwhile.
      this.nc = await connect({ servers: this.options.servers, name: this.context.clientId, timeout: this.options.connectTimeout, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    } catch (err) {
      throw new Error(`NATS at ${this.options.servers.join(',')}: ${(err as Error).message}`);
    }
    this.js = jetstream(this.nc, { timeout: this.options.ackTimeout });
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    if (this.js === null) await this.connect();
    const js = this.js!;
    const acks = records.map((r) => js.publish(r.to, r.value, { headers: natsHeaders(r) }));
    const results = await Promise.allSettled(acks);
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      const err = result.reason as Error & { cause?: Error };
      // nats.js reports a subject no stream holds as JetStreamNotEnabled caused by "no responders".
      const text = `${err.name}: ${err.message} ${err.cause?.message ?? ''}`;
      // No stream holds the subject, or the record is above the stream's or server's limits.
      if (/no responders|NoResponders|maximum payload|max_payload|message size exceeds|10054/i.test(text))
        throw new RejectedError(`JetStream refused the record: ${err.cause?.message ?? err.message}`);
      throw err;
    }
  }

  async consume(rule: ConsumeRule, _index: number, sink: RecordSink): Promise<void> {
    if (this.nc === null) await this.connect();
    const jsm = await jetstreamManager(this.nc!);
    const stream = await jsm.streams.find(rule.from).catch((err: Error) => {
      throw new Error(`no JetStream stream holds the subject ${rule.from}: ${err.message}`);
    });
    await jsm.consumers.add(stream, { durable_name: rule.group, ack_policy: AckPolicy.Explicit, filter_subject: rule.from, deliver_policy: DeliverPolicy.All });
    const consumer = await this.js!.consumers.get(stream, rule.group);
    void (async () => {
      let failures = 0;
      while (!this.closed) {
        try {
          const batch: JsMsg[] = [];
          const fetched = await consumer.fetch({ max_messages: this.context.batchSize, expires: 1000 });
          for await (const m of fetched) {
            batch.push(m);
            if (batch.length >= this.context.batchSize) break;
          }
          if (batch.length === 0) continue;
          await sink(batch.map(toRecord));
          for (const m of batch) m.ack();
          failures = 0;
        } catch (err) {
          if (this.closed) return;
          if (failures++ === 0) this.context.log.warn('bridge could not fetch from JetStream; retrying', { bridge: this.context.bridge, subject: rule.from, error: (err as Error).message });
          await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 10_000)));
        }
      }
    })();
  }

  async close(): Promise<void> {
    this.closed = true;
    const nc = this.nc;
    this.nc = null;
    this.js = null;
    if (nc === null) return;
    // A server that is away would hold a drain for ever; shutdown has 5 s in all.
    const drained = nc.drain().catch(() => undefined);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    await nc.close().catch(() => undefined);
  }
}

function natsHeaders(r: OutRecord): MsgHdrs | undefined {
  if (r.key === null && r.headers === null) return undefined;
  const h = headers();
  if (r.key !== null) h.set(KEY_HEADER, r.key);
  if (r.headers !== null) for (const [k, v] of r.headers) h.append(k, v);
  return h;
}

function toRecord(m: JsMsg): InRecord {
  const map = new Map<string, string>();
  let key = '';
  if (m.headers !== undefined) {
    for (const [k, values] of m.headers) {
      if (k === KEY_HEADER) key = values[0] ?? '';
      else if (values.length > 0) map.set(k, values[values.length - 1]!);
    }
  }
  return { topic: m.subject, key, value: Buffer.from(m.data), headers: map };
}

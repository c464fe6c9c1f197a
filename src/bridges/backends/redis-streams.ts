/**
 * Redis Streams. Forward: XADD to the rule's stream with fields `payload`, `key` (when the rule
 * has one) and `h:NAME` per header, pipelined per batch; `maxlen` trims with MAXLEN ~. Consume:
 * a consumer group per rule (created at the stream's start, with MKSTREAM, if missing), read
 * with XREADGROUP on a connection of its own; entries delivered before a crash and never
 * acknowledged are read again first; XACK only after Junction accepted the batch.
 */
import { RejectedError, type BackendContext, type BackendModule, type BridgeBackend, type InRecord, type OptionReader, type OutRecord, type RecordSink } from '../backend.js';
import type { ConsumeRule } from '../config.js';
import { parseRedisUrl, RedisError, RespClient, type RedisAddress, type Reply } from './resp.js';

export interface RedisStreamsOptions {
  readonly address: RedisAddress;
  readonly url: string;
  /** approximate most entries per stream (XADD MAXLEN ~); 0 = untrimmed */
  readonly maxlen: number;
  readonly connectTimeout: number;
  /** ms an XREADGROUP waits for new entries */
  readonly block: number;
}

/** Error replies that retrying cannot cure (wrong key type, bad arguments). */
const REFUSED = new Set(['WRONGTYPE', 'ERR', 'NOPERM', 'NOSCRIPT']);

export const REDIS_STREAMS_BACKEND: BackendModule<RedisStreamsOptions> = {
  bridgeKeys: ['url', 'maxlen', 'connectTimeout', 'block'],
  consumeKeys: [],
  consumes: true,
  parse(read: OptionReader): RedisStreamsOptions {
    const url = read.string('url');
    let address: RedisAddress;
    try {
      address = parseRedisUrl(url);
    } catch (err) {
      throw new Error(`${read.where}.url: ${(err as Error).message}`);
    }
    return {
      address,
      url: `${address.host}:${address.port}`,
      maxlen: read.int('maxlen', 0, 2 ** 31, 0),
      connectTimeout: read.int('connectTimeout', 100, 600_000, 5000),
      block: read.int('block', 10, 60_000, 1000),
    };
  },
  create(options: RedisStreamsOptions, context: BackendContext): BridgeBackend {
    return new RedisStreamsBackend(options, context);
  },
};

class RedisStreamsBackend implements BridgeBackend {
  private readonly client: RespClient;
  private readonly readers: RespClient[] = [];
  private closed = false;

  constructor(
    private readonly options: RedisStreamsOptions,
    private readonly context: BackendContext,
  ) {
    this.client = new RespClient(options.address, options.connectTimeout);
  }

  async connect(): Promise<void> {
    await this.client.connect();
    const pong = await this.client.command(['PING']);
    if (pong instanceof RedisError) throw new Error(`Redis at ${this.options.url}: ${pong.message}`);
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    const trim = this.options.maxlen > 0 ? ['MAXLEN', '~', String(this.options.maxlen)] : [];
    const commands = records.map((r) => {
      const args: Array<string | Buffer> = ['XADD', r.to, ...trim, '*', 'payload', r.value];
      if (r.key !== null) args.push('key', r.key);
      if (r.headers !== null) for (const [k, v] of r.headers) args.push(`h:${k}`, v);
      return args;
    });
    const replies = await this.client.pipeline(commands);
    for (const reply of replies) {
      if (!(reply instanceof RedisError)) continue;
      if (REFUSED.has(reply.code)) throw new RejectedError(`Redis refused the entry: ${reply.message}`);
      throw reply;
    }
  }

  async consume(rule: ConsumeRule, _index: number, sink: RecordSink): Promise<void> {
    const reader = new RespClient(this.options.address, this.options.connectTimeout);
    this.readers.push(reader);
    await reader.connect();
    const created = await reader.command(['XGROUP', 'CREATE', rule.from, rule.group, '0', 'MKSTREAM']);
    if (created instanceof RedisError && created.code !== 'BUSYGROUP') throw new Error(`Redis at ${this.options.url}: XGROUP CREATE ${rule.from} ${rule.group}: ${created.message}`);
    void this.readLoop(reader, rule, sink);
  }

  /** Reads the group until closed: first what was delivered and never acknowledged, then new entries. */
  private async readLoop(reader: RespClient, rule: ConsumeRule, sink: RecordSink): Promise<void> {
    let from = '0';
    let failures = 0;
    while (!this.closed) {
      try {
        const reply = await reader.command([
          'XREADGROUP',
          'GROUP',
          rule.group,
          this.context.clientId,
          'COUNT',
          String(this.context.batchSize),
          'BLOCK',
          String(this.options.block),
          'STREAMS',
          rule.from,
          from,
        ]);
        if (reply instanceof RedisError) throw reply;
        const entries = streamEntries(reply);
        if (entries.length === 0) {
          // Nothing pending any more: from now on only new entries.
          from = '>';
          continue;
        }
        const records: InRecord[] = entries.map((e) => toRecord(rule.from, e.fields));
        await sink(records);
        await reader.command(['XACK', rule.from, rule.group, ...entries.map((e) => e.id)]);
        failures = 0;
      } catch (err) {
        if (this.closed) return;
        if (failures++ === 0) this.context.log.warn('bridge could not read from Redis; retrying', { bridge: this.context.bridge, stream: rule.from, error: (err as Error).message });
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 10_000)));
        from = '0';
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.readers) r.close();
    this.client.close();
  }
}

interface StreamEntry {
  id: string;
  fields: Reply[];
}

/** Entries of an XREADGROUP reply for one stream: [[stream, [[id, [field, value, ...]], ...]]]. */
function streamEntries(reply: Reply): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0];
  if (!Array.isArray(stream) || !Array.isArray(stream[1])) return [];
  const out: StreamEntry[] = [];
  for (const e of stream[1]) {
    if (!Array.isArray(e)) continue;
    // An entry deleted while pending comes back with null fields: acknowledge it with the rest.
    out.push({ id: String(e[0]), fields: Array.isArray(e[1]) ? e[1] : [] });
  }
  return out;
}

function toRecord(stream: string, fields: Reply[]): InRecord {
  let value: Buffer | null = null;
  let key = '';
  const headers = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = String(fields[i]);
    const v = fields[i + 1];
    const bytes = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
    if (name === 'payload') value = bytes;
    else if (name === 'key') key = bytes.toString('utf8');
    else if (name.startsWith('h:')) headers.set(name.slice(2), bytes.toString('utf8'));
  }
  return { topic: stream, key, value: value ?? Buffer.alloc(0), headers };
}

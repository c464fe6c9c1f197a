/**
 * The bridge seam: what a backend module (Kafka, NATS JetStream, Redis Streams, HTTP; later
 * RocketMQ) provides. The bridge runtime (outbox, ordering, retries, dead letters, counters,
 * checks on consumed records) is the same for every backend; a module only parses its own
 * configuration keys, connects, sends a batch in order and hands consumed batches to a sink.
 */
import type { ConsumeRule } from './config.js';
import type { Logger } from '../log/logger.js';

/** One record a forward rule made, as kept in the outbox and sent to the backend. */
export interface OutRecord {
  /** the rendered target: Kafka topic, JetStream subject, Redis stream key, HTTP path */
  to: string;
  /** the rendered key, or null */
  key: string | null;
  value: Buffer;
  /** MQTT 5 user properties become record headers */
  headers: Array<[string, string]> | null;
  /** when Junction accepted the message (ms since the epoch), for the latency counter */
  at: number;
  /** index of the forward rule that made it (counters) */
  rule: number;
}

/** One record consumed from the backend. */
export interface InRecord {
  /** the backend's topic, subject or stream it came from */
  readonly topic: string;
  /** its key ('' when none) */
  readonly key: string;
  readonly value: Buffer;
  readonly headers: ReadonlyMap<string, string>;
}

/** Where a backend hands consumed batches; the promise settles once Junction accepted (and stored) every record, then the backend acknowledges them. */
export type RecordSink = (records: readonly InRecord[]) => Promise<void>;

/** The backend refused a record for good (too large, not authorized): never retried. */
export class RejectedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RejectedError';
  }
}

/** A connected backend of one bridge. */
export interface BridgeBackend {
  /** Connects; rejects with an Error naming the address when the backend is unreachable. */
  connect(): Promise<void>;
  /**
   * Sends records in order and resolves once the backend acknowledged all of them. Rejects with
   * RejectedError when the backend refused a record for good, with any other error for a
   * failure worth retrying (unreachable, timeout); the runtime then retries the whole batch.
   */
  send(records: readonly OutRecord[]): Promise<void>;
  /**
   * How many send() calls the runtime may have outstanding at once (1 when absent). A backend
   * above 1 keeps order itself: it sends them one after the other in call order, each only once
   * the one before it was acknowledged, and when one fails it rejects every later outstanding
   * call without sending it. Batch N+1 is then ready the moment batch N is acknowledged.
   */
  readonly pipelineDepth?: number;
  /** Starts consuming for `rule`, handing batches to `sink`; acknowledges a batch only after the sink settles. */
  consume(rule: ConsumeRule, index: number, sink: RecordSink): Promise<void>;
  /** Stops consuming and disconnects. */
  close(): Promise<void>;
}

/** Reads a backend's own keys of a bridge or consume rule; `where` names the place for errors. */
export interface OptionReader {
  readonly where: string;
  string(key: string, fallback?: string): string;
  strings(key: string, fallback?: readonly string[]): string[];
  int(key: string, min: number, max: number, fallback: number): number;
  bool(key: string, fallback: boolean): boolean;
  optionalString(key: string): string | undefined;
}

/** What a backend module gives the registry. */
export interface BackendModule<O = unknown> {
  /** Keys of a bridge entry this backend reads, besides the common ones. */
  readonly bridgeKeys: readonly string[];
  /** Keys of a consume rule this backend reads, besides the common ones. */
  readonly consumeKeys: readonly string[];
  /** True when the backend can consume (HTTP cannot). */
  readonly consumes: boolean;
  /** Reads the backend's options; throws an Error naming the key. */
  parse(read: OptionReader): O;
  create(options: O, context: BackendContext): BridgeBackend;
}

/** What a backend gets from the runtime. */
export interface BackendContext {
  readonly bridge: string;
  /** Client id the bridge presents to the backend (and to Junction's own checks). */
  readonly clientId: string;
  readonly log: Logger;
  /** Most records in one send. */
  readonly batchSize: number;
}

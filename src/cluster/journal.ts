/**
 * The journal of durable QoS (docs/CLUSTER.md): every QoS 1/2 message published by topic that
 * some persistent session reads from the journal (durable-routes.ts) goes, besides its core NATS
 * copy, into the JetStream stream JUNCTION_JOURNAL (subject `$JUNCTION.j.` + the topic's
 * subject), and its publisher's acknowledgement waits for JetStream's (AckGate). Persistent sessions read from it through their own consumers
 * (journal-feed.ts), so what a lost node held for them is still there.
 *
 * A message written again (its NATS server died before answering) carries the same message id,
 * so JetStream's duplicate window keeps one copy.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { Message } from '../core/message.js';
import type { Logger } from '../log/logger.js';
import { H_ORIGIN, H_SKIP_NODE, H_TIME } from './headers.js';
import { JetStreamWriter, WriteResult } from './js-writer.js';
import type { LinkListener } from './nats-link.js';
import { ensureStream, openWithRetry } from './streams.js';
import { FALLBACK_PREFIX } from './subject-map.js';

export const JOURNAL_STREAM = 'JUNCTION_JOURNAL';
export const JOURNAL_PREFIX = '$JUNCTION.j.';

/** What the journal counted since the start. */
export interface JournalCounters {
  /** messages JetStream confirmed */
  written: number;
  /** writes that failed or went unanswered (written again, or given up with the publisher's ack) */
  failed: number;
  /** writes JetStream had already (a QoS 2 message sent again through another node, or a write repeated) */
  repeated: number;
}

export interface JournalOptions {
  replicas: number;
  maxAgeSeconds: number;
  maxBytes: number;
  /** how long one write waits for JetStream */
  timeoutMs: number;
}

interface Pending {
  /** the message id, known at once (this process's own), or once its QoS 2 record is written */
  readonly id: string | Promise<string>;
  /** fixed by the first write: every write of the message says the same */
  readonly skipNode: string | null;
  ack: Promise<boolean>;
  /** JetStream holds it: writing it again (its batch sent again) is not needed */
  stored: boolean;
}

export class Journal implements LinkListener {
  readonly counters: JournalCounters = { written: 0, failed: 0, repeated: 0 };
  private writer: JetStreamWriter | null = null;
  private opening = false;
  private closed = false;
  /** Messages written and not confirmed yet, with the id every write of them carries. */
  private readonly pending = new Map<Message, Pending>();
  private nextId = 0;
  /** Message ids unique to this process (its node name and start), so JetStream drops only true repeats. */
  private readonly idPrefix: string;
  /** Called once the stream is there (the feed creates its consumers then). */
  onReady: (() => void) | null = null;
  /**
   * The message id of a QoS 2 message from a persistent session, recorded before the write so a
   * copy sent again through another node gets the same one (Qos2Receipts); null: an id of this process.
   */
  inboundIds: ((msg: Message) => Promise<string> | null) | null = null;
  /** False for a topic no persistent session reads from the journal (durable-routes.ts): not written. */
  wanted: (topic: string) => boolean = () => true;

  constructor(
    node: string,
    private readonly options: JournalOptions,
    private readonly log: Logger,
  ) {
    this.idPrefix = `${node}.${Date.now().toString(36)}.`;
  }

  /** True once the stream exists and writes go to it. */
  get ready(): boolean {
    return this.writer !== null;
  }

  up(nc: NatsConnection, first: boolean): void {
    if (first) void this.open(nc);
  }

  down(): void {}

  close(): void {
    this.closed = true;
    this.writer?.close();
  }

  private async open(nc: NatsConnection): Promise<void> {
    if (this.opening) return;
    this.opening = true;
    await openWithRetry(
      'cluster journal stream',
      async () => {
        await this.ensureStream(nc);
        // A write left unanswered (a JetStream leader election) fails after 2 s, so the ack gate
        // writes it again (the same id: kept once) within --cluster-ack-timeout instead of giving up.
        this.writer = new JetStreamWriter(nc, Math.min(2000, this.options.timeoutMs));
        this.log.info('cluster journal ready: QoS 1/2 messages are durable for persistent sessions', { stream: JOURNAL_STREAM });
        this.onReady?.();
      },
      () => this.closed,
      this.log,
    );
  }

  private async ensureStream(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc, { timeout: this.options.timeoutMs });
    const spec = {
      name: JOURNAL_STREAM,
      subjects: [`${JOURNAL_PREFIX}>`],
      max_age: this.options.maxAgeSeconds * 1_000_000_000,
      max_bytes: this.options.maxBytes,
      duplicate_window: 120 * 1_000_000_000,
    };
    await ensureStream(jsm, nc, spec, this.options.replicas, this.log);
  }

  /** True when the QoS 1/2 message `msg`, sent on `subject`, goes into the journal (write() it then). */
  takes(msg: Message, subject: string): boolean {
    if (this.writer === null || subject.startsWith(FALLBACK_PREFIX)) return false;
    // One written before (sent again after an outage) is written again whatever the routes say now.
    return this.pending.has(msg) || this.wanted(msg.topic);
  }

  /**
   * Writes a QoS 1/2 message whose topic travels on `subject` (with the headers of its core copy,
   * to which this adds the journal's own); false when it is not journaled (the stream is not
   * there yet, or the topic needs the fallback subject). `skipNode`: a node whose sessions had it.
   */
  write(msg: Message, subject: string, headers: MsgHdrs, skipNode: string | null): boolean {
    const writer = this.writer;
    if (writer === null || subject.startsWith(FALLBACK_PREFIX)) return false;
    let p = this.pending.get(msg);
    if (p === undefined) {
      const own = this.idPrefix + (this.nextId++).toString(36);
      const inbound = msg.inboundId !== 0 && this.inboundIds !== null ? this.inboundIds(msg) : null;
      // A record that cannot be written costs the recognition of a resend, not the message.
      p = { id: inbound === null ? own : inbound.catch(() => own), skipNode, ack: Promise.resolve(false), stored: false };
      this.pending.set(msg, p);
    } else if (p.stored) return true;
    if (msg.origin !== null) headers.set(H_ORIGIN, msg.origin);
    headers.set(H_TIME, String(Date.now()));
    if (p.skipNode !== null) headers.set(H_SKIP_NODE, p.skipNode);
    const payload = msg.payload;
    const written = (result: WriteResult): boolean => {
      if (result === WriteResult.Duplicate) this.counters.repeated++;
      return result !== WriteResult.Failed;
    };
    const id = p.id;
    p.ack =
      typeof id === 'string'
        ? writer.write(JOURNAL_PREFIX + subject, payload, headers, id).then(written)
        : id.then((msgId) => writer.write(JOURNAL_PREFIX + subject, payload, headers, msgId)).then(written);
    return true;
  }

  /**
   * Waits for JetStream's answers to the writes of `msgs`; returns the messages to write again.
   * The messages stay known (forget() ends that) so a batch sent again does not write twice.
   */
  async confirm(msgs: readonly Message[]): Promise<Message[]> {
    const failed: Message[] = [];
    for (const msg of msgs) {
      const p = this.pending.get(msg);
      if (p === undefined || p.stored) continue;
      if (await p.ack) {
        p.stored = true;
        this.counters.written++;
      } else {
        this.counters.failed++;
        failed.push(msg);
      }
    }
    return failed;
  }

  /** Gives up on confirming `msgs` (their publishers were acknowledged without it). */
  forget(msgs: readonly Message[]): void {
    for (const msg of msgs) this.pending.delete(msg);
  }
}

/**
 * The QoS 2 receipts of journal-fed sessions (--cluster-durable-qos): for each session, the
 * journal deliveries its client answered with PUBREC and has not completed with PUBCOMP, as
 * [journal sequence, packet id] pairs in one record of the stream JUNCTION_QOS2. A receipt is
 * written before the journal message is acknowledged and before PUBREL goes, so a node taking the
 * session over sends PUBREL for it and drops the journal's copy: QoS 2 stays exactly once across
 * the loss of a node.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log/logger.js';
import { RecordStream } from './record-stream.js';

interface ReceiptRecord {
  /** [journal sequence, packet id] */
  r: Array<[number, number]>;
}

/** One session's receipts and its record's write state (one write in flight, the rest coalesced). */
export class SessionReceipts {
  /** journal sequence -> packet id */
  readonly bySeq = new Map<number, number>();
  loaded = false;
  writing = false;
  dirty = false;
  /** callbacks of changes the write in flight does not hold yet, then of the one in flight */
  next: Array<() => void> = [];
  current: Array<() => void> = [];
}

export class Qos2Receipts {
  private readonly stream: RecordStream<ReceiptRecord>;

  constructor(
    timeoutMs: number,
    private readonly log: Logger,
  ) {
    this.stream = new RecordStream<ReceiptRecord>('JUNCTION_QOS2', '$JUNCTION.q2.', timeoutMs);
  }

  get ready(): boolean {
    return this.stream.ready;
  }

  open(nc: NatsConnection, replicas: number): Promise<void> {
    return this.stream.open(nc, replicas, this.log);
  }

  /** Reads the receipts of `clientId` into `into` (once per session on this node). */
  async load(clientId: string, into: SessionReceipts): Promise<void> {
    const { value } = await this.stream.get(clientId);
    for (const [seq, id] of value?.r ?? []) into.bySeq.set(seq, id);
    into.loaded = true;
  }

  /** Writes the receipts as they are now; `done` runs once a write holding this change is stored. */
  save(clientId: string, receipts: SessionReceipts, done: (() => void) | null): void {
    if (done !== null) receipts.next.push(done);
    if (receipts.writing) {
      receipts.dirty = true;
      return;
    }
    receipts.writing = true;
    receipts.dirty = false;
    receipts.current = receipts.next;
    receipts.next = [];
    const value = receipts.bySeq.size === 0 ? null : { r: [...receipts.bySeq] };
    const finish = (ok: boolean): void => {
      receipts.writing = false;
      const callbacks = receipts.current;
      receipts.current = [];
      if (!ok) {
        // Tried again with what is there then: the PUBRELs wait, nothing is acknowledged unrecorded.
        receipts.next = callbacks.concat(receipts.next);
        setTimeout(() => this.save(clientId, receipts, null), 250).unref();
        return;
      }
      for (const fn of callbacks) fn();
      if (receipts.dirty || receipts.next.length > 0) this.save(clientId, receipts, null);
    };
    this.stream.put(clientId, value).then(
      () => finish(true),
      (err: Error) => {
        this.log.warn('cluster QoS 2 receipt not written; retrying', { clientId, error: err.message });
        finish(false);
      },
    );
  }

  /** Removes the record of a session that ended. */
  clear(clientId: string): void {
    this.stream.put(clientId, null).catch(() => undefined);
  }
}

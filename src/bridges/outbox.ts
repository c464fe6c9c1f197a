/**
 * A bridge's outbox in the store: the QoS 1/2 records it has not yet seen acknowledged, kept
 * across restarts and kill -9.
 *
 * Cost: a record is not one write. The records a bridge takes in one turn go into one row
 * (outbox-row.ts; keyed by the sequence number of its first record), written just before the turn's writes are
 * sealed into the store's commit (Store.beforeCommit), so the publishers' acknowledgements of
 * that turn wait for it. Acknowledgements move one watermark row (key 0: every record up to
 * `acked` reached the backend), written once per turn, and remove the rows wholly below it.
 * Records are acknowledged in sequence order (the forwarder sends in order and retries a failed
 * batch before anything newer), so the watermark never passes a record still waiting.
 *
 * A record may be sent twice only when Junction dies after the backend acknowledged it and
 * before the watermark's commit, as with one row per record.
 */
import type { StoreTable } from '../store/types.js';
import type { OutRecord } from './backend.js';
import { RingQueue } from '../core/ring-queue.js';
import { readRow, RowWriter } from './outbox-row.js';

/** The watermark row: every record up to `acked` was acknowledged. */
interface Watermark {
  acked: number;
}

/** A row of the outbox table: a turn's records, the watermark, or (older outboxes) an array of records or one record. */
export type OutboxRow = Uint8Array | Watermark | OutRecord[] | OutRecord;

const WATERMARK_KEY = 0;

/** A row written and not yet wholly acknowledged: its key and its last record's sequence number. */
interface Span {
  first: number;
  last: number;
}

export class Outbox {
  /** Records of this turn, written as one row at its end. */
  private readonly turn = new RowWriter();
  private turnFirst = 0;
  private nextSeq = 1;
  private acked = 0;
  private ackWritten = 0;
  private ackScheduled = false;
  private readonly spans = new RingQueue<Span>();

  constructor(
    private readonly table: StoreTable<OutboxRow>,
    private readonly beforeCommit: (fn: () => void) => void,
    private readonly group: string,
  ) {}

  /** The records the previous run left unacknowledged, in sequence order. */
  restore(): Array<{ seq: number; record: OutRecord }> {
    const out: Array<{ seq: number; record: OutRecord }> = [];
    const rows = this.table.load(this.group);
    let acked = 0;
    for (const { seq, value } of rows) if (seq === WATERMARK_KEY && 'acked' in value) acked = value.acked;
    for (const { seq, value } of rows) {
      if (seq === WATERMARK_KEY) continue;
      const records = value instanceof Uint8Array ? readRow(value) : Array.isArray(value) ? value : [value as OutRecord];
      const last = seq + records.length - 1;
      for (let i = 0; i < records.length; i++) {
        if (seq + i <= acked) continue;
        const record = records[i]!;
        // msgpack may hand back plain Uint8Arrays after a reopen.
        if (!Buffer.isBuffer(record.value)) record.value = Buffer.from(record.value);
        out.push({ seq: seq + i, record });
      }
      if (last <= acked) this.table.remove(this.group, seq);
      else this.spans.push({ first: seq, last });
      if (last >= this.nextSeq) this.nextSeq = last + 1;
    }
    // Sequence numbers only grow: a new record must never hide below the watermark.
    if (acked >= this.nextSeq) this.nextSeq = acked + 1;
    this.acked = this.ackWritten = acked;
    return out;
  }

  /** Adds a record to this turn's row; returns its sequence number. */
  add(record: OutRecord): number {
    const seq = this.nextSeq++;
    if (this.turn.count === 0) {
      this.turnFirst = seq;
      this.beforeCommit(this.writeTurn);
    }
    this.turn.add(record);
    return seq;
  }

  /** Every record up to `seq` reached the backend. */
  acknowledge(seq: number): void {
    if (seq <= this.acked) return;
    this.acked = seq;
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    this.beforeCommit(this.writeAck);
  }

  private readonly writeTurn = (): void => {
    const count = this.turn.count;
    if (count === 0) return;
    this.table.put(this.group, this.turnFirst, this.turn.take());
    this.spans.push({ first: this.turnFirst, last: this.turnFirst + count - 1 });
  };

  private readonly writeAck = (): void => {
    this.ackScheduled = false;
    const acked = this.acked;
    if (acked === this.ackWritten) return;
    this.ackWritten = acked;
    this.table.put(this.group, WATERMARK_KEY, { acked });
    const spans = this.spans;
    while (spans.length > 0 && spans.peek()!.last <= acked) this.table.remove(this.group, spans.shift()!.first);
  };
}

/**
 * The QoS 2 state of persistent sessions under --cluster-durable-qos, one record per client id in
 * the stream JUNCTION_QOS2, so that it survives the node:
 *
 * - outbound receipts: journal deliveries the client answered with PUBREC and has not completed
 *   with PUBCOMP, as [journal sequence, packet id]. Written before the journal message is
 *   acknowledged and before PUBREL goes, so a node taking the session over sends PUBREL for them
 *   and drops the journal's copies.
 * - inbound ids: QoS 2 packet ids the client published and has not released (PUBREL), each with
 *   the number its journal message id carries. Written before the journal write, so when the
 *   client sends the PUBLISH again to another node (its node died before PUBREC), that node
 *   writes it under the same message id and JetStream keeps one copy.
 *
 * The record's epoch (random, new with each record) keeps message ids of a later session with the
 * same client id apart from an earlier one's.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log/logger.js';
import { RecordStream } from './record-stream.js';

interface ReceiptRecord {
  /** outbound: [journal sequence, packet id] */
  r: Array<[number, number]>;
  /** inbound: [packet id, number] */
  i?: Array<[number, number]>;
  /** the last inbound number given */
  n?: number;
  e?: string;
}

/** One client id's QoS 2 state on this node and its record's write state (one write in flight, the rest coalesced). */
export class SessionReceipts {
  /** outbound: journal sequence -> packet id */
  readonly bySeq = new Map<number, number>();
  /** inbound: packet id -> number in its journal message id */
  readonly inbound = new Map<number, number>();
  counter = 0;
  epoch = '';
  loaded = false;
  loading: Promise<void> | null = null;
  writing = false;
  dirty = false;
  /** the last write failed (logged once until one succeeds) */
  failing = false;
  /** callbacks of changes the write in flight does not hold yet, then of the one in flight */
  next: Array<() => void> = [];
  current: Array<() => void> = [];
}

export class Qos2Receipts {
  private readonly stream: RecordStream<ReceiptRecord>;
  private readonly clients = new Map<string, SessionReceipts>();

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

  /** The state of `clientId` on this node (made empty, not loaded yet, the first time). */
  of(clientId: string): SessionReceipts {
    let rec = this.clients.get(clientId);
    if (rec === undefined) {
      rec = new SessionReceipts();
      this.clients.set(clientId, rec);
    }
    return rec;
  }

  /** Reads the record of `clientId` into its state (once per session on this node). */
  load(clientId: string, into: SessionReceipts): Promise<void> {
    if (into.loaded) return Promise.resolve();
    into.loading ??= this.stream.get(clientId).then(
      ({ value }) => {
        for (const [seq, id] of value?.r ?? []) into.bySeq.set(seq, id);
        for (const [id, n] of value?.i ?? []) into.inbound.set(id, n);
        into.counter = value?.n ?? 0;
        into.epoch = value?.e ?? randomBytes(6).toString('base64url');
        into.loaded = true;
        into.loading = null;
      },
      (err: Error) => {
        into.loading = null;
        throw err;
      },
    );
    return into.loading;
  }

  /**
   * The journal message id of inbound QoS 2 packet id `packetId` of `clientId`: the one its
   * record holds (the same message sent again), or a new one, recorded before this resolves.
   */
  async inboundMessageId(clientId: string, packetId: number): Promise<string> {
    const rec = this.of(clientId);
    await this.load(clientId, rec);
    let n = rec.inbound.get(packetId);
    if (n === undefined) {
      n = ++rec.counter;
      rec.inbound.set(packetId, n);
      await new Promise<void>((resolve) => this.save(clientId, rec, resolve));
    }
    return `q2.${rec.epoch}.${Buffer.from(clientId, 'utf8').toString('base64url')}.${packetId}.${n}`;
  }

  /** The client released inbound packet id `packetId`: it leaves the record (not awaited). */
  released(clientId: string, packetId: number): void {
    const rec = this.clients.get(clientId);
    if (rec?.loaded && rec.inbound.delete(packetId)) this.save(clientId, rec, null);
  }

  /** Writes the state as it is now; `done` runs once a write holding this change is stored. */
  save(clientId: string, rec: SessionReceipts, done: (() => void) | null): void {
    if (done !== null) rec.next.push(done);
    if (rec.writing) {
      rec.dirty = true;
      return;
    }
    rec.writing = true;
    rec.dirty = false;
    rec.current = rec.next;
    rec.next = [];
    const value: ReceiptRecord = { r: [...rec.bySeq], i: [...rec.inbound], n: rec.counter, e: rec.epoch };
    const finish = (ok: boolean): void => {
      rec.writing = false;
      rec.failing = !ok;
      const callbacks = rec.current;
      rec.current = [];
      if (!ok) {
        // Tried again with what is there then: what waits for it waits on, nothing goes unrecorded.
        rec.next = callbacks.concat(rec.next);
        setTimeout(() => this.save(clientId, rec, null), 250).unref();
        return;
      }
      for (const fn of callbacks) fn();
      if (rec.dirty || rec.next.length > 0) this.save(clientId, rec, null);
    };
    this.stream.put(clientId, value).then(
      () => finish(true),
      (err: Error) => {
        if (!rec.failing) this.log.warn('cluster QoS 2 state not written; retrying every 250 ms', { clientId, error: err.message });
        finish(false);
      },
    );
  }

  /** The session left this node (moved, or the node stops): its record stays for the next one. */
  forget(clientId: string): void {
    this.clients.delete(clientId);
  }

  /** The session ended: its record goes (when this node had it). */
  clear(clientId: string): void {
    if (!this.clients.delete(clientId)) return;
    this.stream.put(clientId, null).catch(() => undefined);
  }
}

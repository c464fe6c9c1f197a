/**
 * ACK and NACK. The delivery is named by `id` (1.2, the MESSAGE's `ack` header) or `message-id`
 * (1.0, 1.1); in client mode an answer covers every earlier MESSAGE of that subscription. ACK
 * acknowledges the core delivery once every subscription it went to has answered. NACK does too
 * and then delivers the message again to the same subscription, marked `redelivered:true`.
 * An id that is unknown (already answered, or never sent) changes nothing.
 */
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import { StompError } from '../errors.js';
import { holdInTransaction } from './transaction.js';

/** Handles ACK (nack false) or NACK. */
export function handleAck(conn: StompConnection, frame: StompFrame, nack: boolean): void {
  const raw = frame.header('id') ?? frame.header('message-id');
  if (raw === undefined) {
    const name = conn.version === '1.2' ? "'id'" : "'message-id'";
    throw new StompError(`${frame.command} frame without the required ${name} header`);
  }
  const id = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : -1;
  const tx = frame.header('transaction');
  if (tx !== undefined) holdInTransaction(conn, tx, { kind: nack ? 'nack' : 'ack', id });
  else applyAck(conn, id, nack);
  conn.receipt(frame, false);
}

/** Settles delivery `id` (cumulatively in client mode); NACK redelivers. */
export function applyAck(conn: StompConnection, id: number, nack: boolean): void {
  const client = conn.client;
  if (client === null || id < 0) return;
  for (const entry of conn.acks.settle(id)) {
    if (conn.acks.release(entry.packetId)) client.acknowledge(entry.packetId);
    if (nack) {
      (conn.redelivering ??= new WeakSet()).add(entry.msg);
      client.redeliver(entry.msg, 1, [entry.sub.slot.number]);
    }
  }
}

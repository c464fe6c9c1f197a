/**
 * BEGIN, COMMIT and ABORT. A transaction holds checked SEND/ACK/NACK frames (at most
 * --stomp-max-transaction-frames) until COMMIT applies them in order; ABORT, or the end of the
 * connection, drops them.
 */
import { StompError } from '../errors.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import type { TxAction } from '../transactions.js';
import { required } from './required.js';
import { publish } from './send.js';
import { applyAck } from './ack.js';

/** Handles BEGIN. */
export function handleBegin(conn: StompConnection, frame: StompFrame): void {
  const name = required(frame, 'transaction');
  const txs = conn.transactions;
  if (txs.has(name)) throw new StompError(`transaction '${name}' is already open`);
  const limit = conn.config.limits.maxTransactions;
  if (txs.count >= limit) throw new StompError(`more than ${limit} open transactions (--stomp-max-transactions)`, 'JN_QUOTA_EXCEEDED');
  txs.begin(name);
  conn.receipt(frame, false);
}

/** Handles COMMIT: applies the held frames in order. */
export function handleCommit(conn: StompConnection, frame: StompFrame): void {
  const name = required(frame, 'transaction');
  if (!conn.transactions.has(name)) throw unknown(name, 'COMMIT');
  let stored = false;
  for (const action of conn.transactions.end(name)) {
    if (action.kind === 'send') stored = publish(conn, action.msg) || stored;
    else applyAck(conn, action.id, action.kind === 'nack');
  }
  conn.receipt(frame, stored);
}

/** Handles ABORT. */
export function handleAbort(conn: StompConnection, frame: StompFrame): void {
  const name = required(frame, 'transaction');
  if (!conn.transactions.has(name)) throw unknown(name, 'ABORT');
  conn.transactions.end(name);
  conn.receipt(frame, false);
}

/** Adds a checked frame to an open transaction; throws for an unknown one or one too long. */
export function holdInTransaction(conn: StompConnection, name: string, action: TxAction): void {
  const actions = conn.transactions.actions(name);
  if (actions === undefined) throw unknown(name, action.kind.toUpperCase());
  const limit = conn.config.limits.maxTransactionFrames;
  if (actions.length >= limit) throw new StompError(`transaction '${name}' holds more than ${limit} frames (--stomp-max-transaction-frames)`, 'JN_QUOTA_EXCEEDED');
  if (action.kind === 'send') {
    const max = conn.config.limits.maxTransactionBytes;
    const txs = conn.transactions;
    if (txs.bytes + action.msg.payload.length > max) throw new StompError(`open transactions hold more than ${max} body bytes (--stomp-max-transaction-bytes)`, 'JN_QUOTA_EXCEEDED');
    txs.bytes += action.msg.payload.length;
  }
  actions.push(action);
}

function unknown(name: string, command: string): StompError {
  return new StompError(`${command} names transaction '${name}', which is not open (BEGIN it first)`);
}

/** DISCONNECT: RECEIPT (when asked, after pending commits), then a graceful close. */
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';

/** Handles DISCONNECT. */
export function handleDisconnect(conn: StompConnection, frame: StompFrame): void {
  const id = frame.header('receipt');
  conn.closing = true;
  if (id !== undefined && conn.pendingCommits > 0) {
    // The RECEIPT must follow the receipts still waiting for the store: close after them.
    conn.ctx.broker.afterCommit(closeAfterReceipt, { conn, id });
    conn.link.pause();
    return;
  }
  if (id !== undefined) conn.sendFrame('RECEIPT', [['receipt-id', id]]);
  conn.end('normal');
}

function closeAfterReceipt(arg: { conn: StompConnection; id: string }): void {
  arg.conn.sendFrame('RECEIPT', [['receipt-id', arg.id]]);
  arg.conn.end('normal');
}

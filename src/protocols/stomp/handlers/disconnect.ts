/** DISCONNECT: RECEIPT (when asked, after pending commits), then a graceful close. */
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';

/** Handles DISCONNECT. */
export function handleDisconnect(conn: StompConnection, frame: StompFrame): void {
  const id = frame.header('receipt');
  conn.closing = true;
  if (id !== undefined && conn.pendingCommits > 0) {
    // The RECEIPT must follow the receipts still waiting for the store: close after them.
    conn.closeAfterReceipts(id);
    return;
  }
  if (id !== undefined) conn.sendFrame('RECEIPT', [['receipt-id', id]]);
  conn.end('normal');
}

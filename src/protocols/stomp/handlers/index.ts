/**
 * Frame dispatch after the CONNECT gate: before CONNECTED only CONNECT or STOMP is accepted,
 * after it CONNECT is an error and every other client frame goes to its handler. A handler
 * throws StompError to end the connection with ERROR; the connection catches it.
 */
import { StompError } from '../errors.js';
import type { StompConnection } from '../connection.js';
import { Phase } from '../../../gateway/shell.js';
import type { StompFrame } from '../codec/frame.js';
import { handleConnect } from './connect.js';
import { handleSend } from './send.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { handleAck } from './ack.js';
import { handleAbort, handleBegin, handleCommit } from './transaction.js';
import { handleDisconnect } from './disconnect.js';

/** Handles one whole frame. */
export function dispatchFrame(conn: StompConnection, frame: StompFrame): void {
  const command = frame.command;
  if (conn.phase === Phase.Connecting) {
    if (command !== 'CONNECT' && command !== 'STOMP') throw new StompError(`expected CONNECT or STOMP as the first frame, got ${command}`);
    handleConnect(conn, frame);
    return;
  }
  switch (command) {
    case 'SEND':
      return handleSend(conn, frame);
    case 'SUBSCRIBE':
      return handleSubscribe(conn, frame);
    case 'UNSUBSCRIBE':
      return handleUnsubscribe(conn, frame);
    case 'ACK':
      return handleAck(conn, frame, false);
    case 'NACK':
      if (conn.version === '1.0') throw new StompError('NACK does not exist in STOMP 1.0');
      return handleAck(conn, frame, true);
    case 'BEGIN':
      return handleBegin(conn, frame);
    case 'COMMIT':
      return handleCommit(conn, frame);
    case 'ABORT':
      return handleAbort(conn, frame);
    case 'DISCONNECT':
      return handleDisconnect(conn, frame);
    default:
      throw new StompError(`${command} is not allowed once connected`);
  }
}

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

/** True for the frames that log a client in (CONNECT, STOMP): what the login budget counts. */
export function isLoginFrame(command: string): boolean {
  return command === 'CONNECT' || command === 'STOMP';
}

/** Handles one whole frame. */
export function dispatchFrame(conn: StompConnection, frame: StompFrame): void {
  const command = frame.command;
  if (conn.phase === Phase.Connecting) {
    if (!isLoginFrame(command)) throw new StompError(`expected CONNECT or STOMP as the first frame, got ${command}`);
    handleConnect(conn, frame);
    return;
  }
  switch (command) {
    case 'SEND':
      handleSend(conn, frame);
      return;
    case 'SUBSCRIBE':
      handleSubscribe(conn, frame);
      return;
    case 'UNSUBSCRIBE':
      handleUnsubscribe(conn, frame);
      return;
    case 'ACK':
      handleAck(conn, frame, false);
      return;
    case 'NACK':
      if (conn.version === '1.0') throw new StompError('NACK does not exist in STOMP 1.0');
      handleAck(conn, frame, true);
      return;
    case 'BEGIN':
      handleBegin(conn, frame);
      return;
    case 'COMMIT':
      handleCommit(conn, frame);
      return;
    case 'ABORT':
      handleAbort(conn, frame);
      return;
    case 'DISCONNECT':
      handleDisconnect(conn, frame);
      return;
    default:
      throw new StompError(`${command} is not allowed once connected`);
  }
}

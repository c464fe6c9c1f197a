/**
 * SEND: destination -> topic, ACL, then a Message into the core. content-type becomes the MQTT 5
 * Content Type, every other custom header a User Property; `retain:true` retains it. The message
 * is published at QoS 1 (subscribers get min(1, their QoS)); a RECEIPT waits for the store
 * commit when the message was stored (retained, or queued for a persistent MQTT session).
 * In a transaction the checked message is held until COMMIT.
 */
import { Message, type MessageProperties, type UserProperty } from '../../../core/message.js';
import { destinationToTopic } from '../destination.js';
import { StompError } from '../errors.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import { required } from './required.js';
import { holdInTransaction } from './transaction.js';

/** SEND headers that are the frame's own, not message properties. */
const FRAME_HEADERS: ReadonlySet<string> = new Set(['destination', 'transaction', 'receipt', 'content-length', 'content-type', 'retain']);

/** Handles SEND. */
export function handleSend(conn: StompConnection, frame: StompFrame): void {
  const msg = messageOf(conn, frame);
  const tx = frame.header('transaction');
  if (tx !== undefined) {
    holdInTransaction(conn, tx, { kind: 'send', msg });
    conn.receipt(frame, false);
    return;
  }
  conn.receipt(frame, publish(conn, msg));
}

/** Publishes; true when the store was written (acknowledge only after the commit). */
export function publish(conn: StompConnection, msg: Message): boolean {
  return conn.ctx.broker.publish(msg).stored;
}

/** The checked, authorized message a SEND carries; throws StompError naming what is wrong. */
function messageOf(conn: StompConnection, frame: StompFrame): Message {
  const destination = required(frame, 'destination');
  const mapped = destinationToTopic(destination, conn.ctx.mount);
  if (mapped.error !== null) throw new StompError(mapped.error, 'JN_TOPIC_INVALID');
  const topic = mapped.topic;
  if (!conn.ctx.security.authorizer.canPublish(conn.clientId, conn.username, topic)) {
    throw new StompError(`not authorized to send to '${destination}'`, 'JN_NOT_AUTHORIZED');
  }
  const retainHeader = frame.header('retain');
  if (retainHeader !== undefined && retainHeader !== 'true' && retainHeader !== 'false') {
    throw new StompError(`retain header must be true or false, got '${retainHeader}'`, 'JN_MALFORMED');
  }
  let properties: MessageProperties | null = null;
  const contentType = frame.header('content-type');
  if (contentType !== undefined) properties = { contentType };
  let user: UserProperty[] | undefined;
  for (const [key, value] of frame.headers) {
    if (FRAME_HEADERS.has(key)) continue;
    (user ??= []).push({ key, value });
  }
  if (user !== undefined) (properties ??= {}).userProperties = user;
  // The parser copied the body out of the socket chunk: the message owns it.
  return new Message(topic, frame.body, 1, retainHeader === 'true', properties, 0, conn.clientId);
}

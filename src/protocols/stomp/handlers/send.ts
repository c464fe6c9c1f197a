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
import { Refusal } from '../../../gateway/refusal.js';
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

/** Publishes through the client's checks; true when the store was written (acknowledge only after the commit). */
export function publish(conn: StompConnection, msg: Message): boolean {
  const client = conn.client!;
  const outcome = client.publish(msg);
  switch (outcome.refusal) {
    case Refusal.None:
      return outcome.stored;
    case Refusal.QuotaExceeded:
      throw new StompError('publish rate stayed above the limit (--max-publish-rate)', 'JN_QUOTA_EXCEEDED');
    default:
      throw refused(outcome.refusal, msg.topic, client.refusalDetail);
  }
}

/** The ERROR for a destination the client may not send to. */
function refused(refusal: Refusal, destination: string, detail: string): StompError {
  if (refusal === Refusal.NotAuthorized) return new StompError(`not authorized to send to '${destination}'`, 'JN_NOT_AUTHORIZED');
  if (refusal === Refusal.RetainNotSupported) return new StompError(`cannot retain on '${destination}': ${detail}`, 'JN_RETAIN_NOT_SUPPORTED');
  return new StompError(`cannot send to '${destination}': ${detail}`, 'JN_TOPIC_INVALID');
}

/** The checked, authorized message a SEND carries; throws StompError naming what is wrong. */
function messageOf(conn: StompConnection, frame: StompFrame): Message {
  const destination = required(frame, 'destination');
  const mapped = destinationToTopic(destination, conn.config.mount);
  if (mapped.error !== null) throw new StompError(mapped.error, 'JN_TOPIC_INVALID');
  const topic = mapped.topic;
  const retainHeader = frame.header('retain');
  if (retainHeader !== undefined && retainHeader !== 'true' && retainHeader !== 'false') {
    throw new StompError(`retain header must be true or false, got '${retainHeader}'`, 'JN_MALFORMED');
  }
  // Checked here too, so a SEND inside a transaction is refused at once, not at COMMIT.
  const client = conn.client!;
  const refusal = client.checkPublish(topic, retainHeader === 'true');
  if (refusal !== Refusal.None) throw refused(refusal, destination, client.refusalDetail);
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

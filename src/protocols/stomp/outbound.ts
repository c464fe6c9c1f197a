/**
 * MESSAGE frames for one core delivery. The core hands one delivery per connection with the
 * slots (Subscription Identifiers) it matched; each STOMP subscription in those slots gets its
 * own MESSAGE (STOMP names one subscription per frame). The headers that depend only on the
 * message (content-type, content-length, custom headers from MQTT user properties) are encoded
 * once per escaping and cached on the message; the payload is written as is, never copied.
 */
import { encodingSlots, type Message, type QoS } from '../../core/message.js';
import { Escaping } from './codec/frame.js';
import { escapeHeader } from './codec/escape.js';
import { NUL_BYTE } from './codec/encode.js';
import { topicToDestination } from './destination.js';
import { PendingAck } from './acks.js';
import { AckMode, type StompSubscription } from './subscriptions.js';
import type { StompConnection } from './connection.js';

/** The message encoding-cache slots of the header tail, one per escaping. */
const TAIL_SLOT = encodingSlots(3);

/** Headers a custom header (MQTT user property) may not take: the frame's own. */
const RESERVED_MESSAGE_HEADERS: ReadonlySet<string> = new Set([
  'destination',
  'message-id',
  'subscription',
  'ack',
  'content-type',
  'content-length',
  'retain',
  'redelivered',
  'receipt',
  'transaction',
]);

/** Writes the MESSAGE frames of one delivery; false when there is nothing to write to. */
export function deliverMessage(conn: StompConnection, msg: Message, qos: QoS, retain: boolean, packetId: number, subIds: readonly number[] | null): void {
  const targets = targetsOf(conn, retain, subIds);
  let owed = false;
  const redelivered = conn.redelivering?.delete(msg);
  const tail = tailOf(msg, conn.escaping);
  for (const sub of targets) {
    const id = conn.nextMessageId++;
    const needsAck = sub.ack !== AckMode.Auto;
    if (needsAck && qos > 0) {
      conn.acks.add(new PendingAck(id, packetId, sub, msg));
      owed = true;
    }
    let head =
      'MESSAGE\nsubscription:' +
      escapeHeader(sub.id, conn.escaping) +
      '\nmessage-id:' +
      id +
      '\ndestination:' +
      escapeHeader(topicToDestination(msg.topic, conn.config.mount, sub.style), conn.escaping) +
      '\n';
    if (needsAck && conn.version === '1.2') head += 'ack:' + id + '\n';
    if (retain) head += 'retain:true\n';
    if (redelivered) head += 'redelivered:true\n';
    conn.write(Buffer.from(head));
    conn.write(tail);
    if (msg.payload.length > 0) conn.write(msg.payload);
    conn.write(NUL_BYTE);
  }
  // A QoS 1 delivery that no subscription acknowledges is acknowledged for it.
  if (qos > 0 && !owed) (conn.autoAcks ??= []).push(packetId);
}

function targetsOf(conn: StompConnection, retain: boolean, subIds: readonly number[] | null): StompSubscription[] {
  // Retained messages sent on SUBSCRIBE are for the new subscription only.
  if (retain && conn.retainTarget !== null) return [conn.retainTarget];
  const targets: StompSubscription[] = [];
  if (subIds === null) return targets;
  for (const n of subIds) {
    const slot = conn.subscriptions.slot(n);
    if (slot !== undefined) for (const sub of slot.subs) targets.push(sub);
  }
  return targets;
}

/** `content-type`, custom headers and `content-length`, then the blank line. */
function tailOf(msg: Message, escaping: Escaping): Buffer {
  const slot = TAIL_SLOT + escaping;
  const cached = msg.encoded(slot);
  if (cached !== undefined) return cached;
  let tail = '';
  const props = msg.properties;
  if (props !== null) {
    if (props.contentType !== undefined) tail += 'content-type:' + escapeHeader(props.contentType, escaping) + '\n';
    const user = props.userProperties;
    if (user !== undefined) {
      const seen = new Set<string>();
      for (const { key: name, value } of user) {
        if (RESERVED_MESSAGE_HEADERS.has(name) || seen.has(name)) continue;
        if (escaping === Escaping.None && (name.indexOf(':') !== -1 || name.indexOf('\n') !== -1)) continue;
        seen.add(name);
        tail += escapeHeader(name, escaping) + ':' + escapeHeader(value, escaping) + '\n';
      }
    }
  }
  tail += 'content-length:' + msg.payload.length + '\n\n';
  const buf = Buffer.from(tail);
  msg.cacheEncoded(slot, buf);
  return buf;
}

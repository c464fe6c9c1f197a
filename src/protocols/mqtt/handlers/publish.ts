/**
 * Inbound PUBLISH [MQTT-3.3]: topic alias, authorization, payload format, Receive Maximum, QoS 2
 * duplicate suppression, one core call, then the acknowledgement — after the store commit when
 * the delivery reached a persistent session.
 */
import { ProtocolError, ReceiveMaximumExceededError, TopicAliasInvalidError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { PacketType, ReasonCode } from '../constants.js';
import { Message } from '../../../core/message.js';
import { topicLevels } from '../../../core/topic.js';
import { isWellFormedUtf8 } from '../codec/utf8.js';
import type { PublishPacket } from '../packets.js';
import { applicationProperties } from './message-properties.js';
import { sendAck } from './acks.js';

export function handlePublish(conn: MqttConnection, packet: PublishPacket): void {
  const ctx = conn.ctx;
  const session = conn.session!;
  const props = packet.properties;
  let topic = packet.topic;
  if (props.subscriptionIdentifiers !== undefined) {
    throw new ProtocolError('PUBLISH from a client carries a Subscription Identifier'); // [MQTT-3.3.4-6]
  }

  if (props.topicAlias !== undefined) {
    const alias = props.topicAlias;
    if (alias === 0 || alias > ctx.limits.topicAliasMaximum) {
      throw new TopicAliasInvalidError(`topic alias ${alias} is outside 1..${ctx.limits.topicAliasMaximum}`); // [MQTT-3.3.2-9]
    }
    const aliases = (conn.inAliases ??= new Map());
    if (topic === '') {
      const known = aliases.get(alias);
      if (known === undefined) throw new ProtocolError(`topic alias ${alias} was never set on this connection`);
      topic = known;
    } else {
      aliases.set(alias, topic);
    }
  }

  const guard = conn.guard;
  if (guard !== null && !guard.countPublish(packet.payload.length) && conn.version === 5) {
    conn.closeReason = 'quota-exceeded';
    conn.disconnectWith(ReasonCode.QuotaExceeded, 'publish rate stayed above the limit');
    return;
  }

  const qos = packet.qos;
  if (qos > 0) {
    // Counted until our PUBACK / PUBCOMP goes out [MQTT-3.3.4-9].
    if (++conn.inboundUnacked > ctx.limits.receiveMaximum) throw new ReceiveMaximumExceededError(ctx.limits.receiveMaximum);
  }

  const levels = ctx.limits.maxTopicLevels;
  if (levels > 0 && topicLevels(topic) > levels) {
    refusePublish(conn, packet, ReasonCode.TopicNameInvalid, `topic has more than ${levels} levels`);
    return;
  }
  const policy = ctx.security.policy;
  if (policy !== undefined && topic.length > policy.maxTopicLength / 3 && Buffer.byteLength(topic) > policy.maxTopicLength) {
    refusePublish(conn, packet, ReasonCode.TopicNameInvalid, `topic is longer than ${policy.maxTopicLength} bytes`);
    return;
  }
  if (!(guard !== null ? guard.canPublish(topic) : ctx.security.authorizer.canPublish(conn.clientId, conn.username, topic))) {
    refusePublish(conn, packet, ReasonCode.NotAuthorized, 'not authorized to publish to this topic');
    return;
  }
  if (props.payloadFormatIndicator === 1 && !isWellFormedUtf8(packet.payload, 0, packet.payload.length)) {
    refusePublish(conn, packet, ReasonCode.PayloadFormatInvalid, 'payload is not UTF-8 although Payload Format Indicator is 1');
    return;
  }

  if (qos === 2 && !ctx.broker.receiveQos2(session, packet.packetId)) {
    // A retransmission of a PUBLISH we already have: acknowledge, do not route again [MQTT-4.3.3-9].
    conn.inboundUnacked--;
    sendAck(conn, PacketType.PUBREC, packet.packetId, 0, false);
    return;
  }

  const expiry = props.messageExpiryInterval;
  const msg = new Message(
    topic,
    // Copied: the chunk the packet arrived in must not be pinned by queued or retained messages.
    Buffer.from(packet.payload),
    qos,
    packet.retain,
    conn.version === 5 ? applicationProperties(props) : null,
    expiry !== undefined && expiry > 0 ? Date.now() + expiry * 1000 : 0,
    conn.clientId,
  );
  const target = policy !== undefined ? policy.pointToPoint(topic) : null;
  const outcome = target === null ? ctx.broker.publish(msg) : ctx.broker.publishTo(target, msg);
  if (qos === 0) return;
  const reason = outcome.matched === 0 && conn.version === 5 ? ReasonCode.NoMatchingSubscribers : ReasonCode.Success;
  // A persistent session's inbound QoS 2 id was stored too: PUBREC waits for it, or a crash
  // after PUBREC would let the retransmitted PUBLISH through again.
  const wait = outcome.stored || (qos === 2 && session.persistent);
  sendAck(conn, qos === 1 ? PacketType.PUBACK : PacketType.PUBREC, packet.packetId, reason, wait);
}

/** Refuses one PUBLISH: 5.0 acks it with the reason; 3.1.1 has no way to say no, so it is dropped. */
function refusePublish(conn: MqttConnection, packet: PublishPacket, reason: number, detail: string): void {
  conn.logDebug('publish refused', { topic: packet.topic, reason: '0x' + reason.toString(16), detail });
  if (packet.qos === 0) return;
  if (conn.version === 5) {
    // An error reason ends the QoS 2 flow at PUBREC, so the id is free again.
    sendAck(conn, packet.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC, packet.packetId, reason, false);
  } else {
    sendAck(conn, packet.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC, packet.packetId, 0, false);
    if (packet.qos === 2) conn.ctx.broker.receiveQos2(conn.session!, packet.packetId);
  }
}


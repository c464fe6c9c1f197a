/**
 * Inbound PUBLISH [MQTT-3.3]: topic alias, Receive Maximum, payload format, QoS 2 duplicate
 * suppression, then the client's publish through the gateway (pace, topic rules, rights,
 * routing), then the acknowledgement — after the store commit when the delivery reached a
 * persistent session.
 */
import { ProtocolError, ReceiveMaximumExceededError, TopicAliasInvalidError } from '../../../errors.js';
import { QosNotSupportedError } from '../codec/errors.js';
import type { MqttConnection } from '../connection.js';
import { PacketType, ReasonCode } from '../codec/constants.js';
import { Message } from '../../../core/message.js';
import { Refusal } from '../../../gateway/refusal.js';
import { isWellFormedUtf8 } from '../codec/utf8.js';
import type { PublishPacket } from '../codec/packets.js';
import { applicationProperties } from './message-properties.js';
import { sendAck } from './acks.js';

export function handlePublish(conn: MqttConnection, packet: PublishPacket): void {
  const client = conn.client!;
  const props = packet.properties;
  let topic = packet.topic;
  if (props.subscriptionIdentifiers !== undefined) {
    throw new ProtocolError('PUBLISH from a client carries a Subscription Identifier'); // [MQTT-3.3.4-6]
  }

  if (props.topicAlias !== undefined) {
    const alias = props.topicAlias;
    const max = conn.config.topicAliasMaximum;
    if (alias === 0 || alias > max) {
      throw new TopicAliasInvalidError(`topic alias ${alias} is outside 1..${max}`); // [MQTT-3.3.2-9]
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

  const qos = packet.qos;
  if (qos > 0) {
    // Above --maximum-qos: 5.0 DISCONNECT 0x9B (section 3.2.2.3.4); 3.1.1 cannot say it and closes.
    if (qos > conn.config.maximumQos) throw new QosNotSupportedError(qos, conn.config.maximumQos);
    // Counted until our PUBACK / PUBCOMP goes out [MQTT-3.3.4-9].
    const max = conn.config.receiveMaximum;
    if (++conn.inboundUnacked > max) throw new ReceiveMaximumExceededError(max);
  }
  if (props.payloadFormatIndicator === 1 && !isWellFormedUtf8(packet.payload, 0, packet.payload.length)) {
    refusePublish(conn, packet, topic, ReasonCode.PayloadFormatInvalid, 'payload is not UTF-8 although Payload Format Indicator is 1');
    return;
  }
  if (qos === 2 && !client.receiveQos2(packet.packetId)) {
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
  if (qos === 2) msg.inboundId = packet.packetId;
  let outcome = client.publish(msg);
  if (outcome.refusal === Refusal.QuotaExceeded) {
    if (conn.version === 5) {
      conn.closeReason = 'quota-exceeded';
      conn.disconnectWith(ReasonCode.QuotaExceeded, 'publish rate stayed above the limit');
      return;
    }
    // 3.1.1 has no way to say it: the pace alone (reading paused) holds the client back.
    outcome = client.publish(msg, false);
  }
  if (outcome.refusal === Refusal.RetainNotSupported) {
    // --retain-available false: 5.0 DISCONNECT 0x9A (section 3.3.1.3); 3.1.1 cannot say it and
    // closes. The QoS 2 id is forgotten, so a retransmission is judged again, not taken as a duplicate.
    if (qos === 2) client.releaseQos2(packet.packetId);
    conn.protocolFailure(ReasonCode.RetainNotSupported, client.refusalDetail);
    return;
  }
  if (outcome.refusal !== Refusal.None) {
    const reason = outcome.refusal === Refusal.NotAuthorized ? ReasonCode.NotAuthorized : ReasonCode.TopicNameInvalid;
    refusePublish(conn, packet, topic, reason, client.refusalDetail || 'not authorized to publish to this topic');
    return;
  }
  if (qos === 0) return;
  const reason = outcome.matched === 0 && conn.version === 5 ? ReasonCode.NoMatchingSubscribers : ReasonCode.Success;
  // A persistent session's inbound QoS 2 id was stored too: PUBREC waits for it, or a crash
  // after PUBREC would let the retransmitted PUBLISH through again.
  const wait = outcome.stored || (qos === 2 && client.session!.persistent);
  sendAck(conn, qos === 1 ? PacketType.PUBACK : PacketType.PUBREC, packet.packetId, reason, wait);
}

/** Refuses one PUBLISH: 5.0 acks it with the reason; 3.1.1 has no way to say no, so it is dropped. */
function refusePublish(conn: MqttConnection, packet: PublishPacket, topic: string, reason: number, detail: string): void {
  conn.logDebug('publish refused', { topic, reason: '0x' + reason.toString(16), detail });
  if (packet.qos === 0) return;
  const type = packet.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC;
  if (conn.version === 5) {
    // An error reason ends the QoS 2 flow at PUBREC, so the id is free again.
    if (packet.qos === 2) conn.client!.releaseQos2(packet.packetId);
    sendAck(conn, type, packet.packetId, reason, false);
  } else {
    // 3.1.1: PUBREC 0 keeps the id until the client's PUBREL, as for a routed message.
    if (packet.qos === 2) conn.client!.receiveQos2(packet.packetId);
    sendAck(conn, type, packet.packetId, 0, false);
  }
}

/**
 * UNSUBSCRIBE [MQTT-3.10]: UNSUBACK with 0x00, 0x11 (No subscription existed) or 0x8F (Topic
 * Filter invalid) per filter in 5.0; in 3.1/3.1.1 an invalid filter closes the connection.
 */
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import { encodeUnsuback } from '../codec/encode.js';
import type { UnsubscribePacket } from '../codec/packets.js';
import { validateTopicFilter } from '../../../core/topic.js';
import { requireValidFilter } from './subscribe.js';

export function handleUnsubscribe(conn: MqttConnection, packet: UnsubscribePacket): void {
  const client = conn.client!;
  const v5 = conn.version === 5;
  const filters = packet.filters;
  if (!v5) for (let i = 0; i < filters.length; i++) requireValidFilter('UNSUBSCRIBE', filters[i]!, i);
  const reasons: number[] = [];
  for (const filter of filters) {
    if (v5 && validateTopicFilter(filter) !== null) reasons.push(ReasonCode.TopicFilterInvalid);
    else reasons.push(client.unsubscribe(filter) ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
  }
  conn.write(encodeUnsuback(conn.version, { type: 11, packetId: packet.packetId, reasonCodes: v5 ? reasons : [], properties: {} }));
}

/** UNSUBSCRIBE [MQTT-3.10]: UNSUBACK with 0x00 or 0x11 (No subscription existed) per filter in 5.0. */
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import { encodeUnsuback } from '../codec/encode.js';
import type { UnsubscribePacket } from '../codec/packets.js';

export function handleUnsubscribe(conn: MqttConnection, packet: UnsubscribePacket): void {
  const client = conn.client!;
  const reasons: number[] = [];
  for (const filter of packet.filters) {
    reasons.push(client.unsubscribe(filter) ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
  }
  conn.write(encodeUnsuback(conn.version, { type: 11, packetId: packet.packetId, reasonCodes: conn.version === 5 ? reasons : [], properties: {} }));
}

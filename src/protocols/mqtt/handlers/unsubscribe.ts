/** UNSUBSCRIBE [MQTT-3.10]: UNSUBACK with 0x00 or 0x11 (No subscription existed) per filter in 5.0. */
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../constants.js';
import { encodeUnsuback } from '../codec/encode.js';
import type { UnsubscribePacket } from '../packets.js';

export function handleUnsubscribe(conn: MqttConnection, packet: UnsubscribePacket): void {
  const broker = conn.ctx.broker;
  const session = conn.session!;
  const reasons: number[] = [];
  for (const filter of packet.filters) {
    reasons.push(broker.unsubscribe(session, filter) ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
  }
  conn.send(encodeUnsuback(conn.version, { type: 11, packetId: packet.packetId, reasonCodes: conn.version === 5 ? reasons : [], properties: {} }));
}

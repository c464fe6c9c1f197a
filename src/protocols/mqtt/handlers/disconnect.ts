/**
 * DISCONNECT from the client [MQTT-3.14]: the will is discarded, except with reason 0x04
 * (Disconnect with Will Message); 5.0 may change the Session Expiry Interval, but not from 0.
 */
import { ProtocolError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import type { DisconnectPacket } from '../codec/packets.js';

export function handleDisconnect(conn: MqttConnection, packet: DisconnectPacket): void {
  const expiry = packet.properties.sessionExpiryInterval;
  const client = conn.client!;
  if (expiry !== undefined) {
    if (client.session!.expiryInterval === 0 && expiry !== 0) {
      throw new ProtocolError('DISCONNECT: Session Expiry Interval cannot be set when it was 0 at CONNECT'); // [MQTT-3.14.2-2]
    }
    client.setExpiry(expiry);
  }
  conn.close('normal', packet.reasonCode === ReasonCode.DisconnectWithWill);
}

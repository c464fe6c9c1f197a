/**
 * The dispatcher: the CONNECT gate first [MQTT-3.1.0-1], then a switch on the packet type.
 * Handlers throw typed errors for anything fatal; the connection alone ends connections.
 */
import { ProtocolError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { Phase } from '../../../gateway/shell.js';
import { PacketType, PACKET_NAMES, ReasonCode } from '../codec/constants.js';
import { decodePacket } from '../codec/decode.js';
import { decodePublishFromScan } from '../codec/decode-publish.js';
import type { AckPacket, AuthPacket, ConnectPacket, DisconnectPacket, SubscribePacket, UnsubscribePacket } from '../codec/packets.js';
import { handleConnect, refuse } from './connect.js';
import { UnsupportedProtocolVersionError } from '../codec/errors.js';
import { handlePublish } from './publish.js';
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './acks.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { handlePingreq } from './pingreq.js';
import { handleDisconnect } from './disconnect.js';
import { handleAuth } from './auth.js';

/** Decodes and handles one packet found by the scanner (record `index` of `scan`). */
export function dispatchPacket(conn: MqttConnection, type: number, flags: number, buf: Buffer, start: number, end: number, scan: Uint32Array, index: number): void {
  if (conn.phase === Phase.Connecting && conn.authState === null) {
    if (type !== PacketType.CONNECT) {
      throw new ProtocolError(`first packet must be CONNECT, got ${PACKET_NAMES[type] ?? type}`);
    }
    let connect: ConnectPacket;
    try {
      connect = decodePacket(type, flags, buf, start, end, 4) as ConnectPacket;
    } catch (err) {
      if (!(err instanceof UnsupportedProtocolVersionError)) throw err;
      // We cannot know the client's CONNACK format: answer in 3.1.1 form, return code 1 [MQTT-3.1.2-2].
      conn.logDebug('unsupported protocol level', { level: err.level });
      refuse(conn, ReasonCode.UnsupportedProtocolVersion, '');
      return;
    }
    handleConnect(conn, connect);
    return;
  }
  if (conn.inEnhancedAuth && type !== PacketType.AUTH) {
    throw new ProtocolError(`${PACKET_NAMES[type] ?? type} received during enhanced authentication`);
  }
  const version = conn.version;
  switch (type) {
    case PacketType.PUBLISH:
      handlePublish(conn, decodePublishFromScan(buf, scan, index, version));
      return;
    case PacketType.PUBACK:
      handlePuback(conn, decodePacket(type, flags, buf, start, end, version) as AckPacket);
      return;
    case PacketType.PUBREC:
      handlePubrec(conn, decodePacket(type, flags, buf, start, end, version) as AckPacket);
      return;
    case PacketType.PUBREL:
      handlePubrel(conn, decodePacket(type, flags, buf, start, end, version) as AckPacket);
      return;
    case PacketType.PUBCOMP:
      handlePubcomp(conn, decodePacket(type, flags, buf, start, end, version) as AckPacket);
      return;
    case PacketType.SUBSCRIBE:
      handleSubscribe(conn, decodePacket(type, flags, buf, start, end, version) as SubscribePacket);
      return;
    case PacketType.UNSUBSCRIBE:
      handleUnsubscribe(conn, decodePacket(type, flags, buf, start, end, version) as UnsubscribePacket);
      return;
    case PacketType.PINGREQ:
      decodePacket(type, flags, buf, start, end, version);
      handlePingreq(conn);
      return;
    case PacketType.DISCONNECT:
      handleDisconnect(conn, decodePacket(type, flags, buf, start, end, version) as DisconnectPacket);
      return;
    case PacketType.AUTH:
      if (version !== 5) throw new ProtocolError('AUTH is an MQTT 5 packet');
      handleAuth(conn, decodePacket(type, flags, buf, start, end, version) as AuthPacket);
      return;
    case PacketType.CONNECT:
      throw new ProtocolError('second CONNECT on one connection'); // [MQTT-3.1.0-2]
    default:
      // CONNACK, SUBACK, UNSUBACK, PINGRESP travel only to clients; 0 is reserved.
      throw new ProtocolError(`${PACKET_NAMES[type] ?? 'reserved packet type ' + type} is not accepted from a client`);
  }
}

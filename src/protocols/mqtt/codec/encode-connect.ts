/** CONNECT (client side) and CONNACK encoding [MQTT-3.1], [MQTT-3.2]. */

import { connackReturnCodeV3, type PacketType } from './constants.js';
import type { ConnackProperties, ConnectProperties, ProtocolVersion, WillFields } from './packets.js';
import { propertiesSize, writeProperties } from './properties-encode.js';
import { allocPacket, checkLength, varintSize, writeBinary, writeString, writeU16 } from './writer.js';

/** What encodeConnect needs; a decoded ConnectPacket fits. */
export interface ConnectFields {
  type?: typeof PacketType.CONNECT;
  protocolVersion: ProtocolVersion;
  /** Defaults to 'MQIsdp' for version 3 and 'MQTT' otherwise. */
  protocolName?: string;
  cleanStart: boolean;
  keepAlive: number;
  clientId: string;
  will?: WillFields | null;
  username?: string | null;
  password?: Buffer | null;
  properties?: ConnectProperties;
}

/** Encodes a CONNECT packet. */
export function encodeConnect(p: ConnectFields): Buffer {
  const v5 = p.protocolVersion === 5;
  const name = p.protocolName ?? (p.protocolVersion === 3 ? 'MQIsdp' : 'MQTT');
  const nameLen = Buffer.byteLength(name);
  const idLen = checkLength('CONNECT client identifier', Buffer.byteLength(p.clientId));
  const will = p.will ?? null;
  const username = p.username ?? null;
  const password = p.password ?? null;
  const propsSize = v5 && p.properties !== undefined ? propertiesSize(p.properties) : 0;

  let remaining = 2 + nameLen + 1 + 1 + 2 + 2 + idLen;
  if (v5) remaining += varintSize(propsSize) + propsSize;
  let willTopicLen = 0;
  let willPropsSize = 0;
  if (will !== null) {
    willTopicLen = checkLength('CONNECT will topic', Buffer.byteLength(will.topic));
    remaining += 2 + willTopicLen + 2 + checkLength('CONNECT will payload', will.payload.length);
    if (v5) {
      willPropsSize = propertiesSize(will.properties);
      remaining += varintSize(willPropsSize) + willPropsSize;
    }
  }
  let userLen = 0;
  if (username !== null) {
    userLen = checkLength('CONNECT user name', Buffer.byteLength(username));
    remaining += 2 + userLen;
  }
  if (password !== null) remaining += 2 + checkLength('CONNECT password', password.length);

  let flags = p.cleanStart ? 0x02 : 0;
  if (will !== null) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (password !== null) flags |= 0x40;
  if (username !== null) flags |= 0x80;

  const buf = allocPacket(0x10, remaining);
  let pos = buf.length - remaining;
  pos = writeString(buf, pos, name, nameLen);
  buf[pos++] = p.protocolVersion;
  buf[pos++] = flags;
  pos = writeU16(buf, pos, p.keepAlive);
  if (v5) pos = writeProperties(buf, pos, p.properties ?? {}, propsSize);
  pos = writeString(buf, pos, p.clientId, idLen);
  if (will !== null) {
    if (v5) pos = writeProperties(buf, pos, will.properties, willPropsSize);
    pos = writeString(buf, pos, will.topic, willTopicLen);
    pos = writeBinary(buf, pos, will.payload);
  }
  if (username !== null) pos = writeString(buf, pos, username, userLen);
  if (password !== null) writeBinary(buf, pos, password);
  return buf;
}

/** What encodeConnack needs; a decoded ConnackPacket fits. */
export interface ConnackFields {
  type?: typeof PacketType.CONNACK;
  sessionPresent: boolean;
  /** In MQTT 5 terms; mapped to the 3.1.1 return code for versions 3 and 4. */
  reasonCode: number;
  properties?: ConnackProperties;
}

/** Encodes a CONNACK for the client's protocol version. */
export function encodeConnack(version: ProtocolVersion, p: ConnackFields): Buffer {
  // 3.1 has no session present flag [MQTT-3.2.2-1 in 3.1.1 reserves bits 7-1 only].
  const ackFlags = p.sessionPresent && version !== 3 ? 1 : 0;
  if (version !== 5) {
    const buf = allocPacket(0x20, 2);
    buf[2] = ackFlags;
    buf[3] = connackReturnCodeV3(p.reasonCode);
    return buf;
  }
  const props = p.properties ?? {};
  const propsSize = propertiesSize(props);
  const remaining = 2 + varintSize(propsSize) + propsSize;
  const buf = allocPacket(0x20, remaining);
  const pos = buf.length - remaining;
  buf[pos] = ackFlags;
  buf[pos + 1] = p.reasonCode;
  writeProperties(buf, pos + 2, props, propsSize);
  return buf;
}

/** Sets the session present flag of a CONNACK encodeConnack made (3.1.1 and 5.0), in place. */
export function setConnackSessionPresent(connack: Buffer): void {
  let pos = 1;
  while ((connack[pos]! & 0x80) !== 0) pos++;
  connack[pos + 1] = 1;
}

/** PUBACK/PUBREC/PUBREL/PUBCOMP, PINGREQ/PINGRESP, DISCONNECT and AUTH encoding. */

import { PacketType } from './constants.js';
import type { AckType, AuthProperties, DisconnectProperties, ProtocolVersion, ReasonProperties } from './packets.js';
import { propertiesSize, writeProperties } from './properties-encode.js';
import { allocPacket, varintSize, writeU16 } from './writer.js';

/** The one PINGRESP every connection shares; never write into it. */
export const PINGRESP: Buffer = Buffer.from([0xd0, 0x00]);
/** The one PINGREQ every client shares; never write into it. */
export const PINGREQ: Buffer = Buffer.from([0xc0, 0x00]);
const DISCONNECT_V3: Buffer = Buffer.from([0xe0, 0x00]);

/** Returns the shared PINGRESP buffer. */
export function encodePingresp(): Buffer {
  return PINGRESP;
}

/** Returns the shared PINGREQ buffer. */
export function encodePingreq(): Buffer {
  return PINGREQ;
}

/**
 * Encodes PUBACK, PUBREC, PUBREL or PUBCOMP. 5.0 drops the reason code when it is 0x00 with no
 * properties, and the property length when there are none [MQTT-3.4.2.1].
 */
export function encodeAck(type: AckType, version: ProtocolVersion, packetId: number, reasonCode = 0, properties?: ReasonProperties): Buffer {
  const first = (type << 4) | (type === PacketType.PUBREL ? 0x02 : 0); // [MQTT-3.6.1-1]
  const propsSize = version === 5 && properties !== undefined ? propertiesSize(properties) : 0;
  if (version !== 5 || (reasonCode === 0 && propsSize === 0)) {
    const buf = allocPacket(first, 2);
    writeU16(buf, 2, packetId);
    return buf;
  }
  if (propsSize === 0) {
    const buf = allocPacket(first, 3);
    writeU16(buf, 2, packetId);
    buf[4] = reasonCode;
    return buf;
  }
  const remaining = 3 + varintSize(propsSize) + propsSize;
  const buf = allocPacket(first, remaining);
  const pos = writeU16(buf, buf.length - remaining, packetId);
  buf[pos] = reasonCode;
  writeProperties(buf, pos + 1, properties ?? {}, propsSize);
  return buf;
}

/**
 * Encodes a DISCONNECT. `version` 3 and 4 give the bare 2-byte packet (no reason, no
 * properties); 5.0 omits what is at its default [MQTT-3.14.2.1].
 */
export function encodeDisconnect(reasonCode = 0, properties?: DisconnectProperties, version: ProtocolVersion = 5): Buffer {
  if (version !== 5) return DISCONNECT_V3;
  const propsSize = properties !== undefined ? propertiesSize(properties) : 0;
  if (propsSize === 0) {
    if (reasonCode === 0) return allocPacket(0xe0, 0);
    const buf = allocPacket(0xe0, 1);
    buf[2] = reasonCode;
    return buf;
  }
  const remaining = 1 + varintSize(propsSize) + propsSize;
  const buf = allocPacket(0xe0, remaining);
  const pos = buf.length - remaining;
  buf[pos] = reasonCode;
  writeProperties(buf, pos + 1, properties ?? {}, propsSize);
  return buf;
}

/**
 * Encodes an AUTH (5.0 only), always with its reason code and property length: the 2-byte
 * Success form [MQTT-3.15.2.1] is legal, but mqtt-packet (MQTT.js) rejects it as a bad reason code.
 */
export function encodeAuth(reasonCode = 0, properties?: AuthProperties): Buffer {
  const propsSize = properties !== undefined ? propertiesSize(properties) : 0;
  const remaining = 1 + varintSize(propsSize) + propsSize;
  const buf = allocPacket(0xf0, remaining);
  const pos = buf.length - remaining;
  buf[pos] = reasonCode;
  writeProperties(buf, pos + 1, properties ?? {}, propsSize);
  return buf;
}

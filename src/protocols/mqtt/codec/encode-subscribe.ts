/** SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK encoding [MQTT-3.8] - [MQTT-3.11]. */

import type { PacketType } from './constants.js';
import type { ProtocolVersion, QoS, ReasonProperties, SubscribeProperties, UnsubscribeProperties } from './packets.js';
import { propertiesSize, writeProperties } from './properties-encode.js';
import { allocPacket, checkLength, varintSize, writeString, writeU16 } from './writer.js';

/** One requested subscription; the 5.0 options default to false / 0. */
export interface SubscriptionFields {
  filter: string;
  qos: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
}

/** What encodeSubscribe needs; a decoded SubscribePacket fits. */
export interface SubscribeFields {
  type?: typeof PacketType.SUBSCRIBE;
  packetId: number;
  subscriptions: SubscriptionFields[];
  properties?: SubscribeProperties;
}

/** Encodes a SUBSCRIBE (fixed header flags 0b0010 [MQTT-3.8.1-1]). */
export function encodeSubscribe(version: ProtocolVersion, p: SubscribeFields): Buffer {
  const v5 = version === 5;
  const propsSize = v5 && p.properties !== undefined ? propertiesSize(p.properties) : 0;
  const lengths = new Array<number>(p.subscriptions.length);
  let remaining = 2 + (v5 ? varintSize(propsSize) + propsSize : 0);
  for (let i = 0; i < p.subscriptions.length; i++) {
    lengths[i] = checkLength(`SUBSCRIBE topic filter ${i + 1}`, Buffer.byteLength(p.subscriptions[i].filter));
    remaining += 3 + lengths[i];
  }
  const buf = allocPacket(0x82, remaining);
  let pos = writeU16(buf, buf.length - remaining, p.packetId);
  if (v5) pos = writeProperties(buf, pos, p.properties ?? {}, propsSize);
  for (let i = 0; i < p.subscriptions.length; i++) {
    const s = p.subscriptions[i];
    pos = writeString(buf, pos, s.filter, lengths[i]);
    let options = s.qos;
    if (v5) {
      if (s.noLocal === true) options |= 0x04;
      if (s.retainAsPublished === true) options |= 0x08;
      options |= (s.retainHandling ?? 0) << 4;
    }
    buf[pos++] = options;
  }
  return buf;
}

/** What encodeSuback and encodeUnsuback need; decoded SubackPacket / UnsubackPacket fit. */
export interface AckListFields {
  type?: typeof PacketType.SUBACK | typeof PacketType.UNSUBACK;
  packetId: number;
  /** One per filter, in request order; ignored by a 3.1/3.1.1 UNSUBACK. */
  reasonCodes: readonly number[];
  properties?: ReasonProperties;
}

/** Encodes a SUBACK; 3.1/3.1.1 get every failure code as 0x80 [MQTT-3.9.3]. */
export function encodeSuback(version: ProtocolVersion, p: AckListFields): Buffer {
  const { packetId, reasonCodes, properties } = p;
  const v5 = version === 5;
  const propsSize = v5 && properties !== undefined ? propertiesSize(properties) : 0;
  const remaining = 2 + (v5 ? varintSize(propsSize) + propsSize : 0) + reasonCodes.length;
  const buf = allocPacket(0x90, remaining);
  let pos = writeU16(buf, buf.length - remaining, packetId);
  if (v5) pos = writeProperties(buf, pos, properties ?? {}, propsSize);
  for (const code of reasonCodes) buf[pos++] = v5 || code < 0x80 ? code : 0x80;
  return buf;
}

/** What encodeUnsubscribe needs; a decoded UnsubscribePacket fits. */
export interface UnsubscribeFields {
  type?: typeof PacketType.UNSUBSCRIBE;
  packetId: number;
  filters: string[];
  properties?: UnsubscribeProperties;
}

/** Encodes an UNSUBSCRIBE (fixed header flags 0b0010 [MQTT-3.10.1-1]). */
export function encodeUnsubscribe(version: ProtocolVersion, p: UnsubscribeFields): Buffer {
  const v5 = version === 5;
  const propsSize = v5 && p.properties !== undefined ? propertiesSize(p.properties) : 0;
  const lengths = new Array<number>(p.filters.length);
  let remaining = 2 + (v5 ? varintSize(propsSize) + propsSize : 0);
  for (let i = 0; i < p.filters.length; i++) {
    lengths[i] = checkLength(`UNSUBSCRIBE topic filter ${i + 1}`, Buffer.byteLength(p.filters[i]));
    remaining += 2 + lengths[i];
  }
  const buf = allocPacket(0xa2, remaining);
  let pos = writeU16(buf, buf.length - remaining, p.packetId);
  if (v5) pos = writeProperties(buf, pos, p.properties ?? {}, propsSize);
  for (let i = 0; i < p.filters.length; i++) pos = writeString(buf, pos, p.filters[i], lengths[i]);
  return buf;
}

/** Encodes an UNSUBACK; 3.1/3.1.1 carry only the packet identifier. */
export function encodeUnsuback(version: ProtocolVersion, p: AckListFields): Buffer {
  const { packetId, reasonCodes, properties } = p;
  if (version !== 5) {
    const buf = allocPacket(0xb0, 2);
    writeU16(buf, 2, packetId);
    return buf;
  }
  const propsSize = properties !== undefined ? propertiesSize(properties) : 0;
  const remaining = 2 + varintSize(propsSize) + propsSize + reasonCodes.length;
  const buf = allocPacket(0xb0, remaining);
  let pos = writeU16(buf, buf.length - remaining, packetId);
  pos = writeProperties(buf, pos, properties ?? {}, propsSize);
  for (const code of reasonCodes) buf[pos++] = code;
  return buf;
}

/**
 * PUBLISH encoding [MQTT-3.3]: one exact-size Buffer per call, so a fan-out can encode once per
 * wire shape and hand the same bytes to every subscriber; for QoS 1/2 copies only the packet
 * identifier differs (publishPacketIdOffset / setPublishPacketId).
 */

import type { PacketType } from './constants.js';
import type { ProtocolVersion, PublishProperties, QoS } from './packets.js';
import { propertiesSize, writeProperties } from './properties-encode.js';
import { allocPacket, checkLength, varintSize, writeU16 } from './writer.js';

/** What encodePublish needs; a decoded PublishPacket fits. */
export interface PublishFields {
  type?: typeof PacketType.PUBLISH;
  /** '' only in 5.0 together with properties.topicAlias. */
  topic: string;
  payload: Buffer | Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Ignored at QoS 0; 1..65535 otherwise. */
  packetId: number;
  properties?: PublishProperties;
}

function remainingLength(version: ProtocolVersion, p: PublishFields, topicLen: number, propsSize: number): number {
  let n = 2 + topicLen + p.payload.length;
  if (p.qos > 0) n += 2;
  if (version === 5) n += varintSize(propsSize) + propsSize;
  return n;
}

/** Total bytes encodePublish would produce for these fields. */
export function encodedPublishSize(version: ProtocolVersion, p: PublishFields): number {
  const topicLen = Buffer.byteLength(p.topic);
  const propsSize = version === 5 && p.properties !== undefined ? propertiesSize(p.properties) : 0;
  const remaining = remainingLength(version, p, topicLen, propsSize);
  return 1 + varintSize(remaining) + remaining;
}

/** Encodes a PUBLISH packet. */
export function encodePublish(version: ProtocolVersion, p: PublishFields): Buffer {
  const topicLen = checkLength('PUBLISH topic', Buffer.byteLength(p.topic));
  const props = version === 5 ? p.properties : undefined;
  const propsSize = props !== undefined ? propertiesSize(props) : 0;
  const remaining = remainingLength(version, p, topicLen, propsSize);
  const qos = p.qos;
  if (qos > 0 && (p.packetId < 1 || p.packetId > 65_535)) {
    throw new RangeError(`PUBLISH packet identifier ${p.packetId} is outside 1..65535 at QoS ${qos}`);
  }
  const first = 0x30 | (p.dup && qos > 0 ? 0x08 : 0) | (qos << 1) | (p.retain ? 0x01 : 0);
  const buf = allocPacket(first, remaining);
  let pos = buf.length - remaining;
  pos = writeU16(buf, pos, topicLen);
  if (topicLen > 0) pos += buf.write(p.topic, pos, topicLen, 'utf8');
  if (qos > 0) pos = writeU16(buf, pos, p.packetId);
  if (version === 5) {
    if (props !== undefined) pos = writeProperties(buf, pos, props, propsSize);
    else buf[pos++] = 0;
  }
  buf.set(p.payload, pos);
  return buf;
}

/** Offset of the packet identifier in an encoded PUBLISH, or -1 at QoS 0. */
export function publishPacketIdOffset(buf: Buffer): number {
  if ((buf[0] & 0x06) === 0) return -1;
  let pos = 1;
  while ((buf[pos] & 0x80) !== 0) pos++;
  pos++;
  const topicLen = (buf[pos] << 8) | buf[pos + 1];
  return pos + 2 + topicLen;
}

/** Writes `packetId` into an encoded QoS 1/2 PUBLISH in place. */
export function setPublishPacketId(buf: Buffer, packetId: number): void {
  const at = publishPacketIdOffset(buf);
  if (at < 0) throw new RangeError('a QoS 0 PUBLISH has no packet identifier');
  buf[at] = packetId >>> 8;
  buf[at + 1] = packetId & 0xff;
}

/** Sets or clears the DUP flag of an encoded QoS 1/2 PUBLISH in place (for redelivery). */
export function setPublishDup(buf: Buffer, dup: boolean): void {
  if ((buf[0] & 0x06) === 0) return; // [MQTT-3.3.1-2] DUP stays 0 at QoS 0
  buf[0] = dup ? buf[0] | 0x08 : buf[0] & ~0x08;
}

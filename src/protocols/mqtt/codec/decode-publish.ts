/**
 * PUBLISH decoding [MQTT-3.3], both from raw bytes and from the frame scanner's record (the hot
 * path: the header, topic bounds, packet id and property bounds are already known). The payload
 * is a view into the caller's buffer.
 */

import { MalformedPacketError, ProtocolError } from '../../../errors.js';
import { PacketType } from './constants.js';
import type { ProtocolVersion, PublishPacket, PublishProperties, QoS } from './packets.js';
import { TopicNameInvalidError } from './errors.js';
import { decodeProperties, decodePropertyBlock } from './properties.js';
import { PacketReader } from './reader.js';
import { SCAN_FLAGS, SCAN_LENGTH, SCAN_OFFSET, SCAN_PACKET_ID, SCAN_PROPS_LENGTH, SCAN_PROPS_OFFSET, SCAN_TOPIC_LENGTH, SCAN_TOPIC_OFFSET, scanRecord } from './scanner.js';
import { STR_NON_ASCII, STR_NUL, STR_WILDCARD, isWellFormedUtf8, scanString } from './utf8.js';

// One reader for the scanner path: decoding is synchronous and not re-entrant.
const scratch = new PacketReader(Buffer.alloc(0), 0, 0, 'PUBLISH');

function checkFlags(flags: number): QoS {
  const qos = (flags >> 1) & 0x03;
  if (qos === 3) throw new MalformedPacketError('PUBLISH: QoS is 3'); // [MQTT-3.3.1-4]
  if (qos === 0 && (flags & 0x08) !== 0) throw new ProtocolError('PUBLISH: DUP is set on a QoS 0 message'); // [MQTT-3.3.1-2]
  return qos as QoS;
}

function readTopic(buf: Buffer, start: number, end: number): string {
  if (start === end) return '';
  const bits = scanString(buf, start, end);
  if (bits === 0) return buf.toString('latin1', start, end);
  if ((bits & STR_NUL) !== 0) throw new MalformedPacketError('PUBLISH: topic contains U+0000'); // [MQTT-1.5.4-2]
  if ((bits & STR_NON_ASCII) !== 0 && !isWellFormedUtf8(buf, start, end)) {
    throw new MalformedPacketError('PUBLISH: topic is not valid UTF-8'); // [MQTT-1.5.4-1]
  }
  if ((bits & STR_WILDCARD) !== 0) {
    const topic = buf.toString('utf8', start, end);
    throw new TopicNameInvalidError(`PUBLISH: topic '${topic}' contains a wildcard`); // [MQTT-3.3.2-2]
  }
  return buf.toString('utf8', start, end);
}

function checkTopic(topic: string, properties: PublishProperties, version: ProtocolVersion): void {
  if (topic.length !== 0) return;
  if (version !== 5) throw new TopicNameInvalidError('PUBLISH: topic is empty'); // [MQTT-4.7.3-1]
  if (properties.topicAlias === undefined) {
    throw new ProtocolError('PUBLISH: topic is empty and there is no Topic Alias'); // [MQTT-3.3.2-1]
  }
}

/** Decodes a PUBLISH whose variable header starts at r.pos. */
export function decodePublish(r: PacketReader, flags: number, version: ProtocolVersion): PublishPacket {
  const qos = checkFlags(flags);
  const topicLen = r.u16('topic length');
  const topicStart = r.pos;
  if (topicStart + topicLen > r.end) r.malformed('topic', -1, `(length ${topicLen}) runs past the end of the packet`);
  const topic = readTopic(r.buf, topicStart, topicStart + topicLen);
  r.pos = topicStart + topicLen;
  let packetId = 0;
  if (qos > 0) {
    packetId = r.u16('packet identifier');
    if (packetId === 0) throw new ProtocolError('PUBLISH: packet identifier is 0 at QoS > 0'); // [MQTT-2.2.1-3]
  }
  const properties: PublishProperties = version === 5 ? decodeProperties(r, PacketType.PUBLISH) : {};
  checkTopic(topic, properties, version);
  return {
    type: PacketType.PUBLISH,
    topic,
    payload: r.buf.subarray(r.pos, r.end),
    qos,
    retain: (flags & 0x01) !== 0,
    dup: (flags & 0x08) !== 0,
    packetId,
    properties,
  };
}

/**
 * Builds the PublishPacket for scanner record `index` in `out` (from scanFrames over `buf`)
 * without re-reading the fixed header; validates what the scanner does not.
 */
export function decodePublishFromScan(buf: Buffer, out: Uint32Array, index: number, version: ProtocolVersion): PublishPacket {
  const rec = scanRecord(index);
  const flags = out[rec + SCAN_FLAGS];
  const end = out[rec + SCAN_OFFSET] + out[rec + SCAN_LENGTH];
  const topicStart = out[rec + SCAN_TOPIC_OFFSET];
  const topicEnd = topicStart + out[rec + SCAN_TOPIC_LENGTH];
  const qos = checkFlags(flags);
  const packetId = out[rec + SCAN_PACKET_ID];
  if (qos > 0 && packetId === 0) throw new ProtocolError('PUBLISH: packet identifier is 0 at QoS > 0'); // [MQTT-2.2.1-3]
  const topic = readTopic(buf, topicStart, topicEnd);
  let properties: PublishProperties;
  let payloadStart: number;
  if (version === 5) {
    const propsStart = out[rec + SCAN_PROPS_OFFSET];
    payloadStart = propsStart + out[rec + SCAN_PROPS_LENGTH];
    if (payloadStart === propsStart) {
      properties = {};
    } else {
      properties = decodePropertyBlock(scratch.reset(buf, propsStart, end, 'PUBLISH'), PacketType.PUBLISH, payloadStart);
      scratch.release();
    }
  } else {
    properties = {};
    payloadStart = qos > 0 ? topicEnd + 2 : topicEnd;
  }
  checkTopic(topic, properties, version);
  return {
    type: PacketType.PUBLISH,
    topic,
    payload: buf.subarray(payloadStart, end),
    qos,
    retain: (flags & 0x01) !== 0,
    dup: (flags & 0x08) !== 0,
    packetId,
    properties,
  };
}

/**
 * decodePacket: one complete packet's bytes in, one plain-data packet out. Checks the fixed
 * header (reserved flags [MQTT-2.1.3-1], remaining length against the bytes given) and
 * dispatches on the packet type.
 */

import { MalformedPacketError } from '../../../errors.js';
import { PACKET_NAMES, PacketType } from './constants.js';
import type { Packet, ProtocolVersion } from './packets.js';
import { decodeAck, decodeAuth, decodeDisconnect } from './decode-ack.js';
import { decodeConnack, decodeConnect } from './decode-connect.js';
import { decodePublish } from './decode-publish.js';
import { decodeSuback, decodeSubscribe, decodeUnsuback, decodeUnsubscribe } from './decode-subscribe.js';
import { PacketReader } from './reader.js';

/** Flag nibble each type requires (PUBLISH, index 3, is checked by its decoder). */
const REQUIRED_FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];
/**
 * MQTT 3.1 (level 3) sets DUP on a retried PUBREL, SUBSCRIBE or UNSUBSCRIBE, the packets it
 * sends at QoS 1 (3.1 section 2.1); 3.1.1 made the bit reserved [MQTT-2.2.2-1].
 */
const DUP = 0x08;
/**
 * The reader of every packet decodePacket decodes: decoding is synchronous and no decoded packet
 * keeps its reader (fields are values, copies or views of the buffer), so a PUBACK costs no
 * reader object. It lets go of the buffer after each packet.
 */
const reader = new PacketReader(Buffer.alloc(0), 0, 0, '');

/**
 * Decodes the packet in buf[start, end) whose first byte holds `type` and `flags`. `version`
 * is the connection's negotiated version (ignored for CONNECT, which carries its own).
 */
export function decodePacket(type: number, flags: number, buf: Buffer, start: number, end: number, version: ProtocolVersion): Packet {
  if (type < 1 || type > 15) throw new MalformedPacketError(`packet type ${type} is reserved`);
  const name = PACKET_NAMES[type];
  const required = REQUIRED_FLAGS[type];
  if (required >= 0 && flags !== required && !(version === 3 && required === 2 && flags === (required | DUP))) {
    throw new MalformedPacketError(`${name}: reserved flag bits are 0b${flags.toString(2).padStart(4, '0')}, must be 0b${required.toString(2).padStart(4, '0')}`);
  }
  const r = reader.reset(buf, start + 1, end, name);
  try {
    return decodeBody(r, type, flags, end, version);
  } finally {
    reader.release();
  }
}

function decodeBody(r: PacketReader, type: number, flags: number, end: number, version: ProtocolVersion): Packet {
  const remaining = r.varint('remaining length');
  if (r.pos + remaining !== end) {
    throw new MalformedPacketError(`${r.packet}: remaining length ${remaining} does not match the ${end - r.pos} bytes given`);
  }
  switch (type) {
    case PacketType.CONNECT:
      return decodeConnect(r);
    case PacketType.CONNACK:
      return decodeConnack(r, version);
    case PacketType.PUBLISH:
      return decodePublish(r, flags, version);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return decodeAck(r, type, version);
    case PacketType.SUBSCRIBE:
      return decodeSubscribe(r, version);
    case PacketType.SUBACK:
      return decodeSuback(r, version);
    case PacketType.UNSUBSCRIBE:
      return decodeUnsubscribe(r, version);
    case PacketType.UNSUBACK:
      return decodeUnsuback(r, version);
    case PacketType.PINGREQ:
      r.expectEnd('the fixed header'); // [MQTT-3.12]
      return { type: PacketType.PINGREQ };
    case PacketType.PINGRESP:
      r.expectEnd('the fixed header'); // [MQTT-3.13]
      return { type: PacketType.PINGRESP };
    case PacketType.DISCONNECT:
      return decodeDisconnect(r, version);
    default:
      // AUTH: packet type 15 is reserved before 5.0.
      if (version !== 5) throw new MalformedPacketError('AUTH: packet type 15 is reserved before MQTT 5');
      return decodeAuth(r);
  }
}

/** Decodes the single packet filling buf[start, end), reading type and flags from its first byte. */
export function decodeFrame(buf: Buffer, version: ProtocolVersion, start = 0, end = buf.length): Packet {
  if (end <= start) throw new MalformedPacketError('packet is empty');
  return decodePacket(buf[start] >>> 4, buf[start] & 0x0f, buf, start, end, version);
}

/**
 * PUBACK/PUBREC/PUBREL/PUBCOMP, DISCONNECT and AUTH decoding [MQTT-3.4] - [MQTT-3.7],
 * [MQTT-3.14], [MQTT-3.15]. In 5.0 these may end early: a missing reason code means 0x00
 * Success and missing properties mean none.
 */

import { ProtocolError } from '../../../errors.js';
import { PacketType } from './constants.js';
import type { AckPacket, AckType, AuthPacket, DisconnectPacket, ProtocolVersion, ReasonProperties } from './packets.js';
import { decodeProperties } from './properties.js';
import type { PacketReader } from './reader.js';

const PUBACK_REASONS = new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);
const PUBREL_REASONS = new Set([0x00, 0x92]);
const DISCONNECT_REASONS = new Set([
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
]);
const AUTH_REASONS = new Set([0x00, 0x18, 0x19]);
/** The properties of an ack that has none (every 3.1.1 ack, most 5.0 ones): shared, frozen. */
const NO_PROPERTIES: Readonly<ReasonProperties> = Object.freeze({});

function reason(r: PacketReader, allowed: Set<number>): number {
  const code = r.u8('reason code');
  if (!allowed.has(code)) throw new ProtocolError(`${r.packet}: reason code 0x${code.toString(16)} is not allowed`);
  return code;
}

/** Decodes PUBACK, PUBREC, PUBREL or PUBCOMP. */
export function decodeAck(r: PacketReader, type: AckType, version: ProtocolVersion): AckPacket {
  const packetId = r.u16('packet identifier');
  if (packetId === 0) throw new ProtocolError(`${r.packet}: packet identifier is 0`); // [MQTT-2.2.1-3]
  let reasonCode = 0;
  let properties: Readonly<ReasonProperties> = NO_PROPERTIES;
  if (version === 5) {
    if (r.pos < r.end) {
      reasonCode = reason(r, type === PacketType.PUBACK || type === PacketType.PUBREC ? PUBACK_REASONS : PUBREL_REASONS);
      // [MQTT-3.4.2.2.1] property length may be omitted when the remaining length is 3.
      if (r.pos < r.end) properties = decodeProperties(r, type);
    }
  }
  r.expectEnd(version === 5 ? 'the properties' : 'the packet identifier');
  return { type, packetId, reasonCode, properties };
}

/** Decodes a DISCONNECT; 3.1/3.1.1 have no variable header at all. */
export function decodeDisconnect(r: PacketReader, version: ProtocolVersion): DisconnectPacket {
  let reasonCode = 0;
  let properties = {};
  if (version === 5 && r.pos < r.end) {
    reasonCode = reason(r, DISCONNECT_REASONS);
    if (r.pos < r.end) properties = decodeProperties(r, PacketType.DISCONNECT); // [MQTT-3.14.2.2.1]
  }
  r.expectEnd(version === 5 ? 'the properties' : 'the fixed header');
  return { type: PacketType.DISCONNECT, reasonCode, properties };
}

/** Decodes an AUTH (5.0 only; the caller rejects it for earlier versions). */
export function decodeAuth(src: PacketReader): AuthPacket {
  // Authentication data outlives the read buffer (the exchange spans packets), so copy.
  const r = src.detach('AUTH');
  let reasonCode = 0;
  let properties = {};
  if (r.pos < r.end) {
    reasonCode = reason(r, AUTH_REASONS);
    if (r.pos < r.end) properties = decodeProperties(r, PacketType.AUTH);
  }
  r.expectEnd('the properties');
  return { type: PacketType.AUTH, reasonCode, properties };
}

/**
 * SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK decoding [MQTT-3.8] - [MQTT-3.11]. Topic filter
 * syntax (wildcard placement, shared-subscription form) is not checked here: 5.0 answers an
 * invalid filter with SUBACK 0x8F rather than a disconnect, so it is the handler's decision.
 */

import { MalformedPacketError, ProtocolError } from '../../../errors.js';
import { PacketType } from './constants.js';
import type { ProtocolVersion, QoS, ReasonProperties, SubackPacket, SubscribePacket, Subscription, UnsubackPacket, UnsubscribePacket } from './packets.js';
import { decodeProperties } from './properties.js';
import type { PacketReader } from './reader.js';

const SUBACK_REASONS = new Set([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]);
const SUBACK_RETURN_CODES_V3 = new Set([0x00, 0x01, 0x02, 0x80]);
const UNSUBACK_REASONS = new Set([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]);

function packetId(r: PacketReader): number {
  const id = r.u16('packet identifier');
  if (id === 0) throw new ProtocolError(`${r.packet}: packet identifier is 0`); // [MQTT-2.2.1-3]
  return id;
}

/** Decodes a SUBSCRIBE (fixed header flags already checked). */
export function decodeSubscribe(r: PacketReader, version: ProtocolVersion): SubscribePacket {
  const id = packetId(r);
  const properties = version === 5 ? decodeProperties(r, PacketType.SUBSCRIBE) : {};
  const subscriptions: Subscription[] = [];
  while (r.pos < r.end) {
    const i = subscriptions.length;
    const filter = r.utf8('topic filter', i);
    const options = r.u8('subscription options', i);
    const qos = options & 0x03;
    let noLocal = false;
    let retainAsPublished = false;
    let retainHandling = 0;
    if (version === 5) {
      if ((options & 0xc0) !== 0) {
        throw new MalformedPacketError(`SUBSCRIBE: subscription options ${i + 1} has reserved bits set`); // [MQTT-3.8.3-5]
      }
      if (qos === 3) throw new ProtocolError(`SUBSCRIBE: subscription options ${i + 1} has QoS 3`); // [MQTT-3.8.3.1]
      noLocal = (options & 0x04) !== 0;
      retainAsPublished = (options & 0x08) !== 0;
      retainHandling = (options >> 4) & 0x03;
      if (retainHandling === 3) {
        throw new ProtocolError(`SUBSCRIBE: subscription options ${i + 1} has retain handling 3`); // [MQTT-3.8.3.1]
      }
      if (noLocal && filter.startsWith('$share/')) {
        throw new ProtocolError(`SUBSCRIBE: topic filter ${i + 1} is a shared subscription with No Local set`); // [MQTT-3.8.3-4]
      }
    } else {
      // 3.1.1 [MQTT-3-8.3-4]: the upper six bits are reserved, QoS 3 is malformed.
      if ((options & 0xfc) !== 0) {
        throw new MalformedPacketError(`SUBSCRIBE: requested QoS byte ${i + 1} has reserved bits set`);
      }
      if (qos === 3) throw new MalformedPacketError(`SUBSCRIBE: requested QoS ${i + 1} is 3`);
    }
    subscriptions.push({ filter, qos: qos as QoS, noLocal, retainAsPublished, retainHandling: retainHandling as 0 | 1 | 2 });
  }
  if (subscriptions.length === 0) throw new ProtocolError('SUBSCRIBE: no topic filters'); // [MQTT-3.8.3-2]
  return { type: PacketType.SUBSCRIBE, packetId: id, subscriptions, properties };
}

/** Decodes an UNSUBSCRIBE (fixed header flags already checked). */
export function decodeUnsubscribe(r: PacketReader, version: ProtocolVersion): UnsubscribePacket {
  const id = packetId(r);
  const properties = version === 5 ? decodeProperties(r, PacketType.UNSUBSCRIBE) : {};
  const filters: string[] = [];
  while (r.pos < r.end) filters.push(r.utf8('topic filter', filters.length));
  if (filters.length === 0) throw new ProtocolError('UNSUBSCRIBE: no topic filters'); // [MQTT-3.10.3-2]
  return { type: PacketType.UNSUBSCRIBE, packetId: id, filters, properties };
}

function reasonCodes(r: PacketReader, allowed: Set<number>): number[] {
  const codes: number[] = [];
  while (r.pos < r.end) {
    const code = r.u8('reason code', codes.length);
    if (!allowed.has(code)) {
      throw new ProtocolError(`${r.packet}: reason code ${codes.length + 1} (0x${code.toString(16)}) is not allowed`);
    }
    codes.push(code);
  }
  if (codes.length === 0) throw new ProtocolError(`${r.packet}: no reason codes`);
  return codes;
}

/** Decodes a SUBACK. */
export function decodeSuback(r: PacketReader, version: ProtocolVersion): SubackPacket {
  const id = packetId(r);
  const properties: ReasonProperties = version === 5 ? decodeProperties(r, PacketType.SUBACK) : {};
  const codes = reasonCodes(r, version === 5 ? SUBACK_REASONS : SUBACK_RETURN_CODES_V3);
  return { type: PacketType.SUBACK, packetId: id, reasonCodes: codes, properties };
}

/** Decodes an UNSUBACK; 3.1/3.1.1 carry only the packet id. */
export function decodeUnsuback(r: PacketReader, version: ProtocolVersion): UnsubackPacket {
  const id = packetId(r);
  if (version !== 5) {
    r.expectEnd('the packet identifier');
    return { type: PacketType.UNSUBACK, packetId: id, reasonCodes: [], properties: {} };
  }
  const properties: ReasonProperties = decodeProperties(r, PacketType.UNSUBACK);
  const codes = reasonCodes(r, UNSUBACK_REASONS);
  return { type: PacketType.UNSUBACK, packetId: id, reasonCodes: codes, properties };
}

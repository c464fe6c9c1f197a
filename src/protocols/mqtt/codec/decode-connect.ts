/**
 * CONNECT and CONNACK decoding [MQTT-3.1], [MQTT-3.2]. CONNECT carries its own protocol
 * version, so it ignores the connection's; both read their binary fields as copies (detach)
 * because the will, password and authentication data outlive the read buffer.
 */

import { MalformedPacketError, ProtocolError } from '../../../errors.js';
import { PacketType, connackReasonFromV3 } from './constants.js';
import type { ConnackPacket, ConnectPacket, ProtocolVersion, QoS, WillFields } from './packets.js';
import { TopicNameInvalidError, UnsupportedProtocolVersionError } from './errors.js';
import { WILL_CONTEXT, decodeProperties } from './properties.js';
import type { PacketReader } from './reader.js';
import { STR_WILDCARD } from './utf8.js';

const CONNACK_REASONS = new Set([0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f]);

/** True (and past it) when the reader is at the protocol name 'MQTT' (3.1.1 and 5.0): no string per CONNECT. */
function isMqttName(r: PacketReader): boolean {
  const b = r.buf;
  const p = r.pos;
  if (r.end - p < 6 || b[p] !== 0 || b[p + 1] !== 4 || b[p + 2] !== 0x4d || b[p + 3] !== 0x51 || b[p + 4] !== 0x54 || b[p + 5] !== 0x54) return false;
  r.pos = p + 6;
  return true;
}

/** Decodes a CONNECT variable header and payload; its binary fields are copies (they outlive the read buffer). */
export function decodeConnect(src: PacketReader): ConnectPacket {
  const r = src.detach('CONNECT');

  const protocolName = isMqttName(r) ? 'MQTT' : r.utf8('protocol name');
  const level = r.u8('protocol level');
  let version: ProtocolVersion;
  if (protocolName === 'MQTT') {
    if (level !== 4 && level !== 5) throw new UnsupportedProtocolVersionError(protocolName, level); // [MQTT-3.1.2-2]
    version = level;
  } else if (protocolName === 'MQIsdp') {
    if (level !== 3) throw new UnsupportedProtocolVersionError(protocolName, level);
    version = 3;
  } else {
    // [MQTT-3.1.2-1] another protocol: this specification no longer applies.
    throw new ProtocolError(`CONNECT: protocol name '${protocolName}' is not MQTT or MQIsdp`);
  }

  const flags = r.u8('connect flags');
  if ((flags & 0x01) !== 0) throw new MalformedPacketError('CONNECT: reserved flag bit 0 is set'); // [MQTT-3.1.2-3]
  const cleanStart = (flags & 0x02) !== 0;
  const willFlag = (flags & 0x04) !== 0;
  const willQoS = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  const passwordFlag = (flags & 0x40) !== 0;
  const usernameFlag = (flags & 0x80) !== 0;
  if (!willFlag) {
    if (willQoS !== 0) throw new ProtocolError(`CONNECT: will QoS is ${willQoS} but the will flag is 0`); // [MQTT-3.1.2-11]
    if (willRetain) throw new ProtocolError('CONNECT: will retain is set but the will flag is 0'); // [MQTT-3.1.2-13]
  } else if (willQoS === 3) {
    throw new MalformedPacketError('CONNECT: will QoS is 3'); // [MQTT-3.1.2-12]
  }
  if (version !== 5 && passwordFlag && !usernameFlag) {
    // [MQTT-3.1.2-22] (3.1.1 only; 5.0 allows a password without a user name)
    throw new ProtocolError('CONNECT: password flag is set without the user name flag');
  }
  const keepAlive = r.u16('keep alive');

  const properties = version === 5 ? decodeProperties(r, PacketType.CONNECT) : {};
  if (properties.authenticationData !== undefined && properties.authenticationMethod === undefined) {
    throw new ProtocolError('CONNECT: Authentication Data without Authentication Method'); // [MQTT-3.1.2.11.10]
  }

  const clientId = r.utf8('client identifier'); // [MQTT-3.1.3-3]
  let will: WillFields | null = null;
  if (willFlag) {
    const willProps = version === 5 ? decodeProperties(r, WILL_CONTEXT) : {};
    const topic = r.utf8('will topic'); // [MQTT-3.1.3-11]
    if (topic.length === 0) throw new TopicNameInvalidError('CONNECT: will topic is empty'); // [MQTT-4.7.3-1]
    if ((r.lastStringBits & STR_WILDCARD) !== 0) {
      throw new TopicNameInvalidError(`CONNECT: will topic '${topic}' contains a wildcard`); // [MQTT-3.3.2-2]
    }
    const payload = r.binary('will payload');
    will = { topic, payload, qos: willQoS as QoS, retain: willRetain, properties: willProps };
  }
  const username = usernameFlag ? r.utf8('user name') : null; // [MQTT-3.1.3-12]
  const password = passwordFlag ? r.binary('password') : null;
  r.expectEnd('the CONNECT payload');

  return {
    type: PacketType.CONNECT,
    protocolName,
    protocolVersion: version,
    cleanStart,
    keepAlive,
    clientId,
    will,
    username,
    password,
    properties,
  };
}

/** Decodes a CONNACK; reasonCode is given in MQTT 5 terms for every version. */
export function decodeConnack(src: PacketReader, version: ProtocolVersion): ConnackPacket {
  const r = src.detach('CONNACK');
  const ackFlags = r.u8('acknowledge flags');
  // [MQTT-3.2.2-1] bits 7-1 reserved; 3.1 reserves the whole byte.
  if ((ackFlags & (version === 3 ? 0xff : 0xfe)) !== 0) {
    throw new MalformedPacketError(`CONNACK: reserved acknowledge flag bits are set (0x${ackFlags.toString(16)})`);
  }
  const code = r.u8('reason code');
  let reasonCode: number;
  let properties = {};
  if (version === 5) {
    if (!CONNACK_REASONS.has(code)) throw new ProtocolError(`CONNACK: reason code 0x${code.toString(16)} is not a CONNACK reason`);
    reasonCode = code;
    properties = decodeProperties(r, PacketType.CONNACK);
  } else {
    if (code > 5) throw new ProtocolError(`CONNACK: return code ${code} is reserved`);
    reasonCode = connackReasonFromV3(code);
  }
  r.expectEnd('the CONNACK properties');
  const sessionPresent = (ackFlags & 0x01) !== 0;
  if (sessionPresent && reasonCode !== 0) {
    throw new ProtocolError('CONNACK: session present is set with a non-zero reason code'); // [MQTT-3.2.2-6]
  }
  return { type: PacketType.CONNACK, sessionPresent, reasonCode, properties };
}

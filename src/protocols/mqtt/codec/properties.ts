/**
 * MQTT 5 properties [MQTT-2.2.2]: decoding with per-packet admission, duplicate and range
 * checks (encoding is in properties-encode.ts). One superset shape (AllProperties) carries every property;
 * the admission table guarantees a decoded object holds only the fields of its packet type.
 */

import { MalformedPacketError, ProtocolError, TopicAliasInvalidError } from '../../../errors.js';
import type { UserProperty } from './packets.js';
import type { PacketReader } from './reader.js';
import { STR_WILDCARD } from './utf8.js';

/** Every MQTT 5 property; each packet's properties interface is a subset of it. */
export interface AllProperties {
  payloadFormatIndicator?: 0 | 1;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifier?: number;
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: 0 | 1;
  willDelayInterval?: number;
  requestResponseInformation?: 0 | 1;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: 0 | 1;
  retainAvailable?: 0 | 1;
  userProperties?: UserProperty[];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: 0 | 1;
  subscriptionIdentifierAvailable?: 0 | 1;
  sharedSubscriptionAvailable?: 0 | 1;
}

/** Property context for the Will Properties of CONNECT (packet type 0 is reserved, so free). */
export const WILL_CONTEXT = 0;

const W = 1 << WILL_CONTEXT;
const CONNECT = 1 << 1;
const CONNACK = 1 << 2;
const PUBLISH = 1 << 3;
const ACKS = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
const SUBSCRIBE = 1 << 8;
const SUBACK = 1 << 9;
const UNSUBSCRIBE = 1 << 10;
const UNSUBACK = 1 << 11;
const DISCONNECT = 1 << 14;
const AUTH = 1 << 15;

/** Which contexts admit each property id (section 2.2.2.2 table). */
const ALLOWED = new Uint16Array(0x2b);
ALLOWED[0x01] = PUBLISH | W;
ALLOWED[0x02] = PUBLISH | W;
ALLOWED[0x03] = PUBLISH | W;
ALLOWED[0x08] = PUBLISH | W;
ALLOWED[0x09] = PUBLISH | W;
ALLOWED[0x0b] = PUBLISH | SUBSCRIBE;
ALLOWED[0x11] = CONNECT | CONNACK | DISCONNECT;
ALLOWED[0x12] = CONNACK;
ALLOWED[0x13] = CONNACK;
ALLOWED[0x15] = CONNECT | CONNACK | AUTH;
ALLOWED[0x16] = CONNECT | CONNACK | AUTH;
ALLOWED[0x17] = CONNECT;
ALLOWED[0x18] = W;
ALLOWED[0x19] = CONNECT;
ALLOWED[0x1a] = CONNACK;
ALLOWED[0x1c] = CONNACK | DISCONNECT;
ALLOWED[0x1f] = CONNACK | ACKS | SUBACK | UNSUBACK | DISCONNECT | AUTH;
ALLOWED[0x21] = CONNECT | CONNACK;
ALLOWED[0x22] = CONNECT | CONNACK;
ALLOWED[0x23] = PUBLISH;
ALLOWED[0x24] = CONNACK;
ALLOWED[0x25] = CONNACK;
ALLOWED[0x26] = W | CONNECT | CONNACK | PUBLISH | ACKS | SUBSCRIBE | SUBACK | UNSUBSCRIBE | UNSUBACK | DISCONNECT | AUTH;
ALLOWED[0x27] = CONNECT | CONNACK;
ALLOWED[0x28] = CONNACK;
ALLOWED[0x29] = CONNACK;
ALLOWED[0x2a] = CONNACK;

const NAMES: Record<number, string> = {
  0x01: 'Payload Format Indicator',
  0x02: 'Message Expiry Interval',
  0x03: 'Content Type',
  0x08: 'Response Topic',
  0x09: 'Correlation Data',
  0x0b: 'Subscription Identifier',
  0x11: 'Session Expiry Interval',
  0x12: 'Assigned Client Identifier',
  0x13: 'Server Keep Alive',
  0x15: 'Authentication Method',
  0x16: 'Authentication Data',
  0x17: 'Request Problem Information',
  0x18: 'Will Delay Interval',
  0x19: 'Request Response Information',
  0x1a: 'Response Information',
  0x1c: 'Server Reference',
  0x1f: 'Reason String',
  0x21: 'Receive Maximum',
  0x22: 'Topic Alias Maximum',
  0x23: 'Topic Alias',
  0x24: 'Maximum QoS',
  0x25: 'Retain Available',
  0x26: 'User Property',
  0x27: 'Maximum Packet Size',
  0x28: 'Wildcard Subscription Available',
  0x29: 'Subscription Identifier Available',
  0x2a: 'Shared Subscription Available',
};

function label(id: number): string {
  return `property ${NAMES[id]} (0x${id.toString(16).padStart(2, '0')})`;
}

function where(r: PacketReader, context: number): string {
  return context === WILL_CONTEXT ? `${r.packet} will` : r.packet;
}

function duplicate(r: PacketReader, context: number, id: number): never {
  // [MQTT-2.2.2-2]: only User Property (and Subscription Identifier in PUBLISH) may repeat.
  throw new ProtocolError(`${where(r, context)}: ${label(id)} appears more than once`);
}

function flag(r: PacketReader, context: number, id: number): 0 | 1 {
  const v = r.u8(NAMES[id]);
  if (v > 1) throw new ProtocolError(`${where(r, context)}: ${label(id)} is ${v}, only 0 or 1 are allowed`);
  return v as 0 | 1;
}

/**
 * Reads a property block (length varint, then properties) for packet type `context` (or
 * WILL_CONTEXT) and returns the properties present; an absent block (5.0 acks that stop
 * early) is the caller's concern.
 */
export function decodeProperties(r: PacketReader, context: number): AllProperties {
  const len = r.varint('property length');
  const blockEnd = r.pos + len;
  if (blockEnd > r.end) r.malformed('property length', -1, `(${len}) runs past the end of the packet`);
  return decodePropertyBlock(r, context, blockEnd);
}

/** Reads the properties in [r.pos, blockEnd) (the length varint already consumed). */
export function decodePropertyBlock(r: PacketReader, context: number, blockEnd: number): AllProperties {
  const props: AllProperties = {};
  if (blockEnd === r.pos) return props;
  const outerEnd = r.end;
  r.end = blockEnd;
  const mask = 1 << context;
  while (r.pos < blockEnd) {
    const id = r.varint('property identifier');
    if (id >= ALLOWED.length || ALLOWED[id] === 0) {
      throw new MalformedPacketError(`${where(r, context)}: unknown property identifier 0x${id.toString(16)}`);
    }
    if ((ALLOWED[id] & mask) === 0) {
      // An identifier not valid for its packet type makes the packet malformed (section 2.2.2.2).
      throw new MalformedPacketError(`${where(r, context)}: ${label(id)} is not allowed in this packet`);
    }
    switch (id) {
      case 0x01:
        if (props.payloadFormatIndicator !== undefined) duplicate(r, context, id);
        props.payloadFormatIndicator = flag(r, context, id);
        break;
      case 0x02:
        if (props.messageExpiryInterval !== undefined) duplicate(r, context, id);
        props.messageExpiryInterval = r.u32(NAMES[id]);
        break;
      case 0x03:
        if (props.contentType !== undefined) duplicate(r, context, id);
        props.contentType = r.utf8(NAMES[id]);
        break;
      case 0x08:
        if (props.responseTopic !== undefined) duplicate(r, context, id);
        props.responseTopic = r.utf8(NAMES[id]);
        if ((r.lastStringBits & STR_WILDCARD) !== 0) {
          // [MQTT-3.3.2-14] the Response Topic is a Topic Name, so no wildcards.
          throw new ProtocolError(`${where(r, context)}: ${label(id)} contains a wildcard`);
        }
        break;
      case 0x09:
        if (props.correlationData !== undefined) duplicate(r, context, id);
        props.correlationData = r.binary(NAMES[id]);
        break;
      case 0x0b: {
        const v = r.varint(NAMES[id]);
        if (v === 0) throw new ProtocolError(`${where(r, context)}: ${label(id)} is 0`); // [MQTT-3.8.2.1.2]
        if (context === 3) {
          if (props.subscriptionIdentifiers === undefined) props.subscriptionIdentifiers = [v];
          else props.subscriptionIdentifiers.push(v);
        } else {
          if (props.subscriptionIdentifier !== undefined) duplicate(r, context, id);
          props.subscriptionIdentifier = v;
        }
        break;
      }
      case 0x11:
        if (props.sessionExpiryInterval !== undefined) duplicate(r, context, id);
        props.sessionExpiryInterval = r.u32(NAMES[id]);
        break;
      case 0x12:
        if (props.assignedClientIdentifier !== undefined) duplicate(r, context, id);
        props.assignedClientIdentifier = r.utf8(NAMES[id]);
        break;
      case 0x13:
        if (props.serverKeepAlive !== undefined) duplicate(r, context, id);
        props.serverKeepAlive = r.u16(NAMES[id]);
        break;
      case 0x15:
        if (props.authenticationMethod !== undefined) duplicate(r, context, id);
        props.authenticationMethod = r.utf8(NAMES[id]);
        break;
      case 0x16:
        if (props.authenticationData !== undefined) duplicate(r, context, id);
        props.authenticationData = r.binary(NAMES[id]);
        break;
      case 0x17:
        if (props.requestProblemInformation !== undefined) duplicate(r, context, id);
        props.requestProblemInformation = flag(r, context, id);
        break;
      case 0x18:
        if (props.willDelayInterval !== undefined) duplicate(r, context, id);
        props.willDelayInterval = r.u32(NAMES[id]);
        break;
      case 0x19:
        if (props.requestResponseInformation !== undefined) duplicate(r, context, id);
        props.requestResponseInformation = flag(r, context, id);
        break;
      case 0x1a:
        if (props.responseInformation !== undefined) duplicate(r, context, id);
        props.responseInformation = r.utf8(NAMES[id]);
        break;
      case 0x1c:
        if (props.serverReference !== undefined) duplicate(r, context, id);
        props.serverReference = r.utf8(NAMES[id]);
        break;
      case 0x1f:
        if (props.reasonString !== undefined) duplicate(r, context, id);
        props.reasonString = r.utf8(NAMES[id]);
        break;
      case 0x21: {
        if (props.receiveMaximum !== undefined) duplicate(r, context, id);
        const v = r.u16(NAMES[id]);
        if (v === 0) throw new ProtocolError(`${where(r, context)}: ${label(id)} is 0`); // [MQTT-3.1.2.11.3]
        props.receiveMaximum = v;
        break;
      }
      case 0x22:
        if (props.topicAliasMaximum !== undefined) duplicate(r, context, id);
        props.topicAliasMaximum = r.u16(NAMES[id]);
        break;
      case 0x23: {
        if (props.topicAlias !== undefined) duplicate(r, context, id);
        const v = r.u16(NAMES[id]);
        // [MQTT-3.3.2-8] Topic Alias 0 is answered with 0x94 Topic Alias invalid.
        if (v === 0) throw new TopicAliasInvalidError(`${where(r, context)}: ${label(id)} is 0`);
        props.topicAlias = v;
        break;
      }
      case 0x24:
        if (props.maximumQoS !== undefined) duplicate(r, context, id);
        props.maximumQoS = flag(r, context, id);
        break;
      case 0x25:
        if (props.retainAvailable !== undefined) duplicate(r, context, id);
        props.retainAvailable = flag(r, context, id);
        break;
      case 0x26: {
        const n = props.userProperties === undefined ? 0 : props.userProperties.length;
        const key = r.utf8('user property key', n);
        const value = r.utf8('user property value', n);
        if (props.userProperties === undefined) props.userProperties = [{ key, value }];
        else props.userProperties.push({ key, value });
        break;
      }
      case 0x27: {
        if (props.maximumPacketSize !== undefined) duplicate(r, context, id);
        const v = r.u32(NAMES[id]);
        if (v === 0) throw new ProtocolError(`${where(r, context)}: ${label(id)} is 0`); // [MQTT-3.1.2.11.4]
        props.maximumPacketSize = v;
        break;
      }
      case 0x28:
        if (props.wildcardSubscriptionAvailable !== undefined) duplicate(r, context, id);
        props.wildcardSubscriptionAvailable = flag(r, context, id);
        break;
      case 0x29:
        if (props.subscriptionIdentifierAvailable !== undefined) duplicate(r, context, id);
        props.subscriptionIdentifierAvailable = flag(r, context, id);
        break;
      case 0x2a:
        if (props.sharedSubscriptionAvailable !== undefined) duplicate(r, context, id);
        props.sharedSubscriptionAvailable = flag(r, context, id);
        break;
    }
  }
  // A property whose value straddled the block end was caught by the reads above, since r.end
  // was the block end; restoring it resumes the packet.
  r.end = outerEnd;
  return props;
}

/** MQTT 5 property encoding: exact size first, then one pass of writes. */

import type { AllProperties } from './properties.js';
import { VARINT_MAX, varintSize, writeBinary, writeString, writeU16, writeU32, writeVarint } from './writer.js';

function strLen(s: string): number {
  const n = Buffer.byteLength(s);
  if (n > 65_535) throw new RangeError(`property string of ${n} bytes exceeds 65535`);
  return n;
}

/** Bytes of the properties themselves (without the length varint). */
export function propertiesSize(p: AllProperties): number {
  let n = 0;
  if (p.payloadFormatIndicator !== undefined) n += 2;
  if (p.messageExpiryInterval !== undefined) n += 5;
  if (p.contentType !== undefined) n += 3 + strLen(p.contentType);
  if (p.responseTopic !== undefined) n += 3 + strLen(p.responseTopic);
  if (p.correlationData !== undefined) n += 3 + p.correlationData.length;
  if (p.subscriptionIdentifier !== undefined) n += 1 + varintSize(p.subscriptionIdentifier);
  if (p.subscriptionIdentifiers !== undefined) {
    for (const id of p.subscriptionIdentifiers) n += 1 + varintSize(id);
  }
  if (p.sessionExpiryInterval !== undefined) n += 5;
  if (p.assignedClientIdentifier !== undefined) n += 3 + strLen(p.assignedClientIdentifier);
  if (p.serverKeepAlive !== undefined) n += 3;
  if (p.authenticationMethod !== undefined) n += 3 + strLen(p.authenticationMethod);
  if (p.authenticationData !== undefined) n += 3 + p.authenticationData.length;
  if (p.requestProblemInformation !== undefined) n += 2;
  if (p.willDelayInterval !== undefined) n += 5;
  if (p.requestResponseInformation !== undefined) n += 2;
  if (p.responseInformation !== undefined) n += 3 + strLen(p.responseInformation);
  if (p.serverReference !== undefined) n += 3 + strLen(p.serverReference);
  if (p.reasonString !== undefined) n += 3 + strLen(p.reasonString);
  if (p.receiveMaximum !== undefined) n += 3;
  if (p.topicAliasMaximum !== undefined) n += 3;
  if (p.topicAlias !== undefined) n += 3;
  if (p.maximumQoS !== undefined) n += 2;
  if (p.retainAvailable !== undefined) n += 2;
  if (p.userProperties !== undefined) {
    for (const u of p.userProperties) n += 5 + strLen(u.key) + strLen(u.value);
  }
  if (p.maximumPacketSize !== undefined) n += 5;
  if (p.wildcardSubscriptionAvailable !== undefined) n += 2;
  if (p.subscriptionIdentifierAvailable !== undefined) n += 2;
  if (p.sharedSubscriptionAvailable !== undefined) n += 2;
  return n;
}

function writeStr(buf: Buffer, pos: number, id: number, s: string): number {
  buf[pos] = id;
  return writeString(buf, pos + 1, s, Buffer.byteLength(s));
}

/** Writes the length varint and the properties (`size` from propertiesSize); returns the new position. */
export function writeProperties(buf: Buffer, pos: number, p: AllProperties, size: number): number {
  pos = writeVarint(buf, pos, size);
  if (size === 0) return pos;
  if (p.payloadFormatIndicator !== undefined) {
    buf[pos++] = 0x01;
    buf[pos++] = p.payloadFormatIndicator;
  }
  if (p.messageExpiryInterval !== undefined) {
    buf[pos++] = 0x02;
    pos = writeU32(buf, pos, p.messageExpiryInterval);
  }
  if (p.contentType !== undefined) pos = writeStr(buf, pos, 0x03, p.contentType);
  if (p.responseTopic !== undefined) pos = writeStr(buf, pos, 0x08, p.responseTopic);
  if (p.correlationData !== undefined) {
    buf[pos++] = 0x09;
    pos = writeBinary(buf, pos, p.correlationData);
  }
  if (p.subscriptionIdentifier !== undefined) {
    buf[pos++] = 0x0b;
    pos = writeVarint(buf, pos, p.subscriptionIdentifier);
  }
  if (p.subscriptionIdentifiers !== undefined) {
    for (const id of p.subscriptionIdentifiers) {
      if (id < 1 || id > VARINT_MAX) throw new RangeError(`subscription identifier ${id} is outside 1..${VARINT_MAX}`);
      buf[pos++] = 0x0b;
      pos = writeVarint(buf, pos, id);
    }
  }
  if (p.sessionExpiryInterval !== undefined) {
    buf[pos++] = 0x11;
    pos = writeU32(buf, pos, p.sessionExpiryInterval);
  }
  if (p.assignedClientIdentifier !== undefined) pos = writeStr(buf, pos, 0x12, p.assignedClientIdentifier);
  if (p.serverKeepAlive !== undefined) {
    buf[pos++] = 0x13;
    pos = writeU16(buf, pos, p.serverKeepAlive);
  }
  if (p.authenticationMethod !== undefined) pos = writeStr(buf, pos, 0x15, p.authenticationMethod);
  if (p.authenticationData !== undefined) {
    buf[pos++] = 0x16;
    pos = writeBinary(buf, pos, p.authenticationData);
  }
  if (p.requestProblemInformation !== undefined) {
    buf[pos++] = 0x17;
    buf[pos++] = p.requestProblemInformation;
  }
  if (p.willDelayInterval !== undefined) {
    buf[pos++] = 0x18;
    pos = writeU32(buf, pos, p.willDelayInterval);
  }
  if (p.requestResponseInformation !== undefined) {
    buf[pos++] = 0x19;
    buf[pos++] = p.requestResponseInformation;
  }
  if (p.responseInformation !== undefined) pos = writeStr(buf, pos, 0x1a, p.responseInformation);
  if (p.serverReference !== undefined) pos = writeStr(buf, pos, 0x1c, p.serverReference);
  if (p.reasonString !== undefined) pos = writeStr(buf, pos, 0x1f, p.reasonString);
  if (p.receiveMaximum !== undefined) {
    buf[pos++] = 0x21;
    pos = writeU16(buf, pos, p.receiveMaximum);
  }
  if (p.topicAliasMaximum !== undefined) {
    buf[pos++] = 0x22;
    pos = writeU16(buf, pos, p.topicAliasMaximum);
  }
  if (p.topicAlias !== undefined) {
    buf[pos++] = 0x23;
    pos = writeU16(buf, pos, p.topicAlias);
  }
  if (p.maximumQoS !== undefined) {
    buf[pos++] = 0x24;
    buf[pos++] = p.maximumQoS;
  }
  if (p.retainAvailable !== undefined) {
    buf[pos++] = 0x25;
    buf[pos++] = p.retainAvailable;
  }
  if (p.userProperties !== undefined) {
    for (const u of p.userProperties) {
      buf[pos++] = 0x26;
      pos = writeString(buf, pos, u.key, Buffer.byteLength(u.key));
      pos = writeString(buf, pos, u.value, Buffer.byteLength(u.value));
    }
  }
  if (p.maximumPacketSize !== undefined) {
    buf[pos++] = 0x27;
    pos = writeU32(buf, pos, p.maximumPacketSize);
  }
  if (p.wildcardSubscriptionAvailable !== undefined) {
    buf[pos++] = 0x28;
    buf[pos++] = p.wildcardSubscriptionAvailable;
  }
  if (p.subscriptionIdentifierAvailable !== undefined) {
    buf[pos++] = 0x29;
    buf[pos++] = p.subscriptionIdentifierAvailable;
  }
  if (p.sharedSubscriptionAvailable !== undefined) {
    buf[pos++] = 0x2a;
    buf[pos++] = p.sharedSubscriptionAvailable;
  }
  return pos;
}

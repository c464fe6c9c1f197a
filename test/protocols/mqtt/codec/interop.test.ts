/**
 * Cross-check against an independent codec, mqtt-packet 9 (shipped inside MQTT.js 5): packets
 * it generates must decode with ours to the same fields, and packets we encode must parse with
 * it to the same fields, for every packet type and version.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as mqttPacket from 'mqtt-packet';
import { decodeFrame } from '../../../../src/protocols/mqtt/codec/decode.js';
import { encodePacket } from '../../../../src/protocols/mqtt/codec/encode.js';
import { connackReasonFromV3, connackReturnCodeV3 } from '../../../../src/protocols/mqtt/codec/constants.js';
import type { Packet, ProtocolVersion, UserProperty } from '../../../../src/protocols/mqtt/codec/packets.js';
import { packetArbitraries } from './arbitraries.js';

type Obj = Record<string, unknown>;

const CMDS = ['', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'];
const BOOLEAN_PROPS = new Set([
  'payloadFormatIndicator',
  'requestResponseInformation',
  'requestProblemInformation',
  'retainAvailable',
  'wildcardSubscriptionAvailable',
  'subscriptionIdentifiersAvailable',
  'sharedSubscriptionAvailable',
]);

/** mqtt-packet groups user properties by key, so compare packets whose repeats are already grouped. */
function groupUserProps(list: UserProperty[]): UserProperty[] {
  const order: string[] = [];
  const byKey = new Map<string, string[]>();
  for (const { key, value } of list) {
    if (!byKey.has(key)) {
      byKey.set(key, []);
      order.push(key);
    }
    byKey.get(key)?.push(value);
  }
  // mqtt-packet's objects put integer-like keys first; sort the same way.
  const intLike = (k: string): boolean => /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;
  const keys = [...order.filter(intLike).sort((a, b) => Number(a) - Number(b)), ...order.filter((k) => !intLike(k))];
  return keys.flatMap((key) => (byKey.get(key) ?? []).map((value) => ({ key, value })));
}

/** Rewrites every userProperties list of a packet into grouped order (a deep copy). */
function normalise<T>(value: T): T {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(normalise) as T;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value as Obj)) {
    out[k] = k === 'userProperties' ? groupUserProps(v as UserProperty[]) : normalise(v);
  }
  return out as T;
}

function propsToMp(props: Obj | undefined): Obj | undefined {
  if (props === undefined || Object.keys(props).length === 0) return undefined;
  const out: Obj = {};
  for (const [k, v] of Object.entries(props)) {
    if (k === 'userProperties') {
      const o: Record<string, string | string[]> = {};
      for (const { key, value } of v as UserProperty[]) {
        const prev = o[key];
        o[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      out.userProperties = o;
    } else if (k === 'subscriptionIdentifierAvailable') out.subscriptionIdentifiersAvailable = v === 1;
    else if (k === 'subscriptionIdentifiers') out.subscriptionIdentifier = v;
    else if (BOOLEAN_PROPS.has(k)) out[k] = v === 1;
    else out[k] = v;
  }
  return out;
}

function propsFromMp(props: unknown, publish: boolean): Obj {
  const out: Obj = {};
  if (props === undefined || props === null) return out;
  for (const [k, v] of Object.entries(props as Obj)) {
    if (k === 'userProperties') {
      const list: UserProperty[] = [];
      for (const [key, value] of Object.entries(v as Obj)) {
        for (const one of Array.isArray(value) ? value : [value]) list.push({ key, value: String(one) });
      }
      out.userProperties = list;
    } else if (k === 'subscriptionIdentifiersAvailable') out.subscriptionIdentifierAvailable = v ? 1 : 0;
    else if (k === 'subscriptionIdentifier' && publish) out.subscriptionIdentifiers = Array.isArray(v) ? v : [v];
    else if (BOOLEAN_PROPS.has(k)) out[k] = v ? 1 : 0;
    else out[k] = v;
  }
  return out;
}

/** Our packet as the object mqtt-packet generates from and parses to. */
function toMp(p: Packet, version: ProtocolVersion): Obj {
  const cmd = CMDS[p.type];
  switch (p.type) {
    case 1: {
      const o: Obj = { cmd, protocolId: p.protocolName, protocolVersion: p.protocolVersion, clean: p.cleanStart, keepalive: p.keepAlive, clientId: p.clientId };
      if (p.username !== null) o.username = p.username;
      if (p.password !== null) o.password = p.password;
      if (p.will !== null) o.will = { topic: p.will.topic, payload: p.will.payload, qos: p.will.qos, retain: p.will.retain, properties: propsToMp(p.will.properties as Obj) };
      o.properties = propsToMp(p.properties as Obj);
      return o;
    }
    case 2:
      return version === 5
        ? { cmd, sessionPresent: p.sessionPresent, reasonCode: p.reasonCode, properties: propsToMp(p.properties as Obj) }
        : { cmd, sessionPresent: p.sessionPresent, returnCode: connackReturnCodeV3(p.reasonCode) };
    case 3:
      return { cmd, topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: p.dup, messageId: p.qos > 0 ? p.packetId : undefined, properties: propsToMp(p.properties as Obj) };
    case 4:
    case 5:
    case 6:
    case 7:
      return { cmd, messageId: p.packetId, reasonCode: p.reasonCode, properties: propsToMp(p.properties as Obj) };
    case 8:
      return {
        cmd,
        messageId: p.packetId,
        properties: propsToMp(p.properties as Obj),
        subscriptions: p.subscriptions.map((s) => (version === 5 ? { topic: s.filter, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling } : { topic: s.filter, qos: s.qos })),
      };
    case 9:
      return { cmd, messageId: p.packetId, granted: p.reasonCodes, properties: propsToMp(p.properties as Obj) };
    case 10:
      return { cmd, messageId: p.packetId, unsubscriptions: p.filters, properties: propsToMp(p.properties as Obj) };
    case 11:
      return version === 5 ? { cmd, messageId: p.packetId, granted: p.reasonCodes, properties: propsToMp(p.properties as Obj) } : { cmd, messageId: p.packetId };
    case 12:
    case 13:
      return { cmd };
    case 14:
    case 15:
      return { cmd, reasonCode: p.reasonCode, properties: propsToMp(p.properties as Obj) };
  }
}

/** What mqtt-packet parsed, in our packet shape. */
function fromMp(o: Obj, version: ProtocolVersion): Packet {
  const type = CMDS.indexOf(o.cmd as string);
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  switch (type) {
    case 1: {
      const will = o.will as Obj | undefined;
      return {
        type: 1,
        protocolName: o.protocolId as string,
        protocolVersion: o.protocolVersion as ProtocolVersion,
        cleanStart: o.clean as boolean,
        keepAlive: o.keepalive as number,
        clientId: o.clientId as string,
        will:
          will === undefined
            ? null
            : { topic: will.topic as string, payload: will.payload as Buffer, qos: will.qos as 0, retain: will.retain as boolean, properties: propsFromMp(will.properties, false) },
        username: (o.username as string | undefined) ?? null,
        password: (o.password as Buffer | undefined) ?? null,
        properties: propsFromMp(o.properties, false),
      };
    }
    case 2:
      return {
        type: 2,
        sessionPresent: o.sessionPresent as boolean,
        reasonCode: version === 5 ? num(o.reasonCode) : connackReasonFromV3(num(o.returnCode)),
        properties: propsFromMp(o.properties, false),
      };
    case 3:
      return {
        type: 3,
        topic: o.topic as string,
        payload: o.payload as Buffer,
        qos: o.qos as 0,
        retain: o.retain as boolean,
        dup: o.dup as boolean,
        packetId: num(o.messageId),
        properties: propsFromMp(o.properties, true),
      };
    case 4:
    case 5:
    case 6:
    case 7:
      return { type: type as 4, packetId: num(o.messageId), reasonCode: num(o.reasonCode), properties: propsFromMp(o.properties, false) };
    case 8:
      return {
        type: 8,
        packetId: num(o.messageId),
        properties: propsFromMp(o.properties, false),
        subscriptions: (o.subscriptions as Obj[]).map((s) => ({
          filter: s.topic as string,
          qos: s.qos as 0,
          noLocal: s.nl === true,
          retainAsPublished: s.rap === true,
          retainHandling: num(s.rh) as 0,
        })),
      };
    case 9:
      return { type: 9, packetId: num(o.messageId), reasonCodes: o.granted as number[], properties: propsFromMp(o.properties, false) };
    case 10:
      return { type: 10, packetId: num(o.messageId), filters: o.unsubscriptions as string[], properties: propsFromMp(o.properties, false) };
    case 11:
      return { type: 11, packetId: num(o.messageId), reasonCodes: version === 5 ? (o.granted as number[]) : [], properties: propsFromMp(o.properties, false) };
    case 12:
      return { type: 12 };
    case 13:
      return { type: 13 };
    case 14:
      return { type: 14, reasonCode: num(o.reasonCode), properties: propsFromMp(o.properties, false) };
    default:
      return { type: 15, reasonCode: num(o.reasonCode), properties: propsFromMp(o.properties, false) };
  }
}

function mpParse(bytes: Buffer, version: ProtocolVersion): Obj[] {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: Obj[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p: unknown) => packets.push(p as Obj));
  parser.on('error', (e: Error) => errors.push(e));
  parser.parse(bytes);
  if (errors.length > 0) throw errors[0];
  return packets;
}

/** True when a user property list repeats a key whose earlier value is ''. */
function repeatsEmptyUserValue(value: unknown): boolean {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return false;
  for (const [k, v] of Object.entries(value as Obj)) {
    if (k === 'userProperties') {
      const seenEmpty = new Set<string>();
      for (const u of v as UserProperty[]) {
        if (seenEmpty.has(u.key)) return true;
        if (u.value === '') seenEmpty.add(u.key);
      }
    } else if (repeatsEmptyUserValue(v)) return true;
  }
  return false;
}

/**
 * Packets mqtt-packet 9.0.2 cannot express, left out of the cross-check only (the round-trip
 * suite covers them): it refuses a password without a user name even in 5.0, refuses an empty
 * client id without clean session, and its parser drops a repeated user property key whose
 * first value is '' (a truthiness test in parser.js _parseProperties).
 */
function mqttPacketCanExpress(p: Packet, version: ProtocolVersion): boolean {
  if (p.type === 1) {
    if (p.clientId === '' && (!p.cleanStart || version === 3)) return false;
    if (p.password !== null && p.username === null) return false;
  }
  return !repeatsEmptyUserValue(p);
}

for (const version of [3, 4, 5] as const) {
  for (const [name, arb] of Object.entries(packetArbitraries(version))) {
    test(`interop v${version} ${name}: mqtt-packet generate -> our decode`, () => {
      fc.assert(
        fc.property(
          arb.map(normalise).filter((p) => mqttPacketCanExpress(p, version)),
          (p) => {
            const bytes = mqttPacket.generate(toMp(p, version) as unknown as mqttPacket.Packet, { protocolVersion: version });
            assert.deepStrictEqual(decodeFrame(bytes, version), p);
          },
        ),
        { numRuns: 100 },
      );
    });

    test(`interop v${version} ${name}: our encode -> mqtt-packet parse`, () => {
      fc.assert(
        fc.property(
          arb.map(normalise).filter((p) => mqttPacketCanExpress(p, version)),
          (p) => {
            const parsed = mpParse(encodePacket(version, p), version);
            assert.equal(parsed.length, 1);
            assert.deepStrictEqual(fromMp(parsed[0], version), p);
          },
        ),
        { numRuns: 100 },
      );
    });
  }
}

// The random packets above reach this one rarely; MQTT.js drops the connection on the short form.
test('interop v5 AUTH Success without properties: MQTT.js reads what we send', () => {
  const p: Packet = { type: 15, reasonCode: 0, properties: {} };
  const parsed = mpParse(encodePacket(5, p), 5);
  assert.equal(parsed.length, 1);
  assert.deepStrictEqual(fromMp(parsed[0], 5), p);
});

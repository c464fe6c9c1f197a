/**
 * Fuzz target for the MQTT codec. Input: byte 0 picks the protocol version (3.1, 3.1.1, 5.0 by
 * value mod 3), the rest is a client byte stream. Each input is scanned the way a connection
 * scans a chunk (small result array, so capacity stops are hit), and checked for:
 * - native scanner (when the addon loads) == TypeScript scanner, slot by slot;
 * - each frame decodes or is refused with a JunctionError, nothing else;
 * - a PUBLISH decodes identically through decodePublishFromScan (hot path) and decodePacket;
 * - a decoded packet re-encodes and decodes back to the same packet.
 */
import { isDeepStrictEqual } from 'node:util';
import { JunctionError } from '../../../src/errors.js';
import { loadNative, type NativeBinding } from '../../../src/native/binding.js';
import { decodeFrame, decodePacket, decodePublishFromScan, encodePacket, scanFrames } from '../../../src/protocols/mqtt/codec/index.js';
import { SCAN_HEADER, SCAN_STRIDE } from '../../../src/protocols/mqtt/codec/scanner.js';
import { PACKET_NAMES, PacketType } from '../../../src/protocols/mqtt/codec/constants.js';
import type { Packet, ProtocolVersion } from '../../../src/protocols/mqtt/codec/packets.js';
import { FuzzDivergence, type FuzzTarget } from '../target.js';

const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];
/** Eight records per scan call: pipelined inputs cross the capacity stop the connection handles. */
const RECORDS = 8;
const outTs = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * RECORDS);
const outNative = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * RECORDS);
const SLOT_NAMES = ['count', 'consumed', 'error', 'detail'];
const RECORD_NAMES = ['type', 'flags', 'offset', 'length', 'varHeader', 'topicOffset', 'topicLength', 'packetId', 'propsOffset', 'propsLength'];
/** Small enough that oversized declared lengths are common, as on a connection. */
const MAX_PACKET_SIZE = 2048;

let native: NativeBinding | null | undefined;

function nativeBinding(): NativeBinding | null {
  if (native === undefined) {
    try {
      native = process.env['JUNCTION_FUZZ_NATIVE'] === 'off' ? null : loadNative('auto');
    } catch {
      native = null;
    }
  }
  return native;
}

function slotName(i: number): string {
  if (i < SCAN_HEADER) return SLOT_NAMES[i]!;
  const r = i - SCAN_HEADER;
  return `record ${Math.floor(r / SCAN_STRIDE)}.${RECORD_NAMES[r % SCAN_STRIDE]}`;
}

function compareScans(start: number, end: number, v5: boolean): void {
  const used = SCAN_HEADER + SCAN_STRIDE * Math.min(RECORDS, outTs[0]!);
  for (let i = 0; i < used; i++) {
    if (outTs[i] !== outNative[i]) {
      throw new FuzzDivergence(`scanFrames [${start}, ${end}) v5=${v5}: ${slotName(i)} is ${outTs[i]} in TypeScript, ${outNative[i]} native`);
    }
  }
}

/** Decodes or returns the typed error; anything else propagates as a crash. */
function attempt(fn: () => Packet): Packet | JunctionError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof JunctionError) return err;
    throw err;
  }
}

function describe(r: Packet | JunctionError): string {
  return r instanceof JunctionError ? `${r.name} (${r.message})` : `a ${PACKET_NAMES[r.type] ?? r.type} packet`;
}

function checkFrame(buf: Buffer, out: Uint32Array, index: number, version: ProtocolVersion): string {
  const at = SCAN_HEADER + index * SCAN_STRIDE;
  const type = out[at]!;
  const flags = out[at + 1]!;
  const start = out[at + 2]!;
  const end = start + out[at + 3]!;
  // The connection decodes CONNECT as 3.1.1 first: CONNECT carries its own version.
  const v = type === PacketType.CONNECT ? 4 : version;
  const full = attempt(() => decodePacket(type, flags, buf, start, end, v));
  if (type === PacketType.PUBLISH) {
    const hot = attempt(() => decodePublishFromScan(buf, out, index, v));
    const fullOk = !(full instanceof JunctionError);
    const hotOk = !(hot instanceof JunctionError);
    if (fullOk !== hotOk || (fullOk && !isDeepStrictEqual(full, hot))) {
      throw new FuzzDivergence(`PUBLISH at ${start}: decodePacket gives ${describe(full)}, decodePublishFromScan gives ${describe(hot)}`);
    }
  }
  if (full instanceof JunctionError)
    return `${type}:${full.message
      .replace(/'[^']*'/g, "''")
      .replace(/[0-9]+/g, '#')
      .slice(0, 60)}`;
  const encodeAs = full.type === PacketType.CONNECT ? full.protocolVersion : v;
  const bytes = encodePacket(encodeAs, full);
  const again = attempt(() => decodeFrame(bytes, encodeAs));
  if (!isDeepStrictEqual(again, full)) {
    throw new FuzzDivergence(`${PACKET_NAMES[full.type]} at ${start}: re-encoded as ${bytes.toString('hex').slice(0, 80)} it decodes to ${describe(again)}, not the same packet`);
  }
  return `${type}:ok`;
}

/** Scans and decodes the stream as a connection would, comparing against the native scanner. */
function runStream(buf: Buffer, version: ProtocolVersion): string {
  const v5 = version === 5;
  const labels: string[] = [];
  const bin = nativeBinding();
  let start = 0;
  const end = buf.length;
  while (start < end) {
    scanFrames(buf, start, end, MAX_PACKET_SIZE, v5, outTs);
    if (bin !== null) {
      outNative.fill(0xdeadbeef);
      bin.scanFrames(buf, start, end, MAX_PACKET_SIZE, v5, outNative);
      compareScans(start, end, v5);
    }
    const count = outTs[0]!;
    for (let i = 0; i < count; i++) {
      const label = checkFrame(buf, outTs, i, version);
      if (labels.length < 8 && labels[labels.length - 1] !== label) labels.push(label);
    }
    const next = outTs[1]!;
    if (outTs[2] !== 0) labels.push(`scan:${outTs[2]}`);
    if (outTs[2] !== 0 || next === start) break;
    if (next < start || next > end) throw new Error(`scanFrames consumed ${next}, outside [${start}, ${end}]`);
    start = next;
  }
  return `v${version} ${labels.join(' ')}`;
}

const t = (s: string): Buffer => Buffer.from(s, 'utf8');

function seedPackets(version: ProtocolVersion): Packet[] {
  const v5 = version === 5;
  const up = v5 ? { userProperties: [{ key: 'k', value: 'v' }] } : {};
  return [
    {
      type: PacketType.CONNECT,
      protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: version,
      cleanStart: true,
      keepAlive: 60,
      clientId: 'fuzz-client',
      username: 'user',
      password: t('secret'),
      will: { topic: 'will/t', payload: t('bye'), qos: 1, retain: true, properties: v5 ? { willDelayInterval: 5, contentType: 'text/plain' } : {} },
      properties: v5 ? { sessionExpiryInterval: 300, receiveMaximum: 10, topicAliasMaximum: 5, ...up } : {},
    },
    { type: PacketType.PUBLISH, topic: 'a/b/c', payload: t('hello'), qos: 0, retain: false, dup: false, packetId: 0, properties: {} },
    {
      type: PacketType.PUBLISH,
      topic: 'sensors/ü/temp',
      payload: t('21.5'),
      qos: 1,
      retain: true,
      dup: false,
      packetId: 7,
      properties: v5 ? { payloadFormatIndicator: 1, messageExpiryInterval: 60, topicAlias: 3, responseTopic: 'r/t', correlationData: t('id'), contentType: 'c', ...up } : {},
    },
    { type: PacketType.PUBLISH, topic: 'q/2', payload: Buffer.alloc(40, 0xab), qos: 2, retain: false, dup: true, packetId: 65535, properties: {} },
    { type: PacketType.PUBACK, packetId: 7, reasonCode: 0, properties: {} },
    { type: PacketType.PUBREC, packetId: 8, reasonCode: v5 ? 0x10 : 0, properties: v5 ? { reasonString: 'no one', ...up } : {} },
    { type: PacketType.PUBREL, packetId: 8, reasonCode: 0, properties: {} },
    { type: PacketType.PUBCOMP, packetId: 8, reasonCode: 0, properties: {} },
    {
      type: PacketType.SUBSCRIBE,
      packetId: 9,
      subscriptions: [
        { filter: 'a/+/c', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { filter: v5 ? '$share/g/x/#' : 'x/#', qos: 2, noLocal: v5, retainAsPublished: v5, retainHandling: v5 ? 2 : 0 },
      ],
      properties: v5 ? { subscriptionIdentifier: 300, ...up } : {},
    },
    { type: PacketType.UNSUBSCRIBE, packetId: 10, filters: ['a/+/c', 'x/#'], properties: v5 ? up : {} },
    { type: PacketType.PINGREQ },
    { type: PacketType.DISCONNECT, reasonCode: v5 ? 0x04 : 0, properties: v5 ? { sessionExpiryInterval: 0, reasonString: 'bye' } : {} },
    ...(v5 ? [{ type: PacketType.AUTH, reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM', authenticationData: t('abc') } } as Packet] : []),
  ];
}

/** The MQTT codec, scanner included, native against TypeScript when the addon loads. */
export const mqttTarget: FuzzTarget = {
  name: 'mqtt',
  maxInputSize: 4096,
  note(): string {
    return nativeBinding() === null ? 'native scanner not loaded: TypeScript only' : 'native scanner compared with TypeScript';
  },
  seeds(): Buffer[] {
    const seeds: Buffer[] = [];
    for (const [i, version] of VERSIONS.entries()) {
      const frames = seedPackets(version).map((p) => encodePacket(version, p));
      for (const f of frames) seeds.push(Buffer.concat([Buffer.of(i), f]));
      // A whole session in one stream: the pipelined case.
      seeds.push(Buffer.concat([Buffer.of(i), ...frames]));
    }
    return seeds;
  },
  run(input: Buffer): string {
    if (input.length === 0) return 'empty';
    return runStream(input.subarray(1), VERSIONS[input[0]! % 3]!);
  },
};

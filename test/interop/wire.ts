/**
 * A deliberately independent MQTT codec for byte-level interop tests: it shares no code with
 * the broker, so a bug in the broker's codec cannot hide behind the same bug here. It encodes
 * only what the tests send and decodes only what they read.
 */

export const enum PacketType {
  CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14,
  AUTH = 15,
}

export const PACKET_NAMES = [
  'RESERVED0',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH',
];

/** MQTT 5 property identifiers used by the tests. */
export const Prop = {
  PayloadFormatIndicator: 0x01,
  MessageExpiryInterval: 0x02,
  ContentType: 0x03,
  ResponseTopic: 0x08,
  CorrelationData: 0x09,
  SubscriptionIdentifier: 0x0b,
  SessionExpiryInterval: 0x11,
  AssignedClientIdentifier: 0x12,
  ServerKeepAlive: 0x13,
  AuthenticationMethod: 0x15,
  AuthenticationData: 0x16,
  RequestProblemInformation: 0x17,
  WillDelayInterval: 0x18,
  RequestResponseInformation: 0x19,
  ResponseInformation: 0x1a,
  ServerReference: 0x1c,
  ReasonString: 0x1f,
  ReceiveMaximum: 0x21,
  TopicAliasMaximum: 0x22,
  TopicAlias: 0x23,
  MaximumQoS: 0x24,
  RetainAvailable: 0x25,
  UserProperty: 0x26,
  MaximumPacketSize: 0x27,
  WildcardSubscriptionAvailable: 0x28,
  SubscriptionIdentifierAvailable: 0x29,
  SharedSubscriptionAvailable: 0x2a,
} as const;

type PropKind = 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary' | 'pair';

const PROP_KIND: Record<number, PropKind> = {
  0x01: 'byte',
  0x17: 'byte',
  0x19: 'byte',
  0x24: 'byte',
  0x25: 'byte',
  0x28: 'byte',
  0x29: 'byte',
  0x2a: 'byte',
  0x13: 'u16',
  0x21: 'u16',
  0x22: 'u16',
  0x23: 'u16',
  0x02: 'u32',
  0x11: 'u32',
  0x18: 'u32',
  0x27: 'u32',
  0x0b: 'varint',
  0x03: 'string',
  0x08: 'string',
  0x12: 'string',
  0x15: 'string',
  0x1a: 'string',
  0x1c: 'string',
  0x1f: 'string',
  0x09: 'binary',
  0x16: 'binary',
  0x26: 'pair',
};

export type PropValue = number | string | Buffer | [string, string];
/** Properties in wire order; an id may repeat (user properties, subscription identifiers). */
export type Props = Array<[number, PropValue]>;

/** First value of property `id`, or undefined. */
export function prop(props: Props, id: number): PropValue | undefined {
  for (const [k, v] of props) if (k === id) return v;
  return undefined;
}

/** Every value of property `id`, in wire order. */
export function props(list: Props, id: number): PropValue[] {
  return list.filter(([k]) => k === id).map(([, v]) => v);
}

/** Bytes of a string (UTF-8) or the buffer itself. */
export function bytes(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Variable byte integer encoding. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A length-prefixed UTF-8 string; pass a Buffer to send arbitrary (possibly invalid) bytes. */
export function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([u16(b.length), b]);
}

/** Encodes a property list with its length prefix. */
export function encodeProps(list: Props): Buffer {
  const parts: Buffer[] = [];
  for (const [id, v] of list) {
    parts.push(varint(id));
    const kind = PROP_KIND[id];
    switch (kind) {
      case 'byte':
        parts.push(Buffer.from([v as number]));
        break;
      case 'u16':
        parts.push(u16(v as number));
        break;
      case 'u32':
        parts.push(u32(v as number));
        break;
      case 'varint':
        parts.push(varint(v as number));
        break;
      case 'string':
        parts.push(str(v as string));
        break;
      case 'binary':
        parts.push(str(v as Buffer));
        break;
      case 'pair':
        parts.push(str((v as [string, string])[0]), str((v as [string, string])[1]));
        break;
      default:
        throw new Error(`unknown property id 0x${id.toString(16)}`);
    }
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([varint(body.length), body]);
}

/** A whole packet from its first byte and body. */
export function frame(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), varint(body.length), body]);
}

export type Version = 3 | 4 | 5;

export interface ConnectOptions {
  version?: Version;
  clientId?: string;
  clean?: boolean;
  keepalive?: number;
  props?: Props;
  will?: { topic: string; payload: Buffer | string; qos?: number; retain?: boolean; props?: Props };
  username?: string;
  password?: string;
  /** Overrides the computed connect flags byte (reserved-bit tests). */
  flags?: number;
  /** Overrides the protocol level byte. */
  level?: number;
}

/** A CONNECT packet. */
export function connectPacket(o: ConnectOptions = {}): Buffer {
  const version = o.version ?? 4;
  const name = version === 3 ? 'MQIsdp' : 'MQTT';
  let flags = 0;
  if (o.clean ?? true) flags |= 0x02;
  if (o.will) {
    flags |= 0x04 | ((o.will.qos ?? 0) << 3);
    if (o.will.retain) flags |= 0x20;
  }
  if (o.password !== undefined) flags |= 0x40;
  if (o.username !== undefined) flags |= 0x80;
  const parts: Buffer[] = [str(name), Buffer.from([o.level ?? version, o.flags ?? flags]), u16(o.keepalive ?? 60)];
  if (version === 5) parts.push(encodeProps(o.props ?? []));
  parts.push(str(o.clientId ?? ''));
  if (o.will) {
    if (version === 5) parts.push(encodeProps(o.will.props ?? []));
    parts.push(str(o.will.topic), str(bytes(o.will.payload)));
  }
  if (o.username !== undefined) parts.push(str(o.username));
  if (o.password !== undefined) parts.push(str(o.password));
  return frame(0x10, Buffer.concat(parts));
}

export interface PublishOptions {
  version?: Version;
  topic: string | Buffer;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  packetId?: number;
  props?: Props;
}

/** A PUBLISH packet. */
export function publishPacket(o: PublishOptions): Buffer {
  const qos = o.qos ?? 0;
  const first = 0x30 | (o.dup ? 0x08 : 0) | (qos << 1) | (o.retain ? 1 : 0);
  const parts: Buffer[] = [str(o.topic)];
  if (qos > 0) parts.push(u16(o.packetId ?? 1));
  if ((o.version ?? 4) === 5) parts.push(encodeProps(o.props ?? []));
  parts.push(bytes(o.payload ?? ''));
  return frame(first, Buffer.concat(parts));
}

/** A SUBSCRIBE packet; `options` is the whole subscription options byte (QoS in bits 0-1). */
export function subscribePacket(packetId: number, filters: Array<{ filter: string | Buffer; options: number }>, version: Version = 4, props: Props = []): Buffer {
  const parts: Buffer[] = [u16(packetId)];
  if (version === 5) parts.push(encodeProps(props));
  for (const f of filters) parts.push(str(f.filter), Buffer.from([f.options]));
  return frame(0x82, Buffer.concat(parts));
}

/** An UNSUBSCRIBE packet. */
export function unsubscribePacket(packetId: number, filters: string[], version: Version = 4): Buffer {
  const parts: Buffer[] = [u16(packetId)];
  if (version === 5) parts.push(encodeProps([]));
  for (const f of filters) parts.push(str(f));
  return frame(0xa2, Buffer.concat(parts));
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP; reason omitted means success in its shortest form. */
export function ackPacket(type: PacketType, packetId: number, reason?: number): Buffer {
  const first = (type << 4) | (type === PacketType.PUBREL ? 0x02 : 0);
  const body = reason === undefined ? u16(packetId) : Buffer.concat([u16(packetId), Buffer.from([reason])]);
  return frame(first, body);
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);

/** A DISCONNECT; for 5.0 with a reason code. */
export function disconnectPacket(reason?: number, props: Props = []): Buffer {
  if (reason === undefined) return Buffer.from([0xe0, 0x00]);
  return frame(0xe0, Buffer.concat([Buffer.from([reason]), encodeProps(props)]));
}

/** One received packet, undecoded beyond its fixed header. */
export interface RawPacket {
  type: number;
  flags: number;
  body: Buffer;
}

/** Splits whole packets off the front of `buf`; returns them and the unconsumed rest. */
export function splitPackets(buf: Buffer): { packets: RawPacket[]; rest: Buffer } {
  const packets: RawPacket[] = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    let len = 0;
    let mult = 1;
    let i = off + 1;
    let complete = false;
    for (let n = 0; n < 4 && i < buf.length; n++, i++) {
      len += (buf[i]! & 0x7f) * mult;
      mult *= 128;
      if ((buf[i]! & 0x80) === 0) {
        complete = true;
        i++;
        break;
      }
    }
    if (!complete || buf.length < i + len) break;
    packets.push({ type: buf[off]! >> 4, flags: buf[off]! & 0x0f, body: buf.subarray(i, i + len) });
    off = i + len;
  }
  return { packets, rest: buf.subarray(off) };
}

class Reader {
  off = 0;
  constructor(readonly buf: Buffer) {}
  byte(): number {
    return this.buf[this.off++]!;
  }
  u16(): number {
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  varint(): number {
    let v = 0;
    let mult = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) === 0) return v;
    }
  }
  bin(): Buffer {
    const n = this.u16();
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
  str(): string {
    return this.bin().toString('utf8');
  }
  props(): Props {
    const len = this.varint();
    const end = this.off + len;
    const out: Props = [];
    while (this.off < end) {
      const id = this.varint();
      switch (PROP_KIND[id]) {
        case 'byte':
          out.push([id, this.byte()]);
          break;
        case 'u16':
          out.push([id, this.u16()]);
          break;
        case 'u32':
          out.push([id, this.u32()]);
          break;
        case 'varint':
          out.push([id, this.varint()]);
          break;
        case 'string':
          out.push([id, this.str()]);
          break;
        case 'binary':
          out.push([id, Buffer.from(this.bin())]);
          break;
        case 'pair':
          out.push([id, [this.str(), this.str()]]);
          break;
        default:
          throw new Error(`unknown property id 0x${id.toString(16)} in received packet`);
      }
    }
    return out;
  }
  rest(): Buffer {
    return this.buf.subarray(this.off);
  }
  get done(): boolean {
    return this.off >= this.buf.length;
  }
}

export interface Connack {
  sessionPresent: boolean;
  code: number;
  props: Props;
}

/** Decodes a CONNACK. */
export function parseConnack(p: RawPacket, version: Version): Connack {
  const r = new Reader(p.body);
  const sessionPresent = (r.byte() & 1) === 1;
  const code = r.byte();
  return { sessionPresent, code, props: version === 5 && !r.done ? r.props() : [] };
}

export interface Publish {
  topic: string;
  qos: number;
  retain: boolean;
  dup: boolean;
  packetId: number;
  props: Props;
  payload: Buffer;
}

/** Decodes a PUBLISH. */
export function parsePublish(p: RawPacket, version: Version): Publish {
  const r = new Reader(p.body);
  const topic = r.str();
  const qos = (p.flags >> 1) & 3;
  const packetId = qos > 0 ? r.u16() : 0;
  const list = version === 5 ? r.props() : [];
  return { topic, qos, retain: (p.flags & 1) === 1, dup: (p.flags & 8) === 8, packetId, props: list, payload: Buffer.from(r.rest()) };
}

/** Decodes SUBACK/UNSUBACK: packet id and per-filter codes. */
export function parseSuback(p: RawPacket, version: Version): { packetId: number; codes: number[]; props: Props } {
  const r = new Reader(p.body);
  const packetId = r.u16();
  const list = version === 5 ? r.props() : [];
  return { packetId, codes: [...r.rest()], props: list };
}

/** Decodes PUBACK/PUBREC/PUBREL/PUBCOMP (reason 0 when omitted). */
export function parseAck(p: RawPacket): { packetId: number; reason: number; props: Props } {
  const r = new Reader(p.body);
  const packetId = r.u16();
  const reason = r.done ? 0 : r.byte();
  return { packetId, reason, props: r.done ? [] : r.props() };
}

/** Decodes DISCONNECT (reason 0 when omitted). */
export function parseDisconnect(p: RawPacket): { reason: number; props: Props } {
  const r = new Reader(p.body);
  const reason = r.done ? 0 : r.byte();
  return { reason, props: r.done ? [] : r.props() };
}

/** A short human description of a packet for failure messages. */
export function describe(p: RawPacket): string {
  const name = PACKET_NAMES[p.type] ?? `type${p.type}`;
  const hex = p.body.subarray(0, 24).toString('hex');
  return `${name}(flags=${p.flags}, ${p.body.length}B${hex ? ` ${hex}${p.body.length > 24 ? '…' : ''}` : ''})`;
}

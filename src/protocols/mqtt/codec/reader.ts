/**
 * A cursor over one packet's bytes that reads MQTT data types in wire order and throws a
 * MalformedPacketError naming the packet and field at the first short or invalid field.
 */

import { MalformedPacketError } from '../../../errors.js';
import { STR_NON_ASCII, STR_NUL, STR_WILDCARD, isWellFormedUtf8, scanString } from './utf8.js';

/** Formats "field" or "field N" (1-based) without building the string on the good path. */
function fieldName(field: string, index: number): string {
  return index >= 0 ? `${field} ${index + 1}` : field;
}

/** What a reader shared across packets points at between them (it keeps no packet's bytes alive). */
const NO_BYTES = Buffer.alloc(0);

/** Reads one packet's fields in wire order; `end` is narrowed while a property block is read. */
export class PacketReader {
  buf!: Buffer;
  pos!: number;
  end!: number;
  /** Packet name for messages: 'CONNECT', 'PUBLISH'... */
  packet!: string;
  /** STR_* bits of the last string read, so callers can test for wildcards without a rescan. */
  lastStringBits!: number;
  /** Binary fields are copies, not views (detach): the packet's fields outlive the read buffer. */
  private copies!: boolean;

  constructor(buf: Buffer, pos: number, end: number, packet: string) {
    this.reset(buf, pos, end, packet);
  }

  /** Points this reader at another packet (one reader serves every packet decodePacket reads). */
  reset(buf: Buffer, pos: number, end: number, packet: string): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.packet = packet;
    this.lastStringBits = 0;
    this.copies = false;
    return this;
  }

  /** Lets go of the packet's bytes (a reader shared across packets, once one is read). */
  release(): void {
    this.buf = NO_BYTES;
  }

  /** Bytes left before the end of the packet (or of the current property block). */
  remaining(): number {
    return this.end - this.pos;
  }

  /** Throws a MalformedPacketError "<PACKET>: <field> <what>". */
  malformed(field: string, index: number, what: string): never {
    throw new MalformedPacketError(`${this.packet}: ${fieldName(field, index)} ${what}`);
  }

  /** Reads one byte. */
  u8(field: string, index = -1): number {
    if (this.pos + 1 > this.end) this.malformed(field, index, 'is truncated');
    return this.buf[this.pos++];
  }

  /** Reads a Two Byte Integer [MQTT-1.5.2]. */
  u16(field: string, index = -1): number {
    const p = this.pos;
    if (p + 2 > this.end) this.malformed(field, index, 'is truncated');
    this.pos = p + 2;
    return (this.buf[p] << 8) | this.buf[p + 1];
  }

  /** Reads a Four Byte Integer [MQTT-1.5.3]. */
  u32(field: string, index = -1): number {
    const p = this.pos;
    if (p + 4 > this.end) this.malformed(field, index, 'is truncated');
    this.pos = p + 4;
    const b = this.buf;
    return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  /** Reads a Variable Byte Integer [MQTT-1.5.5]: at most 4 bytes. */
  varint(field: string, index = -1): number {
    let value = 0;
    let mult = 1;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.end) this.malformed(field, index, 'is truncated');
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return value;
      mult *= 128;
    }
    return this.malformed(field, index, 'is longer than 4 bytes');
  }

  /** Reads a UTF-8 Encoded String, validated per [MQTT-1.5.4-1] and [MQTT-1.5.4-2]. */
  utf8(field: string, index = -1): string {
    const len = this.u16(field, index);
    const start = this.pos;
    const stop = start + len;
    if (stop > this.end) this.malformed(field, index, `(length ${len}) runs past the end of the packet`);
    const bits = len === 0 ? 0 : scanString(this.buf, start, stop);
    this.lastStringBits = bits;
    if ((bits & STR_NUL) !== 0) this.malformed(field, index, 'contains U+0000'); // [MQTT-1.5.4-2]
    this.pos = stop;
    if (bits === 0 || bits === STR_WILDCARD) return this.buf.toString('latin1', start, stop);
    if ((bits & STR_NON_ASCII) !== 0 && !isWellFormedUtf8(this.buf, start, stop)) {
      this.malformed(field, index, 'is not valid UTF-8'); // [MQTT-1.5.4-1]
    }
    return this.buf.toString('utf8', start, stop);
  }

  /** Reads Binary Data [MQTT-1.5.6] as a view into the packet (a copy once detached). */
  binary(field: string, index = -1): Buffer {
    const len = this.u16(field, index);
    const start = this.pos;
    if (start + len > this.end) this.malformed(field, index, `(length ${len}) runs past the end of the packet`);
    this.pos = start + len;
    return this.copies ? Buffer.from(this.buf.subarray(start, start + len)) : this.buf.subarray(start, start + len);
  }

  /**
   * This reader, for a packet whose fields outlive the read buffer: its binary fields are read as
   * copies from now on (strings are copies anyway). Only those fields are copied, not the packet:
   * a plain CONNECT (no will, password or authentication data) copies nothing.
   */
  detach(packet: string): PacketReader {
    this.packet = packet;
    this.copies = true;
    return this;
  }

  /** Throws unless every byte was consumed. */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new MalformedPacketError(`${this.packet}: ${this.end - this.pos} unexpected bytes after ${what}`);
    }
  }
}

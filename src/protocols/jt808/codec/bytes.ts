/**
 * Reading and writing JT/T 808 field types: BYTE, WORD, DWORD (big-endian), BCD[n], BYTE[n]
 * and GBK STRING. The reader is bounds-checked: a body shorter than its layout throws
 * Jt808BodyError, which the gateway answers with 8001 result 2 (message error).
 */
import iconv from 'iconv-lite';
import { Jt808BodyError } from './errors.js';

/** Decodes a GBK string (ASCII without a copy through iconv when every byte is below 0x80). */
function decodeGbk(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) return iconv.decode(buf.subarray(start, end), 'gbk');
  }
  return buf.toString('latin1', start, end);
}

/** Encodes a string as GBK (characters GBK cannot hold become '?'). */
export function encodeGbk(text: string): Buffer {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return iconv.encode(text, 'gbk');
  }
  return Buffer.from(text, 'latin1');
}

/** BCD digits as a string, two per byte ("0123..."); a nibble above 9 shows as its hex digit. */
export function decodeBcd(buf: Buffer, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    out += (b >> 4).toString(16) + (b & 0x0f).toString(16);
  }
  return out;
}

/** Writes `digits` as BCD[size], left-padded with zeros; throws on a non-digit or too many digits. */
export function encodeBcdInto(digits: string, size: number, out: Buffer, at: number): void {
  if (!/^[0-9]*$/.test(digits)) throw new Jt808BodyError(`"${digits.slice(0, 24)}" is not a string of decimal digits`);
  if (digits.length > size * 2) throw new Jt808BodyError(`"${digits}" has more than ${size * 2} digits`);
  const padded = digits.padStart(size * 2, '0');
  for (let i = 0; i < size; i++) out[at + i] = ((padded.charCodeAt(2 * i) - 48) << 4) | (padded.charCodeAt(2 * i + 1) - 48);
}

/** Cursor over one message body. */
export class BodyReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  /** Message id, for error messages. */
  readonly msgId: number;

  constructor(buf: Buffer, start: number, end: number, msgId: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.msgId = msgId;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are there. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new Jt808BodyError(`body of 0x${hex4(this.msgId)} too short: ${what} needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  u8(what = 'BYTE'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'WORD'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i16(what = 'WORD'): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what = 'DWORD'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A copy of the next n bytes (the frame buffer is reused). */
  bytes(n: number, what = 'BYTE[n]'): Buffer {
    this.need(n, what);
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }

  base64(n: number, what = 'BYTE[n]'): string {
    this.need(n, what);
    const v = this.buf.toString('base64', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  restBase64(): string {
    return this.base64(this.end - this.pos);
  }

  bcd(n: number, what = 'BCD[n]'): string {
    this.need(n, what);
    const v = decodeBcd(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** BYTE[n] or STRING of n bytes as GBK text, trailing NUL padding removed. */
  text(n: number, what = 'STRING'): string {
    this.need(n, what);
    let end = this.pos + n;
    while (end > this.pos && this.buf[end - 1] === 0) end--;
    const v = decodeGbk(this.buf, this.pos, end);
    this.pos += n;
    return v;
  }

  restText(): string {
    return this.text(this.end - this.pos);
  }

  /** Throws if bytes are left over after a fixed layout. */
  done(): void {
    if (this.pos !== this.end) throw new Jt808BodyError(`body of 0x${hex4(this.msgId)} has ${this.end - this.pos} unexpected trailing bytes`);
  }
}

/** Growable output for one message body. */
export class BodyWriter {
  buf: Buffer;
  pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  i16(v: number): void {
    this.room(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** BYTE[size]: the bytes, zero-padded; longer input is an error. */
  fixed(b: Uint8Array, size: number, what: string): void {
    if (b.length > size) throw new Jt808BodyError(`${what} is ${b.length} bytes, at most ${size} fit`);
    this.room(size);
    this.buf.set(b, this.pos);
    this.buf.fill(0, this.pos + b.length, this.pos + size);
    this.pos += size;
  }

  bcd(digits: string, size: number): void {
    this.room(size);
    encodeBcdInto(digits, size, this.buf, this.pos);
    this.pos += size;
  }

  /** The body written so far (a view; copy it if the writer is reused). */
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** "0200" for 0x200. */
export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0').toUpperCase();
}

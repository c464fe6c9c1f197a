/**
 * Low-level writers for the encoders: each writes one MQTT data type at `pos` into a buffer
 * sized exactly beforehand and returns the position after it.
 */

/** Largest value a Variable Byte Integer holds [MQTT-1.5.5]. */
export const VARINT_MAX = 268_435_455;

/** Bytes a Variable Byte Integer of `n` takes. */
export function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Writes a Variable Byte Integer; `n` must be at most VARINT_MAX. */
export function writeVarint(buf: Buffer, pos: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[pos++] = b;
  } while (n > 0);
  return pos;
}

/** Writes a Two Byte Integer. */
export function writeU16(buf: Buffer, pos: number, n: number): number {
  buf[pos] = (n >>> 8) & 0xff;
  buf[pos + 1] = n & 0xff;
  return pos + 2;
}

/** Writes a Four Byte Integer. */
export function writeU32(buf: Buffer, pos: number, n: number): number {
  buf[pos] = (n >>> 24) & 0xff;
  buf[pos + 1] = (n >>> 16) & 0xff;
  buf[pos + 2] = (n >>> 8) & 0xff;
  buf[pos + 3] = n & 0xff;
  return pos + 4;
}

/** Writes a UTF-8 Encoded String whose byte length `len` the caller computed. */
export function writeString(buf: Buffer, pos: number, s: string, len: number): number {
  pos = writeU16(buf, pos, len);
  if (len > 0) buf.write(s, pos, len, 'utf8');
  return pos + len;
}

/** Writes Binary Data (two-byte length, then the bytes). */
export function writeBinary(buf: Buffer, pos: number, data: Buffer | Uint8Array): number {
  pos = writeU16(buf, pos, data.length);
  buf.set(data, pos);
  return pos + data.length;
}

/** Allocates a packet of exactly the right size and writes its fixed header; returns it. */
export function allocPacket(first: number, remaining: number): Buffer {
  if (remaining > VARINT_MAX) {
    throw new RangeError(`packet remaining length ${remaining} exceeds the MQTT maximum of ${VARINT_MAX}`);
  }
  const buf = Buffer.allocUnsafe(1 + varintSize(remaining) + remaining);
  buf[0] = first;
  writeVarint(buf, 1, remaining);
  return buf;
}

/** Throws a RangeError naming the field when a string does not fit a two-byte length. */
export function checkLength(field: string, len: number): number {
  if (len > 65_535) throw new RangeError(`${field} is ${len} bytes, above the MQTT limit of 65535`);
  return len;
}

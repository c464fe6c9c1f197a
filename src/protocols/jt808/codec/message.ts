/**
 * Whole messages: an unescaped frame checked and split into header and body span (parseFrame),
 * a body turned into EMQX's JSON (bodyJson), and a header plus body turned back into frames
 * (encodeFrames), split into packets when the body is over 1023 bytes.
 */
import { BodyReader, BodyWriter } from './bytes.js';
import { FrameFault, Jt808InputError } from './errors.js';
import { sealFrame, xorChecksum } from './frame.js';
import { ATTR_SPLIT, decodeHeader, encodeHeader, headerLength, MAX_BODY_LENGTH, type Jt808Header } from './header.js';
import { Fields, type JsonObject } from './json-fields.js';
import { bodyCodec } from './bodies/index.js';

/** What parseFrame found; `header` is set whenever the header could be read (even with a fault). */
export interface ParsedFrame {
  fault: FrameFault;
  header: Jt808Header | null;
  bodyStart: number;
  bodyEnd: number;
}

/** A terminal phone number as decodeBcd shows it: only real BCD digits. */
const DECIMAL = /^[0-9]+$/;

/** Checks an unescaped frame (header, body, check byte in frame[0..length)). */
export function parseFrame(frame: Buffer, length: number): ParsedFrame {
  const header = length >= 13 ? decodeHeader(frame, length - 1) : null;
  if (header === null) return { fault: FrameFault.TooShort, header: null, bodyStart: 0, bodyEnd: 0 };
  const bodyStart = headerLength(header.is2019, (frame.readUInt16BE(2) & ATTR_SPLIT) !== 0);
  const bodyEnd = length - 1;
  let fault: FrameFault = FrameFault.None;
  // The phone first: the 8001 answers to the other faults must carry it.
  if (!DECIMAL.test(header.phone)) fault = FrameFault.BadPhone;
  else if (xorChecksum(frame, 0, bodyEnd) !== frame[bodyEnd]) fault = FrameFault.BadChecksum;
  else if (bodyEnd - bodyStart !== header.bodyLength) fault = FrameFault.LengthMismatch;
  return { fault, header, bodyStart, bodyEnd };
}

/**
 * The JSON body of a message: parsed when the id is known, `{unknown_id: true, data}` when not,
 * `{encrypted: true, data}` when the encryption bits are set (the gateway holds no keys).
 * Throws Jt808BodyError when a known body does not fit its layout.
 */
export function bodyJson(header: Jt808Header, buf: Buffer, start: number, end: number): JsonObject {
  if (header.encrypt !== 0) return { encrypted: true, data: buf.toString('base64', start, end) };
  const codec = bodyCodec(header.msgId);
  if (codec === undefined) return { unknown_id: true, data: buf.toString('base64', start, end) };
  return codec.decode(new BodyReader(buf, start, end, header.msgId), header.is2019);
}

/** The message as published on the up topic: `{"header": {...}, "body": {...}}`. */
export interface Jt808Json {
  header: Record<string, number | string>;
  body: JsonObject;
}

// Bodies are encoded and sealed synchronously, one at a time: one writer serves every connection.
const writer = new BodyWriter(1024);
const headerScratch = Buffer.allocUnsafe(21 + MAX_BODY_LENGTH);

/**
 * Encodes a body from JSON. `{unknown_id: true, data}` sends raw bytes for ids without a codec.
 * Returns a view of a shared buffer, valid until the next call. Throws Jt808InputError.
 */
export function encodeBody(msgId: number, body: Fields, is2019: boolean): Buffer {
  writer.pos = 0;
  if (body.obj['unknown_id'] === true) {
    writer.bytes(body.b64('data'));
    return writer.result();
  }
  const codec = bodyCodec(msgId);
  if (codec === undefined) throw new Jt808InputError(`message id 0x${msgId.toString(16).padStart(4, '0')} has no body encoder; send {"unknown_id": true, "data": base64} for raw bytes`);
  codec.encode(writer, body, is2019);
  return writer.result();
}

/** How many packets a body of `length` bytes takes. */
export function packetCount(length: number): number {
  return length <= MAX_BODY_LENGTH ? 1 : Math.ceil(length / MAX_BODY_LENGTH);
}

/**
 * Seals header + body into the bytes to write. A body over 1023 bytes goes as packets with
 * msg_sn, msg_sn + 1, ... (the caller advances its counter by packetCount). Packets of a
 * longer body than 65535 packets can hold are refused.
 */
export function encodeFrames(h: Jt808Header, body: Buffer): Buffer {
  const total = packetCount(body.length);
  if (total === 1 && h.fragTotal === 0) {
    const n = encodeHeader(h, body.length, headerScratch);
    headerScratch.set(body, n);
    return sealFrame(headerScratch, n + body.length);
  }
  if (total > 0xffff) throw new Jt808InputError(`body of ${body.length} bytes needs more than 65535 packets`);
  const frames: Buffer[] = [];
  for (let i = 0; i < total; i++) {
    const part = body.subarray(i * MAX_BODY_LENGTH, Math.min(body.length, (i + 1) * MAX_BODY_LENGTH));
    const ph: Jt808Header = { ...h, msgSn: (h.msgSn + i) & 0xffff, fragTotal: total, fragSn: i + 1 };
    const n = encodeHeader(ph, part.length, headerScratch);
    headerScratch.set(part, n);
    frames.push(sealFrame(headerScratch, n + part.length));
  }
  return Buffer.concat(frames);
}

/** Encodes a whole message from JSON (tests, simulators, the downlink path). */
export function encodeMessage(h: Jt808Header, body: JsonObject): Buffer {
  return encodeFrames(h, encodeBody(h.msgId, new Fields(body, 'body'), h.is2019));
}

/**
 * Message headers of the two editions. Body attributes (WORD): bits 0-9 body length, 10-12
 * encryption, 13 split into packets, 14 version flag (1 = 2019).
 *   2013: msgId W, attributes W, phone BCD[6], msgSn W           (12 bytes, 16 when split)
 *   2019: msgId W, attributes W, protoVer B, phone BCD[10], msgSn W (17 bytes, 21 when split)
 * 2011 terminals use the 2013 header.
 */
import { decodeBcd, encodeBcdInto } from './bytes.js';
import { Jt808BodyError } from './errors.js';

const ATTR_LENGTH_MASK = 0x03ff;
export const ATTR_SPLIT = 1 << 13;
const ATTR_VERSION_2019 = 1 << 14;
/** The largest body one frame can carry (10-bit length). */
export const MAX_BODY_LENGTH = 0x03ff;

export interface Jt808Header {
  msgId: number;
  /** bits 10-12 of the attributes (bit 10 = RSA) */
  encrypt: number;
  /** body length; after reassembly, the whole message's */
  bodyLength: number;
  /** true when bit 14 is set (2019 edition) */
  is2019: boolean;
  /** protocol version byte of 2019 headers (1 for the 2019 edition); 0 for 2013 */
  protoVer: number;
  /** terminal phone number as BCD digits (12 for 2013, 20 for 2019) */
  phone: string;
  msgSn: number;
  /** total packets and this packet's index (1-based); 0 when not split */
  fragTotal: number;
  fragSn: number;
}

/** Header length for an edition with or without packet fields. */
export function headerLength(is2019: boolean, split: boolean): number {
  return (is2019 ? 17 : 12) + (split ? 4 : 0);
}

/** Parses the header at frame[0]; returns null if `length` cannot hold it. */
export function decodeHeader(frame: Buffer, length: number): Jt808Header | null {
  if (length < 4) return null;
  const attrs = frame.readUInt16BE(2);
  const is2019 = (attrs & ATTR_VERSION_2019) !== 0;
  const split = (attrs & ATTR_SPLIT) !== 0;
  const size = headerLength(is2019, split);
  if (length < size) return null;
  const phoneAt = is2019 ? 5 : 4;
  const phoneEnd = phoneAt + (is2019 ? 10 : 6);
  return {
    msgId: frame.readUInt16BE(0),
    encrypt: (attrs >> 10) & 0x07,
    bodyLength: attrs & ATTR_LENGTH_MASK,
    is2019,
    protoVer: is2019 ? frame[4]! : 0,
    phone: decodeBcd(frame, phoneAt, phoneEnd),
    msgSn: frame.readUInt16BE(phoneEnd),
    fragTotal: split ? frame.readUInt16BE(phoneEnd + 2) : 0,
    fragSn: split ? frame.readUInt16BE(phoneEnd + 4) : 0,
  };
}

/** Writes a header for a body of bodyLength bytes at out[0]; returns its length. */
export function encodeHeader(h: Jt808Header, bodyLength: number, out: Buffer): number {
  if (bodyLength > MAX_BODY_LENGTH) throw new Jt808BodyError(`body of ${bodyLength} bytes exceeds the ${MAX_BODY_LENGTH} bytes of one packet`);
  const split = h.fragTotal > 0;
  let attrs = bodyLength | ((h.encrypt & 0x07) << 10);
  if (split) attrs |= ATTR_SPLIT;
  if (h.is2019) attrs |= ATTR_VERSION_2019;
  out.writeUInt16BE(h.msgId, 0);
  out.writeUInt16BE(attrs, 2);
  let at = 4;
  if (h.is2019) {
    out[4] = h.protoVer;
    encodeBcdInto(h.phone, 10, out, 5);
    at = 15;
  } else {
    encodeBcdInto(h.phone, 6, out, 4);
    at = 10;
  }
  out.writeUInt16BE(h.msgSn, at);
  at += 2;
  if (split) {
    out.writeUInt16BE(h.fragTotal, at);
    out.writeUInt16BE(h.fragSn, at + 2);
    at += 4;
  }
  return at;
}

/** The header as EMQX's JSON shows it (proto_ver only for 2019, frag_* only when split). */
export function headerJson(h: Jt808Header): Record<string, number | string> {
  const out: Record<string, number | string> = { msg_id: h.msgId, encrypt: h.encrypt, len: h.bodyLength };
  if (h.is2019) out['proto_ver'] = h.protoVer;
  out['phone'] = h.phone;
  out['msg_sn'] = h.msgSn;
  if (h.fragTotal > 0) {
    out['frag_total'] = h.fragTotal;
    out['frag_sn'] = h.fragSn;
  }
  return out;
}

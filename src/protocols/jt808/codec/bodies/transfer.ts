/**
 * Data transfer and information: 0900/8900 pass-through, 0901 compressed data, 0A00/8A00 RSA
 * keys, 8300 text, 0301/0302/0303 events and answers, 0700/0701 records and waybills.
 */
import { encodeGbk, type BodyReader, type BodyWriter } from '../bytes.js';
import { Jt808InputError } from '../errors.js';
import type { Fields, JsonObject } from '../json-fields.js';
import type { BodyCodec } from './types.js';

/** 0900 / 8900: {type, data (base64)} */
export const PASSTHROUGH: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ type: r.u8('type'), data: r.restBase64() }),
  encode(w: BodyWriter, b: Fields): void {
    w.u8(b.uint('type', 0xff));
    w.bytes(b.b64('data'));
  },
};

/** 0701 waybill / 0901 compressed data: {length, data (base64)} */
export const LENGTH_AND_DATA: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const length = r.u32('length');
    return { length, data: r.base64(length, 'data') };
  },
  encode(w: BodyWriter, b: Fields): void {
    const data = b.b64('data');
    w.u32(data.length);
    w.bytes(data);
  },
};

/** 0A00 / 8A00: {e, n (base64 of 128 bytes)} */
export const RSA_KEY: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ e: r.u32('e'), n: r.base64(128, 'n') }),
  encode(w: BodyWriter, b: Fields): void {
    w.u32(b.uint('e', 0xffffffff));
    const n = b.b64('n');
    if (n.length !== 128) throw new Jt808InputError(`body.n must be 128 bytes (base64), got ${n.length}`);
    w.bytes(n);
  },
};

/** 8300: 2013 {flag, text}; 2019 {flag, text_type, text}. Text is GBK on the wire. */
export const TEXT: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const flag = r.u8('flag');
    if (!is2019) return { flag, text: r.restText() };
    const text_type = r.u8('text_type');
    return { flag, text_type, text: r.restText() };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    w.u8(b.uint('flag', 0xff));
    if (is2019) w.u8(b.uint('text_type', 0xff, 1));
    w.bytes(encodeGbk(b.str('text')));
  },
};

/** 0301: {id} */
export const EVENT_REPORT: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ id: r.u8('id') }),
  encode(w: BodyWriter, b: Fields): void {
    w.u8(b.uint('id', 0xff));
  },
};

/** 0302: {seq, id} */
export const QUESTION_ANSWER: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ seq: r.u16('seq'), id: r.u8('id') }),
  encode(w: BodyWriter, b: Fields): void {
    w.u16(b.uint('seq', 0xffff));
    w.u8(b.uint('id', 0xff));
  },
};

/** 0303: {id, flag} */
export const INFO_DEMAND: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ id: r.u8('id'), flag: r.u8('flag') }),
  encode(w: BodyWriter, b: Fields): void {
    w.u8(b.uint('id', 0xff));
    w.u8(b.uint('flag', 0xff));
  },
};

/** 0700: {seq, command, data (base64)} */
export const DRIVE_RECORD_UPLOAD: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ seq: r.u16('seq'), command: r.u8('command'), data: r.restBase64() }),
  encode(w: BodyWriter, b: Fields): void {
    w.u16(b.uint('seq', 0xffff));
    w.u8(b.uint('command', 0xff));
    w.bytes(b.b64('data'));
  },
};

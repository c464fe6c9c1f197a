/**
 * General messages: responses (0001/8001), heartbeat, deregister, time (0004/8004), re-send
 * requests (0005/8003), registration (0100/8100) and authentication (0102).
 */
import { encodeGbk, type BodyReader, type BodyWriter } from '../bytes.js';
import type { Fields, JsonObject } from '../json-fields.js';
import { Jt808InputError } from '../errors.js';
import type { BodyCodec } from './types.js';

/** 0001 / 8001: {seq, id, result} */
export const GENERAL_RESPONSE: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const seq = r.u16('seq');
    const id = r.u16('id');
    const result = r.u8('result');
    return { seq, id, result };
  },
  encode(w: BodyWriter, b: Fields): void {
    w.u16(b.uint('seq', 0xffff));
    w.u16(b.uint('id', 0xffff));
    w.u8(b.uint('result', 0xff));
  },
};

/** 0005 (2019): the terminal asks the platform to re-send packets: {seq, count, ids} */
export const TERMINAL_RESEND_REQUEST: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const seq = r.u16('seq');
    const count = r.u16('count');
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(r.u16('ids'));
    return { seq, count, ids };
  },
  encode(w: BodyWriter, b: Fields): void {
    const ids = b.uints('ids', 0xffff, 0xffff);
    w.u16(b.uint('seq', 0xffff));
    w.u16(ids.length);
    for (const id of ids) w.u16(id);
  },
};

/** 8003: the platform asks the terminal to re-send packets: {seq, length, ids}; the count is a BYTE in 2013, a WORD in 2019. */
export const RESEND_REQUEST: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const seq = r.u16('seq');
    const length = is2019 ? r.u16('length') : r.u8('length');
    const ids: number[] = [];
    for (let i = 0; i < length; i++) ids.push(r.u16('ids'));
    return { seq, length, ids };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    const ids = b.uints('ids', is2019 ? 0xffff : 0xff, 0xffff);
    w.u16(b.uint('seq', 0xffff));
    if (is2019) w.u16(ids.length);
    else w.u8(ids.length);
    for (const id of ids) w.u16(id);
  },
};

/** 8004: server time as BCD[6] YYMMDDhhmmss (UTC): {time} */
export const SERVER_TIME: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ time: r.bcd(6, 'time') }),
  encode(w: BodyWriter, b: Fields): void {
    w.bcd(b.str('time'), 6);
  },
};

/** 0100: registration. 2013: manufacturer 5, model 20, device id 7 bytes; 2019: 11, 30, 30. */
export const REGISTER: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const province = r.u16('province');
    const city = r.u16('city');
    const manufacturer = r.text(is2019 ? 11 : 5, 'manufacturer');
    const model = r.text(is2019 ? 30 : 20, 'model');
    const dev_id = r.text(is2019 ? 30 : 7, 'dev_id');
    const color = r.u8('color');
    const license_number = r.restText();
    return { province, city, manufacturer, model, dev_id, color, license_number };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    w.u16(b.uint('province', 0xffff));
    w.u16(b.uint('city', 0xffff));
    w.fixed(encodeGbk(b.str('manufacturer')), is2019 ? 11 : 5, 'body.manufacturer');
    w.fixed(encodeGbk(b.str('model')), is2019 ? 30 : 20, 'body.model');
    w.fixed(encodeGbk(b.str('dev_id')), is2019 ? 30 : 7, 'body.dev_id');
    w.u8(b.uint('color', 0xff));
    w.bytes(encodeGbk(b.str('license_number', '')));
  },
};

/** 8100: {seq, result, auth_code}; the code follows only a successful registration. */
export const REGISTER_RESPONSE: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const seq = r.u16('seq');
    const result = r.u8('result');
    if (result !== 0 && r.remaining === 0) return { seq, result };
    return { seq, result, auth_code: r.restText() };
  },
  encode(w: BodyWriter, b: Fields): void {
    w.u16(b.uint('seq', 0xffff));
    const result = b.uint('result', 0xff);
    w.u8(result);
    if (result === 0 || b.has('auth_code')) w.bytes(encodeGbk(b.str('auth_code', '')));
  },
};

/** 0102: 2013 body is the code; 2019: code length B, code, IMEI BYTE[15], software version BYTE[20]. */
export const AUTHENTICATE: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    if (!is2019) return { code: r.restText() };
    const n = r.u8('code length');
    const code = r.text(n, 'code');
    const imei = r.text(15, 'imei');
    const software_version = r.text(20, 'software_version');
    return { code, imei, software_version };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    const code = encodeGbk(b.str('code'));
    if (!is2019) {
      w.bytes(code);
      return;
    }
    if (code.length > 255) throw new Jt808InputError(`body.code is ${code.length} bytes, at most 255 fit`);
    w.u8(code.length);
    w.bytes(code);
    w.fixed(encodeGbk(b.str('imei', '')), 15, 'body.imei');
    w.fixed(encodeGbk(b.str('software_version', '')), 20, 'body.software_version');
  },
};

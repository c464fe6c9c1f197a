/**
 * Terminal parameters and attributes: 8103 set, 8104/8106 query, 0104 response; 8105 terminal
 * control; 8107/0107 attributes; 8108/0108 upgrade. A parameter value is a number for DWORD,
 * WORD and BYTE parameters, text for STRING ones, base64 for everything else.
 */
import { encodeGbk, type BodyReader, type BodyWriter } from '../bytes.js';
import { Jt808InputError } from '../errors.js';
import type { Fields, JsonObject } from '../json-fields.js';
import type { BodyCodec } from './types.js';

type ParamType = 'dword' | 'word' | 'byte' | 'string' | 'raw';

const RANGES: ReadonlyArray<readonly [number, number, ParamType]> = [
  [0x0001, 0x0007, 'dword'],
  [0x0010, 0x0017, 'string'],
  [0x0018, 0x0019, 'dword'],
  [0x001a, 0x001a, 'string'],
  [0x001b, 0x001c, 'dword'],
  [0x001d, 0x001d, 'string'],
  [0x0020, 0x0022, 'dword'],
  [0x0023, 0x0026, 'string'],
  [0x0027, 0x0030, 'dword'],
  [0x0031, 0x0031, 'word'],
  [0x0040, 0x0044, 'string'],
  [0x0045, 0x0047, 'dword'],
  [0x0048, 0x0049, 'string'],
  [0x0050, 0x005a, 'dword'],
  [0x005b, 0x005e, 'word'],
  [0x0064, 0x0065, 'dword'],
  [0x0070, 0x0074, 'dword'],
  [0x0080, 0x0080, 'dword'],
  [0x0081, 0x0082, 'word'],
  [0x0083, 0x0083, 'string'],
  [0x0084, 0x0084, 'byte'],
  [0x0090, 0x0092, 'byte'],
  [0x0093, 0x0093, 'dword'],
  [0x0094, 0x0094, 'byte'],
  [0x0095, 0x0095, 'dword'],
  [0x0100, 0x0100, 'dword'],
  [0x0101, 0x0101, 'word'],
  [0x0102, 0x0102, 'dword'],
  [0x0103, 0x0103, 'word'],
];

const SIZES: Readonly<Record<ParamType, number>> = { dword: 4, word: 2, byte: 1, string: -1, raw: -1 };

/** The value type of a terminal parameter id (JT/T 808 table of parameters). */
function paramType(id: number): ParamType {
  for (const [from, to, type] of RANGES) if (id >= from && id <= to) return type;
  return 'raw';
}

function readParams(r: BodyReader, count: number): JsonObject[] {
  const params: JsonObject[] = [];
  for (let i = 0; i < count; i++) {
    const id = r.u32('parameter id');
    const len = r.u8('parameter length');
    const type = paramType(id);
    let value: number | string;
    if (SIZES[type] === len) value = len === 4 ? r.u32() : len === 2 ? r.u16() : r.u8();
    else if (type === 'string') value = r.text(len, 'parameter value');
    else value = r.base64(len, 'parameter value');
    params.push({ id, value });
  }
  return params;
}

function writeParams(w: BodyWriter, list: Fields[]): void {
  for (const p of list) {
    const id = p.uint('id', 0xffffffff);
    const type = paramType(id);
    w.u32(id);
    if (type === 'dword') {
      w.u8(4);
      w.u32(p.uint('value', 0xffffffff));
    } else if (type === 'word') {
      w.u8(2);
      w.u16(p.uint('value', 0xffff));
    } else if (type === 'byte') {
      w.u8(1);
      w.u8(p.uint('value', 0xff));
    } else {
      const v = type === 'string' ? encodeGbk(p.str('value')) : p.b64('value');
      if (v.length > 0xff) throw new Jt808InputError(`${p.where}.value is ${v.length} bytes, at most 255 fit`);
      w.u8(v.length);
      w.bytes(v);
    }
  }
}

/** 8103: {length, params: [{id, value}]} */
export const SET_PARAMS: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const length = r.u8('count');
    return { length, params: readParams(r, length) };
  },
  encode(w: BodyWriter, b: Fields): void {
    const list = b.objects('params', 0xff);
    w.u8(list.length);
    writeParams(w, list);
  },
};

/** 0104: {seq, length, params: [{id, value}]} */
export const QUERY_PARAMS_RESPONSE: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const seq = r.u16('seq');
    const length = r.u8('count');
    return { seq, length, params: readParams(r, length) };
  },
  encode(w: BodyWriter, b: Fields): void {
    const list = b.objects('params', 0xff);
    w.u16(b.uint('seq', 0xffff));
    w.u8(list.length);
    writeParams(w, list);
  },
};

/** 8106: {length, ids: [DWORD]} */
export const QUERY_PARAMS: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const length = r.u8('count');
    const ids: number[] = [];
    for (let i = 0; i < length; i++) ids.push(r.u32('parameter id'));
    return { length, ids };
  },
  encode(w: BodyWriter, b: Fields): void {
    const ids = b.uints('ids', 0xff, 0xffffffff);
    w.u8(ids.length);
    for (const id of ids) w.u32(id);
  },
};

/** 8105: {command, param}; param is the STRING of parameters some commands take. */
export const TERMINAL_CONTROL: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ command: r.u8('command'), param: r.restText() }),
  encode(w: BodyWriter, b: Fields): void {
    w.u8(b.uint('command', 0xff));
    w.bytes(encodeGbk(b.str('param', '')));
  },
};

/** 0107: terminal attributes; model and id are 20 and 7 bytes in 2013, 30 and 30 in 2019. */
export const QUERY_ATTRIBUTES_RESPONSE: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const type = r.u16('type');
    const manufacturer = r.text(5, 'manufacturer');
    const model = r.text(is2019 ? 30 : 20, 'model');
    const id = r.text(is2019 ? 30 : 7, 'id');
    const iccid = r.bcd(10, 'iccid');
    const hardware_version = r.text(r.u8('hardware version length'), 'hardware_version');
    const firmware_version = r.text(r.u8('firmware version length'), 'firmware_version');
    const gnss_prop = r.u8('gnss_prop');
    const comm_prop = r.u8('comm_prop');
    return { type, manufacturer, model, id, iccid, hardware_version, firmware_version, gnss_prop, comm_prop };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    w.u16(b.uint('type', 0xffff));
    w.fixed(encodeGbk(b.str('manufacturer')), 5, 'body.manufacturer');
    w.fixed(encodeGbk(b.str('model')), is2019 ? 30 : 20, 'body.model');
    w.fixed(encodeGbk(b.str('id')), is2019 ? 30 : 7, 'body.id');
    w.bcd(b.str('iccid'), 10);
    for (const key of ['hardware_version', 'firmware_version']) {
      const v = encodeGbk(b.str(key));
      if (v.length > 0xff) throw new Jt808InputError(`body.${key} is ${v.length} bytes, at most 255 fit`);
      w.u8(v.length);
      w.bytes(v);
    }
    w.u8(b.uint('gnss_prop', 0xff));
    w.u8(b.uint('comm_prop', 0xff));
  },
};

/** 8108: {type, manufacturer, ver_len, version, fw_len, firmware (base64)}; lengths are derived when sending. */
export const UPGRADE: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const type = r.u8('type');
    const manufacturer = r.text(5, 'manufacturer');
    const ver_len = r.u8('version length');
    const version = r.text(ver_len, 'version');
    const fw_len = r.u32('firmware length');
    const firmware = r.base64(fw_len, 'firmware');
    return { type, manufacturer, ver_len, version, fw_len, firmware };
  },
  encode(w: BodyWriter, b: Fields): void {
    w.u8(b.uint('type', 0xff));
    w.fixed(encodeGbk(b.str('manufacturer')), 5, 'body.manufacturer');
    const version = encodeGbk(b.str('version'));
    if (version.length > 0xff) throw new Jt808InputError(`body.version is ${version.length} bytes, at most 255 fit`);
    w.u8(version.length);
    w.bytes(version);
    const firmware = b.b64('firmware');
    w.u32(firmware.length);
    w.bytes(firmware);
  },
};

/** 0108: {type, result} */
export const UPGRADE_RESULT: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ type: r.u8('type'), result: r.u8('result') }),
  encode(w: BodyWriter, b: Fields): void {
    w.u8(b.uint('type', 0xff));
    w.u8(b.uint('result', 0xff));
  },
};

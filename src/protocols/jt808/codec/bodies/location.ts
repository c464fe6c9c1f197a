/**
 * Location messages: 0200 report (with its extra items), 0201 query response, 0500 vehicle
 * control response, 0704 bulk reports; and the commands 8202 (track) and 8500 (vehicle control).
 *
 * 0200 body: alarm DW, status DW, latitude DW, longitude DW (degrees x 10^6), altitude W,
 * speed W (0.1 km/h), direction W, time BCD[6] YYMMDDhhmmss (UTC+8), then `id B, length B,
 * value` items until the end.
 */
import { hex4, type BodyReader, type BodyWriter } from '../bytes.js';
import { Jt808BodyError, Jt808InputError } from '../errors.js';
import type { Fields, JsonObject } from '../json-fields.js';
import type { BodyCodec } from './types.js';

/** Fixed part of a location report (before the extra items). */
export const LOCATION_BASE_LENGTH = 28;

// Extended vehicle signal bits (extra item 0x25), bit 0 first.
const SIGNAL_BITS = ['low_beam', 'high_beam', 'right_turn', 'left_turn', 'brake', 'reverse', 'fog', 'side_marker', 'horn', 'air_conditioner', 'neutral', 'retarder', 'abs', 'heater', 'cluth'] as const;

/** Reads a location report ending at `end` (extras included). */
export function readLocation(r: BodyReader, end: number, is2019: boolean): JsonObject {
  if (end - r.pos < LOCATION_BASE_LENGTH) {
    throw new Jt808BodyError(`body of 0x${hex4(r.msgId)} too short: location needs ${LOCATION_BASE_LENGTH} bytes, ${end - r.pos} left`);
  }
  const out: JsonObject = {
    alarm: r.u32(),
    status: r.u32(),
    latitude: r.u32(),
    longitude: r.u32(),
    altitude: r.u16(),
    speed: r.u16(),
    direction: r.u16(),
    time: r.bcd(6),
  };
  if (r.pos < end) out['extra'] = readExtras(r, end, is2019);
  return out;
}

function readExtras(r: BodyReader, end: number, is2019: boolean): JsonObject {
  const extra: JsonObject = {};
  const buf = r.buf;
  while (r.pos < end) {
    if (end - r.pos < 2) {
      // A lone byte cannot be an item; keep it visible rather than lose it.
      extra['trailing'] = r.base64(end - r.pos);
      break;
    }
    const id = r.u8();
    const len = r.u8();
    if (r.pos + len > end) {
      extra[String(id)] = r.base64(end - r.pos);
      break;
    }
    const at = r.pos;
    let known = true;
    switch (id) {
      case 0x01:
        if (len === 4) extra['mileage'] = buf.readUInt32BE(at);
        else known = false;
        break;
      case 0x02:
        if (len === 2) extra['fuel_meter'] = buf.readUInt16BE(at);
        else known = false;
        break;
      case 0x03:
        if (len === 2) extra['speed'] = buf.readUInt16BE(at);
        else known = false;
        break;
      case 0x04:
        if (len === 2) extra['alarm_id'] = buf.readUInt16BE(at);
        else known = false;
        break;
      case 0x05:
        if (is2019) extra['tire_pressure'] = buf.toString('base64', at, at + len);
        else known = false;
        break;
      case 0x06:
        if (is2019 && len === 2) extra['carriage_temp'] = buf.readInt16BE(at);
        else known = false;
        break;
      case 0x11:
        if (len === 1) extra['overspeed_alarm'] = { type: buf[at]! };
        else if (len === 5) extra['overspeed_alarm'] = { type: buf[at]!, id: buf.readUInt32BE(at + 1) };
        else known = false;
        break;
      case 0x12:
        if (len === 6) extra['in_out_alarm'] = { type: buf[at]!, id: buf.readUInt32BE(at + 1), direction: buf[at + 5]! };
        else known = false;
        break;
      case 0x13:
        if (len === 7) extra['path_time_alarm'] = { id: buf.readUInt32BE(at), time: buf.readUInt16BE(at + 4), result: buf[at + 6]! };
        else known = false;
        break;
      case 0x25:
        if (len === 4) {
          const bits = buf.readUInt32BE(at);
          const signal: JsonObject = {};
          for (let i = 0; i < SIGNAL_BITS.length; i++) signal[SIGNAL_BITS[i]!] = (bits >>> i) & 1;
          extra['signal'] = signal;
        } else known = false;
        break;
      case 0x2a:
        if (len === 2) {
          const bits = buf.readUInt16BE(at);
          extra['io_status'] = { deep_sleep: bits & 1, sleep: (bits >> 1) & 1 };
        } else known = false;
        break;
      case 0x2b:
        if (len === 4) extra['analog'] = { ad0: buf.readUInt16BE(at + 2), ad1: buf.readUInt16BE(at) };
        else known = false;
        break;
      case 0x30:
        if (len === 1) extra['rssi'] = buf[at]!;
        else known = false;
        break;
      case 0x31:
        if (len === 1) extra['gnss_sat_num'] = buf[at]!;
        else known = false;
        break;
      default:
        known = false;
    }
    if (!known) {
      const value = buf.toString('base64', at, at + len);
      if (id >= 0xe0) {
        const custom = (extra['custome'] as JsonObject | undefined) ?? (extra['custome'] = {} as JsonObject);
        (custom as JsonObject)[String(id)] = value;
      } else extra[String(id)] = value;
    }
    r.pos = at + len;
  }
  return extra;
}

/** Writes a location report from its JSON (extras in the order given). */
export function writeLocation(w: BodyWriter, b: Fields, _is2019: boolean): void {
  w.u32(b.uint('alarm', 0xffffffff));
  w.u32(b.uint('status', 0xffffffff));
  w.u32(b.uint('latitude', 0xffffffff));
  w.u32(b.uint('longitude', 0xffffffff));
  w.u16(b.uint('altitude', 0xffff));
  w.u16(b.uint('speed', 0xffff));
  w.u16(b.uint('direction', 0xffff));
  w.bcd(b.str('time'), 6);
  if (b.has('extra')) writeExtras(w, b.sub('extra'));
}

function item(w: BodyWriter, id: number, len: number): void {
  w.u8(id);
  w.u8(len);
}

function writeExtras(w: BodyWriter, e: Fields): void {
  for (const key of Object.keys(e.obj)) {
    switch (key) {
      case 'mileage':
        item(w, 0x01, 4);
        w.u32(e.uint(key, 0xffffffff));
        break;
      case 'fuel_meter':
        item(w, 0x02, 2);
        w.u16(e.uint(key, 0xffff));
        break;
      case 'speed':
        item(w, 0x03, 2);
        w.u16(e.uint(key, 0xffff));
        break;
      case 'alarm_id':
        item(w, 0x04, 2);
        w.u16(e.uint(key, 0xffff));
        break;
      case 'tire_pressure': {
        const v = e.b64(key);
        if (v.length > 0xff) throw new Jt808InputError(`${e.where}.${key} is ${v.length} bytes, at most 255 fit`);
        item(w, 0x05, v.length);
        w.bytes(v);
        break;
      }
      case 'carriage_temp':
        item(w, 0x06, 2);
        w.i16(e.int(key, -32768, 32767));
        break;
      case 'overspeed_alarm': {
        const o = e.sub(key);
        const type = o.uint('type', 0xff);
        if (o.has('id')) {
          item(w, 0x11, 5);
          w.u8(type);
          w.u32(o.uint('id', 0xffffffff));
        } else {
          item(w, 0x11, 1);
          w.u8(type);
        }
        break;
      }
      case 'in_out_alarm': {
        const o = e.sub(key);
        item(w, 0x12, 6);
        w.u8(o.uint('type', 0xff));
        w.u32(o.uint('id', 0xffffffff));
        w.u8(o.uint('direction', 0xff));
        break;
      }
      case 'path_time_alarm': {
        const o = e.sub(key);
        item(w, 0x13, 7);
        w.u32(o.uint('id', 0xffffffff));
        w.u16(o.uint('time', 0xffff));
        w.u8(o.uint('result', 0xff));
        break;
      }
      case 'signal': {
        const o = e.sub(key);
        let bits = 0;
        for (let i = 0; i < SIGNAL_BITS.length; i++) bits |= o.uint(SIGNAL_BITS[i]!, 1, 0) << i;
        item(w, 0x25, 4);
        w.u32(bits);
        break;
      }
      case 'io_status': {
        const o = e.sub(key);
        item(w, 0x2a, 2);
        w.u16(o.uint('deep_sleep', 1, 0) | (o.uint('sleep', 1, 0) << 1));
        break;
      }
      case 'analog': {
        const o = e.sub(key);
        item(w, 0x2b, 4);
        w.u16(o.uint('ad1', 0xffff));
        w.u16(o.uint('ad0', 0xffff));
        break;
      }
      case 'rssi':
        item(w, 0x30, 1);
        w.u8(e.uint(key, 0xff));
        break;
      case 'gnss_sat_num':
        item(w, 0x31, 1);
        w.u8(e.uint(key, 0xff));
        break;
      case 'custome': {
        const c = e.sub(key);
        for (const id of Object.keys(c.obj)) rawItem(w, c, id);
        break;
      }
      default:
        rawItem(w, e, key);
    }
  }
}

/** An item given by its decimal id with a base64 value. */
function rawItem(w: BodyWriter, f: Fields, key: string): void {
  const id = Number(key);
  if (!/^[0-9]{1,3}$/.test(key) || id > 0xff) throw new Jt808InputError(`${f.where}.${key} is not a known extra item nor a decimal item id 0..255`);
  const v = f.b64(key);
  if (v.length > 0xff) throw new Jt808InputError(`${f.where}.${key} is ${v.length} bytes, at most 255 fit`);
  item(w, id, v.length);
  w.bytes(v);
}

/** 0200 */
export const LOCATION_REPORT: BodyCodec = {
  decode: (r: BodyReader, is2019: boolean): JsonObject => readLocation(r, r.end, is2019),
  encode: writeLocation,
};

/** 0201: {seq, params: location} */
export const LOCATION_QUERY_RESPONSE: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const seq = r.u16('seq');
    return { seq, params: readLocation(r, r.end, is2019) };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    w.u16(b.uint('seq', 0xffff));
    writeLocation(w, b.sub('params'), is2019);
  },
};

/** 0500: {seq, location} */
export const VEHICLE_CONTROL_RESPONSE: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const seq = r.u16('seq');
    return { seq, location: readLocation(r, r.end, is2019) };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    w.u16(b.uint('seq', 0xffff));
    writeLocation(w, b.sub('location'), is2019);
  },
};

/** 0704: count W, type B, then count x (length W, location): {type, length, location: [...]} */
export const BULK_LOCATION: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const count = r.u16('count');
    const type = r.u8('type');
    const location: JsonObject[] = [];
    for (let i = 0; i < count; i++) {
      const len = r.u16('item length');
      r.need(len, `location ${i + 1} of ${count}`);
      location.push(readLocation(r, r.pos + len, is2019));
    }
    return { type, length: count, location };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    const items = b.objects('location', 0xffff);
    w.u16(items.length);
    w.u8(b.uint('type', 0xff));
    for (const it of items) {
      const lenAt = w.pos;
      w.u16(0);
      writeLocation(w, it, is2019);
      w.buf.writeUInt16BE(w.pos - lenAt - 2, lenAt);
    }
  },
};

/** 8202: {period W (s), expiry DW (s)} */
export const TRACK_LOCATION: BodyCodec = {
  decode: (r: BodyReader): JsonObject => ({ period: r.u16('period'), expiry: r.u32('expiry') }),
  encode(w: BodyWriter, b: Fields): void {
    w.u16(b.uint('period', 0xffff));
    w.u32(b.uint('expiry', 0xffffffff));
  },
};

/**
 * 8500. 2013: {flag}. 2019: {count, controls: [{id, param}]}; a numeric param is one BYTE
 * (control 0x0001, doors), a string param is base64 bytes.
 */
export const VEHICLE_CONTROL: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    if (!is2019) return { flag: r.u8('flag') };
    const count = r.u16('count');
    const controls: JsonObject[] = [];
    for (let i = 0; i < count; i++) {
      const id = r.u16('control id');
      if (id === 0x0001) controls.push({ id, param: r.u8('param') });
      else controls.push({ id, param: r.restBase64() });
    }
    return { count, controls };
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    if (!is2019) {
      w.u8(b.uint('flag', 0xff));
      return;
    }
    const controls = b.objects('controls', 0xffff);
    w.u16(controls.length);
    for (const c of controls) {
      w.u16(c.uint('id', 0xffff));
      const p = c.obj['param'];
      if (typeof p === 'number') w.u8(c.uint('param', 0xff));
      else if (p !== undefined) w.bytes(c.b64('param'));
    }
  },
};

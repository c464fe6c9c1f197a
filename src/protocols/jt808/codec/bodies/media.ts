/**
 * Multimedia and CAN: 0705 CAN data, 0800 media event, 0801 media data, 0805 camera shot
 * response; commands 8800 (media data response) and 8801 (camera shot).
 */
import type { BodyReader, BodyWriter } from '../bytes.js';
import { Jt808InputError } from '../errors.js';
import type { Fields, JsonObject } from '../json-fields.js';
import { LOCATION_BASE_LENGTH, readLocation, writeLocation } from './location.js';
import type { BodyCodec } from './types.js';

/** 0705: count W, time BCD[5] (hhmmss + ms), then count x (id DW with flag bits, data BYTE[8]). */
export const CAN_DATA: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const length = r.u16('count');
    const time = r.bcd(5, 'time');
    const can_data: JsonObject[] = [];
    for (let i = 0; i < length; i++) {
      const word = r.u32('CAN id');
      can_data.push({
        channel: word >>> 31,
        frame_type: (word >>> 30) & 1,
        data_method: (word >>> 29) & 1,
        id: word & 0x1fffffff,
        data: r.base64(8, 'CAN data'),
      });
    }
    return { length, time, can_data };
  },
  encode(w: BodyWriter, b: Fields): void {
    const items = b.objects('can_data', 0xffff);
    w.u16(items.length);
    w.bcd(b.str('time'), 5);
    for (const it of items) {
      const word = (it.uint('channel', 1) << 31) | (it.uint('frame_type', 1) << 30) | (it.uint('data_method', 1) << 29) | it.uint('id', 0x1fffffff);
      w.u32(word >>> 0);
      w.fixed(it.b64('data'), 8, `${it.where}.data`);
    }
  },
};

/** 0800: {id, type, format, event, channel} */
export const MEDIA_EVENT: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    return { id: r.u32('id'), type: r.u8('type'), format: r.u8('format'), event: r.u8('event'), channel: r.u8('channel') };
  },
  encode(w: BodyWriter, b: Fields): void {
    w.u32(b.uint('id', 0xffffffff));
    for (const key of ['type', 'format', 'event', 'channel']) w.u8(b.uint(key, 0xff));
  },
};

/** 0801: media event fields, a 28-byte location, then the data: {..., location, multimedia (base64)} */
export const MEDIA_DATA: BodyCodec = {
  decode(r: BodyReader, is2019: boolean): JsonObject {
    const head = MEDIA_EVENT.decode(r, is2019);
    r.need(LOCATION_BASE_LENGTH, 'location');
    head['location'] = readLocation(r, r.pos + LOCATION_BASE_LENGTH, is2019);
    head['multimedia'] = r.restBase64();
    return head;
  },
  encode(w: BodyWriter, b: Fields, is2019: boolean): void {
    MEDIA_EVENT.encode(w, b, is2019);
    const at = w.pos;
    writeLocation(w, b.sub('location'), is2019);
    if (w.pos - at !== LOCATION_BASE_LENGTH) throw new Jt808InputError('body.location of 0x0801 takes no extra items');
    w.bytes(b.b64('multimedia'));
  },
};

/** 0805: {seq, result, length, ids}; length and ids only when result is 0. */
export const CAMERA_SHOT_RESPONSE: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const seq = r.u16('seq');
    const result = r.u8('result');
    if (result !== 0 || r.remaining === 0) return { seq, result };
    const length = r.u16('count');
    const ids: number[] = [];
    for (let i = 0; i < length; i++) ids.push(r.u32('media id'));
    return { seq, result, length, ids };
  },
  encode(w: BodyWriter, b: Fields): void {
    w.u16(b.uint('seq', 0xffff));
    const result = b.uint('result', 0xff);
    w.u8(result);
    if (result !== 0) return;
    const ids = b.uints('ids', 0xffff, 0xffffffff);
    w.u16(ids.length);
    for (const id of ids) w.u32(id);
  },
};

/** 8800: {mm_id, length, retx_ids}: the packets of media `mm_id` to send again (none = all received). */
export const MEDIA_DATA_RESPONSE: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const mm_id = r.u32('mm_id');
    if (r.remaining === 0) return { mm_id, length: 0, retx_ids: [] };
    const length = r.u8('count');
    const retx_ids: number[] = [];
    for (let i = 0; i < length; i++) retx_ids.push(r.u16('packet id'));
    return { mm_id, length, retx_ids };
  },
  encode(w: BodyWriter, b: Fields): void {
    w.u32(b.uint('mm_id', 0xffffffff));
    const ids = b.has('retx_ids') ? b.uints('retx_ids', 0xff, 0xffff) : [];
    w.u8(ids.length);
    for (const id of ids) w.u16(id);
  },
};

const CAMERA_BYTES = ['save', 'resolution', 'quality', 'bright', 'contrast', 'saturate', 'chromaticity'] as const;

/** 8801: {channel_id, command, period, save, resolution, quality, bright, contrast, saturate, chromaticity} */
export const CAMERA_SHOT: BodyCodec = {
  decode(r: BodyReader): JsonObject {
    const out: JsonObject = { channel_id: r.u8('channel_id'), command: r.u16('command'), period: r.u16('period') };
    for (const key of CAMERA_BYTES) out[key] = r.u8(key);
    return out;
  },
  encode(w: BodyWriter, b: Fields): void {
    w.u8(b.uint('channel_id', 0xff));
    w.u16(b.uint('command', 0xffff));
    w.u16(b.uint('period', 0xffff));
    for (const key of CAMERA_BYTES) w.u8(b.uint(key, 0xff));
  },
};

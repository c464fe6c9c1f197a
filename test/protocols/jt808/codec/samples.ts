/** A JSON body for every listed message id, per edition, as the decoder returns it. */
import type { JsonObject } from '../../../../src/protocols/jt808/codec/json-fields.js';
import { sampleLocation } from '../../../../bench/lib/jt808-terminal.js';

const b64 = (bytes: number[]): string => Buffer.from(bytes).toString('base64');
const N128 = Buffer.alloc(128, 0x7e).toString('base64');

/** [message id, body in 2013, body in 2019] */
export const SAMPLES: ReadonlyArray<readonly [number, JsonObject, JsonObject]> = (() => {
  const loc = sampleLocation();
  const locBase: JsonObject = { ...loc };
  delete locBase['extra'];
  const locFull: JsonObject = {
    ...loc,
    extra: {
      mileage: 1,
      fuel_meter: 2,
      speed: 3,
      alarm_id: 4,
      overspeed_alarm: { type: 1, id: 9 },
      in_out_alarm: { type: 2, id: 7, direction: 1 },
      path_time_alarm: { id: 5, time: 60, result: 1 },
      signal: {
        low_beam: 1,
        high_beam: 0,
        right_turn: 1,
        left_turn: 0,
        brake: 1,
        reverse: 0,
        fog: 0,
        side_marker: 0,
        horn: 0,
        air_conditioner: 1,
        neutral: 0,
        retarder: 0,
        abs: 1,
        heater: 0,
        cluth: 1,
      },
      io_status: { deep_sleep: 0, sleep: 1 },
      analog: { ad0: 100, ad1: 200 },
      rssi: 25,
      gnss_sat_num: 12,
      '100': b64([1, 2, 3]),
      custome: { '225': b64([0x7d, 0x7e]) },
    },
  };
  const loc2019: JsonObject = { ...locFull, extra: { ...(locFull['extra'] as JsonObject), tire_pressure: b64([1, 2, 3, 4]), carriage_temp: -12 } };
  const same = (id: number, body: JsonObject): [number, JsonObject, JsonObject] => [id, body, body];
  return [
    same(0x0001, { seq: 7, id: 0x8300, result: 0 }),
    same(0x0002, {}),
    same(0x0003, {}),
    same(0x0004, {}),
    same(0x0005, { seq: 3, count: 2, ids: [1, 2] }),
    [
      0x0100,
      { province: 31, city: 115, manufacturer: 'ABCDE', model: 'M-20', dev_id: 'D000001', color: 1, license_number: '京A12345' },
      { province: 31, city: 115, manufacturer: 'ABCDEFGHIJK', model: 'a 30 byte model name........!!', dev_id: 'dev-2019', color: 2, license_number: '沪B54321' },
    ],
    [0x0102, { code: 'auth-code-1' }, { code: 'auth-code-1', imei: '123456789012345', software_version: 'v2.0.1' }],
    same(0x0104, {
      seq: 9,
      length: 4,
      params: [
        { id: 0x0001, value: 60 },
        { id: 0x0013, value: 'host.example' },
        { id: 0x0031, value: 500 },
        { id: 0x0110, value: b64([1, 2, 3, 4, 5, 6, 7, 8]) },
      ],
    }),
    [
      0x0107,
      { type: 3, manufacturer: 'MAKER', model: 'MODEL-2013', id: 'ID00001', iccid: '89860012345678901234', hardware_version: 'HW1', firmware_version: 'FW1.2', gnss_prop: 3, comm_prop: 1 },
      {
        type: 3,
        manufacturer: 'MAKER',
        model: 'MODEL-2019-longer-name',
        id: 'ID-2019-000000001',
        iccid: '89860012345678901234',
        hardware_version: 'HW2',
        firmware_version: 'FW2.0',
        gnss_prop: 15,
        comm_prop: 33,
      },
    ],
    same(0x0108, { type: 0, result: 1 }),
    [0x0200, locFull, loc2019],
    same(0x0201, { seq: 11, params: loc }),
    same(0x0500, { seq: 12, location: loc }),
    same(0x0704, { type: 1, length: 2, location: [loc, sampleLocation(5)] }),
    same(0x0705, {
      length: 2,
      time: '1020304050',
      can_data: [
        { channel: 1, frame_type: 0, data_method: 1, id: 0x123, data: b64([1, 2, 3, 4, 5, 6, 7, 8]) },
        { channel: 0, frame_type: 1, data_method: 0, id: 0x1fffffff, data: b64([0x7e, 0x7d, 0, 0, 0, 0, 0, 0]) },
      ],
    }),
    same(0x0800, { id: 77, type: 0, format: 0, event: 1, channel: 2 }),
    same(0x0801, { id: 77, type: 0, format: 0, event: 1, channel: 2, location: locBase, multimedia: b64([0xff, 0xd8, 0x7e, 0x7d]) }),
    same(0x0900, { type: 0xf1, data: b64([0x7e, 1, 2]) }),
    same(0x0a00, { e: 65537, n: N128 }),
    same(0x8001, { seq: 1, id: 0x0200, result: 0 }),
    [0x8003, { seq: 5, length: 2, ids: [2, 3] }, { seq: 5, length: 3, ids: [2, 3, 4] }],
    same(0x8004, { time: '250102030405' }),
    same(0x8100, { seq: 0, result: 0, auth_code: 'code-123' }),
    same(0x8103, {
      length: 3,
      params: [
        { id: 0x0001, value: 30 },
        { id: 0x0083, value: '粤B11111' },
        { id: 0x0084, value: 2 },
      ],
    }),
    same(0x8104, {}),
    same(0x8105, { command: 4, param: '' }),
    same(0x8106, { length: 2, ids: [1, 0x13] }),
    same(0x8107, {}),
    same(0x8108, { type: 0, manufacturer: 'MAKER', ver_len: 5, version: 'v1.01', fw_len: 4, firmware: b64([0xde, 0xad, 0xbe, 0xef]) }),
    same(0x8201, {}),
    same(0x8202, { period: 10, expiry: 3600 }),
    [0x8300, { flag: 8, text: '你好 world' }, { flag: 8, text_type: 2, text: '你好 world' }],
    [0x8500, { flag: 1 }, { count: 1, controls: [{ id: 1, param: 1 }] }],
    same(0x8800, { mm_id: 77, length: 2, retx_ids: [3, 4] }),
    same(0x8801, { channel_id: 1, command: 2, period: 5, save: 1, resolution: 3, quality: 5, bright: 128, contrast: 64, saturate: 64, chromaticity: 64 }),
    same(0x8900, { type: 0xf1, data: b64([9, 8, 7]) }),
    same(0x8a00, { e: 3, n: N128 }),
  ];
})();

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDownlink, CommandError } from '../../../../src/protocols/gbt32960/codec/downlink.js';
import { decodeDataUnit } from '../../../../src/protocols/gbt32960/codec/data-unit.js';
import { VIN, TIME } from '../helpers.js';

const ALL_PARAMS_HEX =
  '01138802' +
  '00C8' +
  '037530' +
  '040A05' +
  Buffer.from('google.com').toString('hex') +
  '061F90' +
  '07' +
  Buffer.from('1.0.0').toString('hex') +
  '08' +
  Buffer.from('0.0.1').toString('hex') +
  '093C' +
  '0A003C' +
  '0B003C' +
  '0C0A' +
  '0D0E0E' +
  Buffer.from('www.google.com').toString('hex') +
  '0F2382' +
  '1001';
const ALL_PARAMS = [
  { '0x01': 5000 },
  { '0x02': 200 },
  { '0x03': 30000 },
  { '0x04': 10 },
  { '0x05': 'google.com' },
  { '0x06': 8080 },
  { '0x07': '1.0.0' },
  { '0x08': '0.0.1' },
  { '0x09': 60 },
  { '0x0A': 60 },
  { '0x0B': 60 },
  { '0x0C': 10 },
  { '0x0D': 14 },
  { '0x0E': 'www.google.com' },
  { '0x0F': 9090 },
  { '0x10': 1 },
];

function build(json: unknown): { command: number; flag: number; vin: string; data: Buffer } {
  const { command, frame } = buildDownlink(Buffer.from(JSON.stringify(json)), VIN, TIME);
  assert.equal(frame[2], command);
  return { command, flag: frame[3]!, vin: frame.toString('latin1', 4, 21), data: frame.subarray(24, frame.length - 1) };
}

test('Query: time, Total, one byte per id (EMQX contract)', () => {
  const q = build({ Action: 'Query', Total: 2, Ids: ['0x01', '0x02'] });
  assert.equal(q.command, 0x80);
  assert.equal(q.flag, 0xfe);
  assert.equal(q.vin, VIN);
  assert.equal(q.data.toString('hex'), '100101023b00' + '02' + '0102');
  assert.equal(
    build({ Action: 'Query', Ids: [16, '0x0f'] })
      .data.subarray(6)
      .toString('hex'),
    '02100f',
    'numbers and hex strings both name ids; Total may be left out',
  );
});

test('Setting: all 16 parameters encode as EMQX sends them (domain lengths right before the names)', () => {
  const s = build({ Action: 'Setting', Total: 16, Params: ALL_PARAMS });
  assert.equal(s.command, 0x81);
  assert.equal(s.data.length, 76 - 0, 'EMQX: data length 76');
  assert.equal(s.data.subarray(6).toString('hex').toUpperCase(), ('10' + ALL_PARAMS_HEX).toUpperCase());
});

test("the vehicle's answer to a Query decodes to EMQX's response JSON", () => {
  const data = Buffer.concat([Buffer.from([17, 2, 2, 11, 12, 12, 16]), Buffer.from(ALL_PARAMS_HEX, 'hex')]);
  assert.deepEqual(decodeDataUnit(0x80, data, false), { Time: { Year: 17, Month: 2, Day: 2, Hour: 11, Minute: 12, Second: 12 }, Total: 16, Params: ALL_PARAMS });
});

test('Control: shutdown, alarm and remote upgrade parameters', () => {
  assert.equal(build({ Action: 'Control', Command: '0x02' }).data.subarray(6).toString('hex'), '02');
  const alarm = build({ Action: 'Control', Command: '0x06', Param: { Level: 1, Message: 'This is a configured alarm message!' } });
  assert.equal(alarm.data.length, 43);
  const upgrade = build({
    Action: 'Control',
    Command: '0x01',
    Param: {
      DialingName: 'emqtt',
      Username: 'eusername',
      Password: 'password',
      Ip: '192.168.1.1',
      Port: 8080,
      ManufacturerId: 'BMW1',
      HardwareVer: '1.0.0',
      SoftwareVer: '0.0.1',
      UpgradeUrl: 'ftp://emqtt.io/ftp/server',
      Timeout: 10,
    },
  });
  const expected = Buffer.concat([
    Buffer.from('emqtt;eusername;password;'),
    Buffer.from([0, 0, 192, 168, 1, 1]),
    Buffer.from(';'),
    Buffer.from([0x1f, 0x90]),
    Buffer.from(';BMW1;1.0.0;0.0.1;ftp://emqtt.io/ftp/server;'),
    Buffer.from([0, 10]),
  ]);
  assert.equal(upgrade.data.length, 87);
  assert.deepEqual(upgrade.data.subarray(7), expected);
  // The vehicle echoes it back: decoded positionally, even though 0x3B (';') may sit inside binary fields.
  const answer = decodeDataUnit(0x82, Buffer.concat([Buffer.from([17, 2, 2, 11, 12, 12, 1]), expected]), false);
  assert.deepEqual(answer['Param'], {
    DialingName: 'emqtt',
    Username: 'eusername',
    Password: 'password',
    Ip: '192.168.1.1',
    Port: 8080,
    ManufacturerId: 'BMW1',
    HardwareVer: '1.0.0',
    SoftwareVer: '0.0.1',
    UpgradeUrl: 'ftp://emqtt.io/ftp/server',
    Timeout: 10,
  });
  const semicolonPort = Buffer.concat([
    Buffer.from(';;;'),
    Buffer.from([0, 0, 10, 0, 0, 59]),
    Buffer.from(';'),
    Buffer.from([0x3b, 0x3b]),
    Buffer.from(';BMW1;1.0.0;0.0.1;;'),
    Buffer.from([0x3b, 0x3b]),
  ]);
  const odd = decodeDataUnit(0x82, Buffer.concat([Buffer.from([17, 2, 2, 11, 12, 12, 1]), semicolonPort]), false)['Param'] as Record<string, unknown>;
  assert.deepEqual([odd['Ip'], odd['Port'], odd['Timeout'], odd['HardwareVer']], ['10.0.0.59', 0x3b3b, 0x3b3b, '1.0.0']);
});

test('bad downlink JSON is refused with a message saying what is wrong', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ Action: 'Reboot' }, /"Action" must be "Query", "Setting" or "Control"/],
    [{ Action: 'Query', Total: 3, Ids: ['0x01'] }, /"Total" is 3 but "Ids" holds 1 entries/],
    [{ Action: 'Query', Ids: ['0x1FF'] }, /Ids\[0\] must be a byte/],
    [{ Action: 'Setting', Params: [{ '0x01': 70000 }] }, /parameter 0x01 must be an integer between 0 and 65535/],
    [{ Action: 'Setting', Params: [{ '0x04': 3 }, { '0x05': 'abcd' }] }, /parameter 0x04 is 3 but parameter 0x05 is 4 bytes long/],
    [{ Action: 'Setting', Params: [{ '0x05': 'abcd' }] }, /parameter 0x05 \(a domain\) needs parameter 0x04/],
    [{ Action: 'Setting', Params: [{ '0x07': '1.0' }] }, /parameter 0x07 must be 5 bytes/],
    [{ Action: 'Setting', Params: [{ '0x11': 1 }] }, /parameter 0x11 is not one of 0x01-0x10/],
    [{ Action: 'Control', Command: '0x09' }, /"Command" 0x09 is not a control command/],
    [{ Action: 'Control', Command: '0x01', Param: { Ip: 'example.com' } }, /Param.Ip must be an IPv4 address/],
  ];
  for (const [json, message] of cases) {
    assert.throws(
      () => buildDownlink(Buffer.from(JSON.stringify(json)), VIN, TIME),
      (err: unknown) => err instanceof CommandError && message.test(err.message),
      JSON.stringify(json),
    );
  }
  assert.throws(() => buildDownlink(Buffer.from('{nope'), VIN, TIME), /payload is not JSON/);
});

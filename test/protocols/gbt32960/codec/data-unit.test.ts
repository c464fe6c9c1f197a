import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDataUnit } from '../../../../src/protocols/gbt32960/codec/data-unit.js';
import { aesDecrypt, aesEncrypt, parseAesKeyFile } from '../../../../src/protocols/gbt32960/codec/crypto.js';
import { uplinkData, upstreamIndex, UPSTREAM_SUFFIXES } from '../../../../src/protocols/gbt32960/uplink.js';
import { VECTORS, hex, loginData, logoutData, platformLoginData } from '../helpers.js';

const T = { Year: 16, Month: 1, Day: 1, Hour: 2, Minute: 59, Second: 0 };

test("vehicle login (PROTOCOLS.md vector) decodes to EMQX's vlogin Data", () => {
  const bytes = hex(VECTORS.login);
  assert.deepEqual(decodeDataUnit(0x01, bytes.subarray(24, bytes.length - 1), false), {
    Time: { Year: 12, Month: 12, Day: 29, Hour: 12, Minute: 19, Second: 20 },
    Seq: 1,
    ICCID: '12345678901234567890',
    Num: 1,
    Length: 1,
    Id: 'C',
  });
});

test('logouts, platform login and the commands without data decode', () => {
  assert.deepEqual(decodeDataUnit(0x04, logoutData(9), false), { Time: T, Seq: 9 });
  assert.deepEqual(decodeDataUnit(0x06, logoutData(3), false), { Time: T, Seq: 3 });
  assert.deepEqual(decodeDataUnit(0x05, platformLoginData('platform', 'secret'), false), { Time: T, Seq: 7, Username: 'platform', Password: 'secret', Encrypt: 1 });
  assert.deepEqual(decodeDataUnit(0x07, Buffer.alloc(0), false), {});
  assert.deepEqual(decodeDataUnit(0x08, Buffer.alloc(0), false), {});
  assert.deepEqual(decodeDataUnit(0x81, Buffer.from([17, 2, 2, 11, 12, 12, 2, 1, 0x13, 0x88, 2, 0, 200]), false)['Params'], [{ '0x01': 5000 }, { '0x02': 200 }]);
  assert.deepEqual(decodeDataUnit(0x82, Buffer.from([17, 2, 2, 11, 12, 12, 2]), false), { Time: { Year: 17, Month: 2, Day: 2, Hour: 11, Minute: 12, Second: 12 }, Command: 2, Param: '' });
});

test('a login missing its codes keeps what it read and says what is missing', () => {
  const data = loginData(1, '12345678901234567890', ['AB', 'CD']);
  const unit = decodeDataUnit(0x01, data.subarray(0, data.length - 1), false);
  assert.equal(unit['Num'], 2);
  assert.equal(unit['Error'], 'truncated rechargeable system codes (2 x 2 bytes): needs 4 bytes at offset 30, 3 left');
  assert.equal(decodeDataUnit(0x04, Buffer.concat([logoutData(), Buffer.from([1])]), false)['Error'], '1 unexpected bytes after the data unit of command 0x04 at data offset 8');
});

test('custom commands pass on as hex; unknown ones too, with an error', () => {
  assert.deepEqual(decodeDataUnit(0xc1, Buffer.from([1, 2, 0xab]), false), { Raw: '0102AB' });
  assert.deepEqual(decodeDataUnit(0x30, Buffer.from([1]), false), { Raw: '01', Error: 'unknown command 0x30: data unit passed on undecoded' });
});

test('topics follow EMQX: commands by name, answers to upstream/response, the rest transparent', () => {
  const name = (cmd: number, flag: number): string => UPSTREAM_SUFFIXES[upstreamIndex(cmd, flag)]!;
  assert.deepEqual([name(1, 0xfe), name(2, 0xfe), name(3, 0xfe), name(4, 0xfe), name(5, 0xfe), name(6, 0xfe)], ['vlogin', 'info', 'reinfo', 'vlogout', 'plogin', 'plogout']);
  assert.deepEqual([name(0x80, 0x01), name(0x81, 0x02), name(0x82, 0x03)], ['response', 'response', 'response']);
  assert.deepEqual([name(0xc0, 0xfe), name(0x30, 0xfe)], ['transparent', 'transparent']);
});

test('AES-128 data units are decrypted with the configured key (ECB and CBC); without a key they stay hex with an error', () => {
  const ecb = parseAesKeyFile('00112233445566778899aabbccddeeff\n', 'ecb');
  const cbc = parseAesKeyFile('00112233445566778899aabbccddeeff 0f0e0d0c0b0a09080706050403020100', 'cbc');
  const plain = logoutData(5);
  for (const key of [ecb, cbc]) {
    const cipher = aesEncrypt(key, plain);
    assert.deepEqual(aesDecrypt(key, cipher), plain);
    assert.deepEqual(uplinkData(0x04, 0x03, cipher, key, false), { Time: T, Seq: 5 });
  }
  const cipher = aesEncrypt(ecb, plain);
  assert.deepEqual(uplinkData(0x04, 0x03, cipher, null, false), { Raw: cipher.toString('hex').toUpperCase(), Error: 'data unit is AES-128 encrypted and no --gbt32960-aes-key-file is configured' });
  assert.match(String(uplinkData(0x04, 0x03, Buffer.alloc(5), ecb, false)['Error']), /not a whole number of 16-byte blocks/);
  assert.match(String(uplinkData(0x04, 0x03, aesEncrypt(cbc, plain), ecb, false)['Error']), /decryption failed/);
  assert.match(String(uplinkData(0x04, 0x02, plain, ecb, false)['Error']), /RSA encrypted/);
  assert.throws(() => parseAesKeyFile('abc', 'ecb'), /32 hex digits/);
  assert.throws(() => parseAesKeyFile('00112233445566778899aabbccddeeff', 'cbc'), /IV/);
});

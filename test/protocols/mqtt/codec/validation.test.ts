import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../../../../src/protocols/mqtt/codec/decode.js';
import { decodePublishFromScan } from '../../../../src/protocols/mqtt/codec/decode-publish.js';
import { SCAN_HEADER, SCAN_STRIDE, scanFrames } from '../../../../src/protocols/mqtt/codec/scanner.js';
import type { ProtocolVersion } from '../../../../src/protocols/mqtt/codec/packets.js';
import { type ExpectedError, assertThrowsCodec, hex, malformed, protocol } from './helpers.js';

/** A packet from its first byte and body hex; the remaining length is computed. */
function pkt(first: number, body: string): Buffer {
  const b = hex(body);
  const len: number[] = [];
  let n = b.length;
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    len.push(d);
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...len]), b]);
}

const MQTT = '00044d515454';
/** A 5.0 CONNECT with the given connect flags, property block and payload. */
const connect5 = (flags: string, props: string, payload: string): Buffer => pkt(0x10, `${MQTT} 05 ${flags} 003c ${props} ${payload}`);
const connect4 = (flags: string, payload: string): Buffer => pkt(0x10, `${MQTT} 04 ${flags} 003c ${payload}`);
const CID = '0001 63';

const TOPIC_INVALID = (message: RegExp): ExpectedError => ({ name: 'TopicNameInvalidError', code: 'JN_PROTOCOL', reason: 0x82, message });

interface Case {
  name: string;
  version: ProtocolVersion;
  bytes: Buffer;
  expected: ExpectedError;
}

const CASES: Case[] = [
  // Fixed header [MQTT-2.1.3-1]
  { name: 'packet type 0 is reserved', version: 4, bytes: hex('0000'), expected: malformed(/packet type 0 is reserved/) },
  { name: 'PUBREL must have flags 0b0010 [MQTT-3.6.1-1]', version: 4, bytes: hex('60020001'), expected: malformed(/PUBREL: reserved flag bits are 0b0000, must be 0b0010/) },
  { name: 'SUBSCRIBE must have flags 0b0010 [MQTT-3.8.1-1]', version: 4, bytes: pkt(0x80, '0001 000161 00'), expected: malformed(/SUBSCRIBE: reserved flag bits/) },
  { name: 'UNSUBSCRIBE must have flags 0b0010 [MQTT-3.10.1-1]', version: 4, bytes: pkt(0xa0, '0001 000161'), expected: malformed(/UNSUBSCRIBE: reserved flag bits/) },
  { name: 'PUBACK with flags 0b0010', version: 4, bytes: hex('42020001'), expected: malformed(/PUBACK: reserved flag bits are 0b0010, must be 0b0000/) },
  { name: 'CONNECT with flags 0b0001', version: 4, bytes: hex('1100'), expected: malformed(/CONNECT: reserved flag bits/) },
  { name: 'PINGREQ with flags 0b1000', version: 4, bytes: hex('c800'), expected: malformed(/PINGREQ: reserved flag bits/) },
  { name: '3.1.1 PUBREL with DUP [MQTT-2.2.2-1]', version: 4, bytes: hex('6a020001'), expected: malformed(/PUBREL: reserved flag bits are 0b1010, must be 0b0010/) },
  { name: '5.0 SUBSCRIBE with DUP', version: 5, bytes: pkt(0x8a, '0001 00 000161 00'), expected: malformed(/SUBSCRIBE: reserved flag bits are 0b1010/) },
  { name: '3.1 PUBACK with DUP (only PUBREL, SUBSCRIBE, UNSUBSCRIBE are QoS 1)', version: 3, bytes: hex('48020001'), expected: malformed(/PUBACK: reserved flag bits are 0b1000/) },
  { name: '3.1 PUBREL at QoS 0', version: 3, bytes: hex('60020001'), expected: malformed(/PUBREL: reserved flag bits are 0b0000, must be 0b0010/) },
  { name: 'remaining length shorter than the bytes given', version: 4, bytes: hex('4002000100'), expected: malformed(/PUBACK: remaining length 2 does not match the 3 bytes/) },
  { name: 'remaining length of 5 bytes', version: 4, bytes: hex('c0ffffffff01'), expected: malformed(/PINGREQ: remaining length is longer than 4 bytes/) },
  { name: 'AUTH before MQTT 5', version: 4, bytes: hex('f000'), expected: malformed(/AUTH: packet type 15 is reserved before MQTT 5/) },
  { name: 'PINGREQ with a body [MQTT-3.12]', version: 4, bytes: hex('c00100'), expected: malformed(/PINGREQ: 1 unexpected bytes after the fixed header/) },

  // CONNECT [MQTT-3.1]
  {
    name: 'CONNECT with an unknown protocol name [MQTT-3.1.2-1]',
    version: 4,
    bytes: pkt(0x10, `00044d515458 04 02 003c ${CID}`),
    expected: protocol(/CONNECT: protocol name 'MQTX' is not MQTT or MQIsdp/),
  },
  { name: 'CONNECT reserved flag bit 0 [MQTT-3.1.2-3]', version: 4, bytes: connect4('03', CID), expected: malformed(/CONNECT: reserved flag bit 0 is set/) },
  { name: 'CONNECT will QoS without will flag [MQTT-3.1.2-11]', version: 4, bytes: connect4('0a', CID), expected: protocol(/CONNECT: will QoS is 1 but the will flag is 0/) },
  { name: 'CONNECT will retain without will flag [MQTT-3.1.2-13]', version: 4, bytes: connect4('22', CID), expected: protocol(/CONNECT: will retain is set but the will flag is 0/) },
  { name: 'CONNECT will QoS 3 [MQTT-3.1.2-12]', version: 4, bytes: connect4('1e', `${CID} 000174 0000`), expected: malformed(/CONNECT: will QoS is 3/) },
  {
    name: '3.1.1 CONNECT password without user name [MQTT-3.1.2-22]',
    version: 4,
    bytes: connect4('42', `${CID} 000170`),
    expected: protocol(/CONNECT: password flag is set without the user name flag/),
  },
  { name: '3.1 CONNECT password without user name', version: 3, bytes: pkt(0x10, `00064d51497364700342003c ${CID} 000170`), expected: protocol(/password flag/) },
  { name: 'CONNECT keep alive truncated', version: 4, bytes: pkt(0x10, `${MQTT} 04 02 00`), expected: malformed(/CONNECT: keep alive is truncated/) },
  { name: 'CONNECT client identifier not UTF-8 [MQTT-1.5.4-1]', version: 4, bytes: connect4('02', '0002 c328'), expected: malformed(/CONNECT: client identifier is not valid UTF-8/) },
  {
    name: 'CONNECT client identifier with an encoded surrogate [MQTT-1.5.4-1]',
    version: 4,
    bytes: connect4('02', '0003 eda080'),
    expected: malformed(/CONNECT: client identifier is not valid UTF-8/),
  },
  { name: 'CONNECT client identifier with an overlong encoding [MQTT-1.5.4-1]', version: 4, bytes: connect4('02', '0002 c0af'), expected: malformed(/CONNECT: client identifier is not valid UTF-8/) },
  { name: 'CONNECT client identifier with U+0000 [MQTT-1.5.4-2]', version: 4, bytes: connect4('02', '0002 6100'), expected: malformed(/CONNECT: client identifier contains U\+0000/) },
  { name: 'CONNECT client identifier length past the end', version: 4, bytes: connect4('02', '0005 6162'), expected: malformed(/CONNECT: client identifier \(length 5\) runs past the end/) },
  { name: 'CONNECT trailing bytes after the payload', version: 4, bytes: connect4('02', `${CID} 00`), expected: malformed(/CONNECT: 1 unexpected bytes after the CONNECT payload/) },
  {
    name: 'CONNECT will topic with a wildcard [MQTT-3.1.3-11]',
    version: 4,
    bytes: connect4('06', `${CID} 00032f2b2f 0000`),
    expected: TOPIC_INVALID(/CONNECT: will topic '\/\+\/' contains a wildcard/),
  },
  { name: 'CONNECT will topic empty [MQTT-4.7.3-1]', version: 4, bytes: connect4('06', `${CID} 0000 0000`), expected: TOPIC_INVALID(/CONNECT: will topic is empty/) },
  { name: 'CONNECT will payload truncated', version: 4, bytes: connect4('06', `${CID} 000174 0005 00`), expected: malformed(/CONNECT: will payload \(length 5\) runs past/) },
  { name: 'CONNECT password truncated', version: 4, bytes: connect4('c2', `${CID} 000175 00`), expected: malformed(/CONNECT: password is truncated/) },

  // MQTT 5 properties [MQTT-2.2.2]
  {
    name: 'CONNECT Authentication Data without Authentication Method',
    version: 5,
    bytes: connect5('02', '04 16000161', CID),
    expected: protocol(/CONNECT: Authentication Data without Authentication Method/),
  },
  {
    name: 'duplicate Session Expiry Interval [MQTT-2.2.2-2]',
    version: 5,
    bytes: connect5('02', '0a 1100000001 1100000002', CID),
    expected: protocol(/CONNECT: property Session Expiry Interval \(0x11\) appears more than once/),
  },
  { name: 'Receive Maximum 0', version: 5, bytes: connect5('02', '03 210000', CID), expected: protocol(/CONNECT: property Receive Maximum \(0x21\) is 0/) },
  { name: 'Maximum Packet Size 0', version: 5, bytes: connect5('02', '05 2700000000', CID), expected: protocol(/CONNECT: property Maximum Packet Size \(0x27\) is 0/) },
  { name: 'Request Problem Information 2', version: 5, bytes: connect5('02', '02 1702', CID), expected: protocol(/CONNECT: property Request Problem Information \(0x17\) is 2, only 0 or 1/) },
  { name: 'Request Response Information 5', version: 5, bytes: connect5('02', '02 1905', CID), expected: protocol(/Request Response Information \(0x19\) is 5/) },
  { name: 'Topic Alias in CONNECT is not allowed', version: 5, bytes: connect5('02', '03 230001', CID), expected: malformed(/CONNECT: property Topic Alias \(0x23\) is not allowed in this packet/) },
  {
    name: 'Session Expiry Interval in the will properties is not allowed',
    version: 5,
    bytes: connect5('06', '00', `${CID} 05 1100000001 000174 0000`),
    expected: malformed(/CONNECT will: property Session Expiry Interval \(0x11\) is not allowed/),
  },
  {
    name: 'duplicate Will Delay Interval',
    version: 5,
    bytes: connect5('06', '00', `${CID} 0a 1800000001 1800000001 000174 0000`),
    expected: protocol(/CONNECT will: property Will Delay Interval \(0x18\) appears more than once/),
  },
  { name: 'unknown property identifier', version: 5, bytes: connect5('02', '02 0501', CID), expected: malformed(/CONNECT: unknown property identifier 0x5/) },
  { name: 'property length past the end of the packet', version: 5, bytes: connect5('02', '20', ''), expected: malformed(/CONNECT: property length \(32\) runs past the end of the packet/) },
  { name: 'property value cut by the property length', version: 5, bytes: connect5('02', '03 11000000', `00 ${CID}`), expected: malformed(/CONNECT: Session Expiry Interval is truncated/) },
  { name: 'property length longer than 4 bytes', version: 5, bytes: connect5('02', '8080808000', CID), expected: malformed(/CONNECT: property length is longer than 4 bytes/) },
  { name: 'user property key not UTF-8', version: 5, bytes: connect5('02', '07 260001ff000161', CID), expected: malformed(/CONNECT: user property key 1 is not valid UTF-8/) },
  { name: 'Payload Format Indicator 2', version: 5, bytes: pkt(0x30, '000174 02 0102'), expected: protocol(/PUBLISH: property Payload Format Indicator \(0x01\) is 2/) },
  { name: 'Subscription Identifier 0', version: 5, bytes: pkt(0x82, '0001 02 0b00 000161 00'), expected: protocol(/SUBSCRIBE: property Subscription Identifier \(0x0b\) is 0/) },
  {
    name: 'duplicate Subscription Identifier in SUBSCRIBE',
    version: 5,
    bytes: pkt(0x82, '0001 04 0b01 0b02 000161 00'),
    expected: protocol(/SUBSCRIBE: property Subscription Identifier \(0x0b\) appears more than once/),
  },
  { name: 'Response Topic with a wildcard [MQTT-3.3.2-14]', version: 5, bytes: pkt(0x30, '000174 04 0800012b'), expected: protocol(/PUBLISH: property Response Topic \(0x08\) contains a wildcard/) },
  { name: 'Reason String in PUBLISH is not allowed', version: 5, bytes: pkt(0x30, '000174 04 1f000161'), expected: malformed(/PUBLISH: property Reason String \(0x1f\) is not allowed/) },
  { name: 'Maximum QoS 2 in CONNACK (as mqtt-packet writes it)', version: 5, bytes: pkt(0x20, '00 00 02 2402'), expected: protocol(/CONNACK: property Maximum QoS \(0x24\) is 2, only 0 or 1/) },

  // PUBLISH [MQTT-3.3]
  { name: 'PUBLISH QoS 3 [MQTT-3.3.1-4]', version: 4, bytes: pkt(0x36, '000174 0001'), expected: malformed(/PUBLISH: QoS is 3/) },
  { name: 'PUBLISH DUP at QoS 0 [MQTT-3.3.1-2]', version: 4, bytes: pkt(0x38, '000174'), expected: protocol(/PUBLISH: DUP is set on a QoS 0 message/) },
  { name: 'PUBLISH packet identifier 0 at QoS 1 [MQTT-2.2.1-3]', version: 4, bytes: pkt(0x32, '000174 0000'), expected: protocol(/PUBLISH: packet identifier is 0 at QoS > 0/) },
  { name: 'PUBLISH topic with + [MQTT-3.3.2-2]', version: 4, bytes: pkt(0x30, '0003612f2b'), expected: TOPIC_INVALID(/PUBLISH: topic 'a\/\+' contains a wildcard/) },
  { name: 'PUBLISH topic with # [MQTT-3.3.2-2]', version: 5, bytes: pkt(0x30, '000123 00'), expected: TOPIC_INVALID(/PUBLISH: topic '#' contains a wildcard/) },
  { name: '3.1.1 PUBLISH with an empty topic [MQTT-4.7.3-1]', version: 4, bytes: pkt(0x30, '0000 61'), expected: TOPIC_INVALID(/PUBLISH: topic is empty/) },
  { name: '5.0 PUBLISH with an empty topic and no Topic Alias [MQTT-3.3.2-1]', version: 5, bytes: pkt(0x30, '0000 00 61'), expected: protocol(/PUBLISH: topic is empty and there is no Topic Alias/) },
  { name: 'PUBLISH topic not UTF-8', version: 4, bytes: pkt(0x30, '0001 80'), expected: malformed(/PUBLISH: topic is not valid UTF-8/) },
  { name: 'PUBLISH topic with U+0000', version: 4, bytes: pkt(0x30, '0002 6100'), expected: malformed(/PUBLISH: topic contains U\+0000/) },
  { name: 'PUBLISH topic past the end', version: 4, bytes: pkt(0x30, '0009 61'), expected: malformed(/PUBLISH: topic \(length 9\) runs past the end/) },

  // SUBSCRIBE / UNSUBSCRIBE [MQTT-3.8], [MQTT-3.10]
  { name: 'SUBSCRIBE without filters [MQTT-3.8.3-2]', version: 4, bytes: pkt(0x82, '0001'), expected: protocol(/SUBSCRIBE: no topic filters/) },
  { name: 'SUBSCRIBE packet identifier 0 [MQTT-2.2.1-3]', version: 4, bytes: pkt(0x82, '0000 000161 00'), expected: protocol(/SUBSCRIBE: packet identifier is 0/) },
  { name: 'SUBSCRIBE filter 2 not UTF-8', version: 4, bytes: pkt(0x82, '0001 000161 00 0001ff 00'), expected: malformed(/^SUBSCRIBE: topic filter 2 is not valid UTF-8$/) },
  { name: 'SUBSCRIBE options missing', version: 4, bytes: pkt(0x82, '0001 000161'), expected: malformed(/SUBSCRIBE: subscription options 1 is truncated/) },
  {
    name: '3.1.1 SUBSCRIBE requested QoS byte with upper bits [MQTT-3-8.3-4]',
    version: 4,
    bytes: pkt(0x82, '0001 000161 04'),
    expected: malformed(/SUBSCRIBE: requested QoS byte 1 has reserved bits set/),
  },
  { name: '3.1.1 SUBSCRIBE requested QoS 3 [MQTT-3-8.3-4]', version: 4, bytes: pkt(0x82, '0001 000161 00 000162 03'), expected: malformed(/SUBSCRIBE: requested QoS 2 is 3/) },
  { name: '5.0 SUBSCRIBE options reserved bits [MQTT-3.8.3-5]', version: 5, bytes: pkt(0x82, '0001 00 000161 40'), expected: malformed(/SUBSCRIBE: subscription options 1 has reserved bits set/) },
  { name: '5.0 SUBSCRIBE QoS 3 [MQTT-3.8.3.1]', version: 5, bytes: pkt(0x82, '0001 00 000161 03'), expected: protocol(/SUBSCRIBE: subscription options 1 has QoS 3/) },
  { name: '5.0 SUBSCRIBE retain handling 3 [MQTT-3.8.3.1]', version: 5, bytes: pkt(0x82, '0001 00 000161 30'), expected: protocol(/SUBSCRIBE: subscription options 1 has retain handling 3/) },
  {
    name: '5.0 SUBSCRIBE No Local on a shared subscription [MQTT-3.8.3-4]',
    version: 5,
    bytes: pkt(0x82, `0001 00 0009${Buffer.from('$share/g/').toString('hex')} 04`),
    expected: protocol(/SUBSCRIBE: topic filter 1 is a shared subscription with No Local set/),
  },
  { name: 'UNSUBSCRIBE without filters [MQTT-3.10.3-2]', version: 5, bytes: pkt(0xa2, '0001 00'), expected: protocol(/UNSUBSCRIBE: no topic filters/) },
  { name: 'UNSUBSCRIBE filter 1 not UTF-8', version: 4, bytes: pkt(0xa2, '0001 0001c3'), expected: malformed(/UNSUBSCRIBE: topic filter 1 is not valid UTF-8/) },
  { name: 'UNSUBSCRIBE filter truncated', version: 4, bytes: pkt(0xa2, '0001 0003 61'), expected: malformed(/UNSUBSCRIBE: topic filter 1 \(length 3\) runs past/) },
  { name: 'SUBACK without reason codes', version: 5, bytes: pkt(0x90, '0001 00'), expected: protocol(/SUBACK: no reason codes/) },
  { name: '3.1.1 SUBACK return code 0x8f is 5.0 only', version: 4, bytes: pkt(0x90, '0001 8f'), expected: protocol(/SUBACK: reason code 1 \(0x8f\) is not allowed/) },
  { name: '3.1.1 UNSUBACK with a payload', version: 4, bytes: pkt(0xb0, '0001 00'), expected: malformed(/UNSUBACK: 1 unexpected bytes after the packet identifier/) },

  // Acks, DISCONNECT, AUTH, CONNACK
  { name: 'PUBACK truncated packet identifier', version: 4, bytes: hex('400100'), expected: malformed(/PUBACK: packet identifier is truncated/) },
  { name: '3.1.1 PUBACK with a reason code', version: 4, bytes: hex('4003000100'), expected: malformed(/PUBACK: 1 unexpected bytes after the packet identifier/) },
  { name: 'PUBACK packet identifier 0', version: 5, bytes: hex('40020000'), expected: protocol(/PUBACK: packet identifier is 0/) },
  { name: '5.0 PUBACK reason 0x05', version: 5, bytes: hex('4003000105'), expected: protocol(/PUBACK: reason code 0x5 is not allowed/) },
  { name: '5.0 PUBREL reason 0x10 (PUBACK only)', version: 5, bytes: hex('6203000110'), expected: protocol(/PUBREL: reason code 0x10 is not allowed/) },
  { name: '5.0 PUBACK properties past the end', version: 5, bytes: hex('400500010005 1f'.replace(' ', '')), expected: malformed(/PUBACK: property length \(5\) runs past/) },
  { name: '3.1.1 DISCONNECT with a body', version: 4, bytes: hex('e00100'), expected: malformed(/DISCONNECT: 1 unexpected bytes after the fixed header/) },
  { name: '5.0 DISCONNECT reason 0x05', version: 5, bytes: hex('e00105'), expected: protocol(/DISCONNECT: reason code 0x5 is not allowed/) },
  { name: '5.0 DISCONNECT with Topic Alias', version: 5, bytes: pkt(0xe0, '00 03 230001'), expected: malformed(/DISCONNECT: property Topic Alias \(0x23\) is not allowed/) },
  { name: '5.0 AUTH reason 0x01', version: 5, bytes: pkt(0xf0, '01 00'), expected: protocol(/AUTH: reason code 0x1 is not allowed/) },
  { name: 'CONNACK reserved acknowledge flag bits [MQTT-3.2.2-1]', version: 4, bytes: hex('20020200'), expected: malformed(/CONNACK: reserved acknowledge flag bits are set/) },
  { name: '3.1.1 CONNACK return code 6', version: 4, bytes: hex('20020006'), expected: protocol(/CONNACK: return code 6 is reserved/) },
  { name: 'CONNACK session present with a refusal [MQTT-3.2.2-6]', version: 4, bytes: hex('20020105'), expected: protocol(/CONNACK: session present is set with a non-zero reason code/) },
  { name: '5.0 CONNACK reason 0x10', version: 5, bytes: hex('2003001000'), expected: protocol(/CONNACK: reason code 0x10 is not a CONNACK reason/) },
];

for (const c of CASES) {
  test(`refuses: ${c.name}`, () => {
    assertThrowsCodec(() => decodeFrame(c.bytes, c.version), c.expected);
  });
}

test('3.1 accepts DUP on a retried PUBREL, SUBSCRIBE and UNSUBSCRIBE (3.1 section 2.1)', () => {
  assert.equal(decodeFrame(hex('6a020001'), 3).type, 6);
  assert.equal(decodeFrame(pkt(0x8a, '0001 000161 01'), 3).type, 8);
  assert.equal(decodeFrame(pkt(0xaa, '0001 000161'), 3).type, 10);
});

test('a property not allowed in its packet is malformed (0x81), in every packet (section 2.2.2.2)', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [pkt(0x30, '000174 03 210001 78'), /PUBLISH: property Receive Maximum \(0x21\) is not allowed in this packet/],
    [pkt(0x82, '0001 03 230001 000161 00'), /SUBSCRIBE: property Topic Alias \(0x23\) is not allowed in this packet/],
    [pkt(0xa2, '0001 02 0101 000161'), /UNSUBSCRIBE: property Payload Format Indicator \(0x01\) is not allowed in this packet/],
    [hex('40060001000217 00'.replace(' ', '')), /PUBACK: property Request Problem Information \(0x17\) is not allowed in this packet/],
  ];
  for (const [bytes, message] of cases) assertThrowsCodec(() => decodeFrame(bytes, 5), malformed(message));
});

test('a topic-invalid error carries the marker the caller maps to 0x90', () => {
  try {
    decodeFrame(pkt(0x30, '0003612f2b'), 4);
    assert.fail('no error');
  } catch (err) {
    assert.equal((err as { topicInvalid?: boolean }).topicInvalid, true);
  }
  try {
    decodeFrame(pkt(0x30, '0000 00 61'), 5);
    assert.fail('no error');
  } catch (err) {
    assert.equal((err as { topicInvalid?: boolean }).topicInvalid, undefined, 'a missing alias is a plain protocol error');
  }
});

test('an unsupported protocol level is a distinct error carrying the level (CONNACK 0x84 / return code 1)', () => {
  const cases: Array<[string, number]> = [
    [`${MQTT} 06`, 6],
    [`${MQTT} 03`, 3],
    ['00064d5149736470 04', 4],
  ];
  for (const [head, level] of cases) {
    const bytes = pkt(0x10, `${head} 02 003c ${CID}`);
    assert.throws(
      () => decodeFrame(bytes, 4),
      (err: unknown) => {
        const e = err as { name: string; code: string; reason: number; level: number; message: string };
        assert.equal(e.name, 'UnsupportedProtocolVersionError');
        assert.equal(e.code, 'JN_UNSUPPORTED_VERSION');
        assert.equal(e.reason, 0x84);
        assert.equal(e.level, level);
        assert.match(e.message, new RegExp(`CONNECT: protocol level ${level} is not supported`));
        return true;
      },
    );
  }
});

test('Topic Alias 0 is a Topic Alias invalid error (0x94) [MQTT-3.3.2-8]', () => {
  assertThrowsCodec(() => decodeFrame(pkt(0x30, '000174 03 230000'), 5), {
    name: 'TopicAliasInvalidError',
    code: 'JN_TOPIC_ALIAS_INVALID',
    reason: 0x94,
    message: /PUBLISH: property Topic Alias \(0x23\) is 0/,
  });
});

test('5.0 allows a password without a user name', () => {
  const p = decodeFrame(connect5('42', '00', `${CID} 000170`), 5);
  assert.ok(p.type === 1);
  assert.equal(p.username, null);
  assert.deepEqual(p.password, Buffer.from('p'));
});

test('user properties keep their order and repeats', () => {
  const p = decodeFrame(connect5('02', '15 2600016b000131 2600016b000132 260001610001 33'.replace('0001 33', '000133'), CID), 5);
  assert.ok(p.type === 1);
  assert.deepEqual(p.properties.userProperties, [
    { key: 'k', value: '1' },
    { key: 'k', value: '2' },
    { key: 'a', value: '3' },
  ]);
});

test('valid multi-byte UTF-8 and non-ASCII topics decode', () => {
  const topic = 'température/😀';
  const t = Buffer.from(topic);
  const body = Buffer.concat([Buffer.from([0, t.length]), t, Buffer.from('x')]);
  const p = decodeFrame(pkt(0x30, body.toString('hex')), 4);
  assert.ok(p.type === 3);
  assert.equal(p.topic, topic);
});

test('decodePublishFromScan applies the same PUBLISH rules as decodePacket', () => {
  const out = new Uint32Array(SCAN_HEADER + SCAN_STRIDE);
  const cases: Array<[ProtocolVersion, Buffer, ExpectedError]> = [
    [4, pkt(0x36, '000174 0001'), malformed(/PUBLISH: QoS is 3/)],
    [4, pkt(0x32, '000174 0000'), protocol(/PUBLISH: packet identifier is 0/)],
    [4, pkt(0x30, '0003612f2b'), TOPIC_INVALID(/contains a wildcard/)],
    [5, pkt(0x30, '0000 00 61'), protocol(/no Topic Alias/)],
    [5, pkt(0x30, '000174 02 0102'), protocol(/Payload Format Indicator \(0x01\) is 2/)],
    [5, pkt(0x30, '000174 03 02 0000'), malformed(/Message Expiry Interval is truncated/)],
    [4, pkt(0x30, '0001 80'), malformed(/topic is not valid UTF-8/)],
  ];
  for (const [version, bytes, expected] of cases) {
    scanFrames(bytes, 0, bytes.length, 1 << 20, version === 5, out);
    assert.equal(out[0], 1);
    assertThrowsCodec(() => decodePublishFromScan(bytes, out, 0, version), expected);
  }
});

test("a CONNECT's will payload, password and authentication data outlive the buffer they were read from", () => {
  // 5.0: Authentication Method 'm' and Data 0xAABB; will flag, QoS 0, user name and password.
  const bytes = connect5('c4', '09 1500016d 160002aabb', `${CID} 00 0001 74 0002 7770 0001 75 0002 7077`);
  const p = decodeFrame(bytes, 5);
  assert.equal(p.type, 1);
  if (p.type !== 1) return;
  bytes.fill(0); // the read buffer is reused for the next bytes
  assert.deepEqual([p.will?.payload.toString(), p.password?.toString(), p.properties.authenticationData?.toString('hex')], ['wp', 'pw', 'aabb']);
  assert.deepEqual([p.clientId, p.will?.topic, p.username], ['c', 't', 'u']);
});

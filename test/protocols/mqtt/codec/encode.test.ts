import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PINGRESP,
  encodeAck,
  encodeAuth,
  encodeConnack,
  encodeDisconnect,
  encodePingreq,
  encodePingresp,
  encodePublish,
  encodeSuback,
  encodeSubscribe,
  encodeUnsuback,
  publishPacketIdOffset,
} from '../../../../src/protocols/mqtt/codec/encode.js';
import { PacketType, ReasonCode, connackReasonFromV3, connackReturnCodeV3 } from '../../../../src/protocols/mqtt/codec/constants.js';

const h = (b: Buffer): string => b.toString('hex');

test('connackReturnCodeV3 maps MQTT 5 CONNACK reasons to 3.1.1 return codes', () => {
  const table: Array<[number, number]> = [
    [ReasonCode.Success, 0],
    [ReasonCode.UnsupportedProtocolVersion, 1],
    [ReasonCode.ClientIdNotValid, 2],
    [ReasonCode.ServerUnavailable, 3],
    [ReasonCode.ServerBusy, 3],
    [ReasonCode.Banned, 3],
    [ReasonCode.UnspecifiedError, 3],
    [ReasonCode.ConnectionRateExceeded, 3],
    [ReasonCode.BadUserNameOrPassword, 4],
    [ReasonCode.BadAuthenticationMethod, 4],
    [ReasonCode.NotAuthorized, 5],
  ];
  for (const [reason, code] of table) assert.equal(connackReturnCodeV3(reason), code, `0x${reason.toString(16)}`);
  for (let code = 0; code <= 5; code++) assert.equal(connackReturnCodeV3(connackReasonFromV3(code)), code);
});

test('3.1.1 CONNACK carries the mapped return code; 3.1 never sets session present', () => {
  assert.equal(h(encodeConnack(4, { sessionPresent: false, reasonCode: ReasonCode.BadUserNameOrPassword })), '20020004');
  assert.equal(h(encodeConnack(4, { sessionPresent: true, reasonCode: 0 })), '20020100');
  assert.equal(h(encodeConnack(3, { sessionPresent: true, reasonCode: 0 })), '20020000');
  assert.equal(h(encodeConnack(5, { sessionPresent: false, reasonCode: ReasonCode.Banned })), '2003008a00');
});

test('3.1.1 SUBACK turns every 5.0 failure reason into 0x80', () => {
  assert.equal(h(encodeSuback(4, { packetId: 9, reasonCodes: [0, 2, ReasonCode.NotAuthorized, ReasonCode.TopicFilterInvalid] })), '9006000900028080');
  assert.equal(h(encodeSuback(5, { packetId: 9, reasonCodes: [ReasonCode.NotAuthorized] })), '900400090087');
});

test('3.1.1 UNSUBACK carries only the packet id', () => {
  assert.equal(h(encodeUnsuback(4, { packetId: 3, reasonCodes: [0, 0x11] })), 'b0020003');
  assert.equal(h(encodeUnsuback(5, { packetId: 3, reasonCodes: [0, 0x11] })), 'b00500030000' + '11');
});

test('5.0 acks take the shortest form the spec allows', () => {
  assert.equal(h(encodeAck(PacketType.PUBACK, 5, 1, 0)), '40020001');
  assert.equal(h(encodeAck(PacketType.PUBACK, 5, 1, 0, {})), '40020001');
  assert.equal(h(encodeAck(PacketType.PUBREC, 5, 1, ReasonCode.NoMatchingSubscribers)), '5003000110');
  assert.equal(h(encodeAck(PacketType.PUBREL, 5, 1, 0, { reasonString: 'x' })), '6208000100041f000178');
  assert.equal(h(encodeAck(PacketType.PUBCOMP, 4, 1, ReasonCode.PacketIdNotFound)), '70020001', '3.1.1 has no reason code');
});

test('DISCONNECT omits defaults, AUTH always carries its reason code; PINGRESP is one shared buffer', () => {
  assert.equal(h(encodeDisconnect()), 'e000');
  assert.equal(h(encodeDisconnect(ReasonCode.SessionTakenOver)), 'e0018e');
  assert.equal(h(encodeDisconnect(ReasonCode.ServerMoved, { serverReference: 'h' })), 'e0069d041c000168');
  assert.equal(h(encodeDisconnect(ReasonCode.ServerShuttingDown, {}, 4)), 'e000');
  assert.equal(h(encodeAuth()), 'f0020000');
  assert.equal(h(encodeAuth(ReasonCode.ContinueAuthentication, { authenticationMethod: 'm' })), 'f0061804150001' + '6d');
  assert.equal(encodePingresp(), PINGRESP);
  assert.equal(encodePingresp(), encodePingresp());
  assert.equal(h(encodePingreq()), 'c000');
});

test('PUBLISH: DUP is never written at QoS 0, the packet id offset is found, sizes past 127 use a 2-byte length', () => {
  const q0 = encodePublish(4, { topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, dup: true, packetId: 0 });
  assert.equal(q0[0], 0x30);
  assert.equal(publishPacketIdOffset(q0), -1);
  const big = encodePublish(5, { topic: 'abc', payload: Buffer.alloc(200, 1), qos: 2, retain: true, dup: false, packetId: 0x1234 });
  assert.equal(big[0], 0x35);
  assert.equal(big.length, 3 + 2 + 3 + 2 + 1 + 200);
  const at = publishPacketIdOffset(big);
  assert.equal(big.readUInt16BE(at), 0x1234);
  assert.throws(() => encodePublish(4, { topic: 't', payload: Buffer.alloc(0), qos: 1, retain: false, dup: false, packetId: 0 }), /packet identifier 0/);
});

test('SUBSCRIBE options byte: 3.1.1 writes only the QoS, 5.0 all options', () => {
  const sub = { filter: 'a', qos: 2 as const, noLocal: true, retainAsPublished: true, retainHandling: 1 as const };
  assert.equal(h(encodeSubscribe(4, { packetId: 1, subscriptions: [sub] })), '8206000100016102');
  assert.equal(h(encodeSubscribe(5, { packetId: 1, subscriptions: [sub] })), '82070001000001611e');
});

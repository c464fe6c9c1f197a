/**
 * Hex vectors, each named with the spec clause it exercises: from the MQTT 3.1.1 and 5.0 spec
 * examples, from mqtt-packet's test.js (mqttjs/mqtt-packet 9.0.2), and written by hand.
 * `canonical` vectors are byte-for-byte what our encoder writes; the others (mqtt-packet
 * orders properties differently) must decode and round-trip through our encoder.
 */

import type { Packet, ProtocolVersion } from '../../../../src/protocols/mqtt/codec/packets.js';

export interface Vector {
  name: string;
  version: ProtocolVersion;
  hex: string;
  packet: Packet;
  canonical: boolean;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const x = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const test4 = b('test');

export const VECTORS: Vector[] = [
  {
    name: '[MQTT-3.1] 3.1 CONNECT, minimal (mqtt-packet "minimal connect")',
    version: 3,
    hex: '101200064d514973647003 00 001e 0004 74657374',
    packet: {
      type: 1, protocolName: 'MQIsdp', protocolVersion: 3, cleanStart: false, keepAlive: 30, clientId: 'test',
      will: null, username: null, password: null, properties: {},
    },
    canonical: true,
  },
  {
    name: '[MQTT-3.1.2-3] 3.1 CONNECT with will, user name and password (mqtt-packet "maximal connect")',
    version: 3,
    hex: '103600064d514973647003f6001e0004746573740005746f70696300077061796c6f61640008757365726e616d65000870617373776f7264',
    packet: {
      type: 1, protocolName: 'MQIsdp', protocolVersion: 3, cleanStart: true, keepAlive: 30, clientId: 'test',
      will: { topic: 'topic', payload: b('payload'), qos: 2, retain: true, properties: {} },
      username: 'username', password: b('password'), properties: {},
    },
    canonical: true,
  },
  {
    name: '[MQTT-3.1.2.10] 3.1.1 CONNECT, spec figure 3.6 header (flags 0xCE, keep alive 10)',
    version: 4,
    hex: '101a 00044d515454 04 ce 000a 0002 6331 0001 77 0001 78 0001 75 0001 70',
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 10, clientId: 'c1',
      will: { topic: 'w', payload: b('x'), qos: 1, retain: false, properties: {} },
      username: 'u', password: b('p'), properties: {},
    },
    canonical: true,
  },
  {
    name: '[MQTT-3.1.3-6] 3.1.1 CONNECT with an empty client identifier',
    version: 4,
    hex: '100c 00044d515454 04 02 003c 0000',
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 60, clientId: '',
      will: null, username: null, password: null, properties: {},
    },
    canonical: true,
  },
  {
    name: '[MQTT-3.1.2.11] 5.0 CONNECT, spec figure 3-8 header (flags 0xC2, Session Expiry 10)',
    version: 5,
    hex: '101a 00044d515454 05 c2 000a 05 110000000a 0002 6331 0001 75 0001 70',
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, cleanStart: true, keepAlive: 10, clientId: 'c1',
      will: null, username: 'u', password: b('p'), properties: { sessionExpiryInterval: 10 },
    },
    canonical: true,
  },
  {
    name: '[MQTT-3.1.2.11] 5.0 CONNECT with all CONNECT and will properties (mqtt-packet "connect MQTT 5")',
    version: 5,
    hex: '107d00044d5154540536001e2f11000004d22101b027000000642201c8190117012600047465737400047465737415000474657374160004010203040004746573742f18000004d2010002000010e103000474657374080005746f70696309000401020304260004746573740004746573740005746f706963000404030201',
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: 'test',
      will: {
        topic: 'topic', payload: x('04030201'), qos: 2, retain: true,
        properties: {
          willDelayInterval: 1234, payloadFormatIndicator: 0, messageExpiryInterval: 4321, contentType: 'test',
          responseTopic: 'topic', correlationData: x('01020304'), userProperties: [{ key: 'test', value: 'test' }],
        },
      },
      username: null, password: null,
      properties: {
        sessionExpiryInterval: 1234, receiveMaximum: 432, maximumPacketSize: 100, topicAliasMaximum: 456,
        requestResponseInformation: 1, requestProblemInformation: 1, userProperties: [{ key: 'test', value: 'test' }],
        authenticationMethod: 'test', authenticationData: x('01020304'),
      },
    },
    canonical: false,
  },
  {
    name: '[MQTT-3.2.2.2] 3.1.1 CONNACK accepted with session present',
    version: 4,
    hex: '20020100',
    packet: { type: 2, sessionPresent: true, reasonCode: 0, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.2.2.3] 3.1.1 CONNACK return code 5 is reason 0x87 Not authorized',
    version: 4,
    hex: '20020005',
    packet: { type: 2, sessionPresent: false, reasonCode: 0x87, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.2.2.3] 3.1.1 CONNACK return code 1 is reason 0x84 Unsupported Protocol Version',
    version: 4,
    hex: '20020001',
    packet: { type: 2, sessionPresent: false, reasonCode: 0x84, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.2.2.3] 5.0 CONNACK with server properties',
    version: 5,
    hex: '2017 0000 14 2101b0 2401 2500 1200026331 22000a 2a00 13003c',
    packet: {
      type: 2, sessionPresent: false, reasonCode: 0,
      properties: {
        receiveMaximum: 432, maximumQoS: 1, retainAvailable: 0, assignedClientIdentifier: 'c1', topicAliasMaximum: 10,
        sharedSubscriptionAvailable: 0, serverKeepAlive: 60,
      },
    },
    canonical: false,
  },
  {
    name: '[MQTT-3.3.2] 3.1.1 PUBLISH QoS 0 (mqtt-packet "minimal publish")',
    version: 4,
    hex: '300a 0004 74657374 74657374',
    packet: { type: 3, topic: 'test', payload: test4, qos: 0, retain: false, dup: false, packetId: 0, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.3.1-1] 3.1.1 PUBLISH QoS 1 with DUP and RETAIN',
    version: 4,
    hex: '3b09 0003 612f62 0102 6869',
    packet: { type: 3, topic: 'a/b', payload: b('hi'), qos: 1, retain: true, dup: true, packetId: 258, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.3.2.3] 5.0 PUBLISH with every PUBLISH property (mqtt-packet "publish MQTT 5 properties")',
    version: 5,
    hex: '3d56000474657374000a49010102000010e1230064080005746f706963090004010203042600047465737400047465737426000474657374000474657374260004746573740004746573740b780300047465737474657374',
    packet: {
      type: 3, topic: 'test', payload: test4, qos: 2, retain: true, dup: true, packetId: 10,
      properties: {
        payloadFormatIndicator: 1, messageExpiryInterval: 4321, topicAlias: 100, responseTopic: 'topic',
        correlationData: x('01020304'),
        userProperties: [{ key: 'test', value: 'test' }, { key: 'test', value: 'test' }, { key: 'test', value: 'test' }],
        subscriptionIdentifiers: [120], contentType: 'test',
      },
    },
    canonical: false,
  },
  {
    name: '[MQTT-3.3.2-1] 5.0 PUBLISH with an empty topic and a Topic Alias',
    version: 5,
    hex: '3007 0000 03 230001 61',
    packet: { type: 3, topic: '', payload: b('a'), qos: 0, retain: false, dup: false, packetId: 0, properties: { topicAlias: 1 } },
    canonical: true,
  },
  {
    name: '[MQTT-3.3.2.3.8] 5.0 PUBLISH with two Subscription Identifiers (1 and 268435455)',
    version: 5,
    hex: '300c 0001 74 07 0b01 0bffffff7f 7a',
    packet: { type: 3, topic: 't', payload: b('z'), qos: 0, retain: false, dup: false, packetId: 0, properties: { subscriptionIdentifiers: [1, 268_435_455] } },
    canonical: true,
  },
  {
    name: '[MQTT-3.4] 3.1.1 PUBACK',
    version: 4,
    hex: '40020007',
    packet: { type: 4, packetId: 7, reasonCode: 0, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.4.2.1] 5.0 PUBACK Success without reason code (remaining length 2)',
    version: 5,
    hex: '40020007',
    packet: { type: 4, packetId: 7, reasonCode: 0, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.4.2.2.1] 5.0 PUBACK 0x10 No matching subscribers without property length',
    version: 5,
    hex: '4003000710',
    packet: { type: 4, packetId: 7, reasonCode: 0x10, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.5.2.2] 5.0 PUBREC 0x80 with a Reason String',
    version: 5,
    hex: '500a 0007 80 06 1f0003626164',
    packet: { type: 5, packetId: 7, reasonCode: 0x80, properties: { reasonString: 'bad' } },
    canonical: true,
  },
  {
    name: '[MQTT-3.6.1-1] 3.1.1 PUBREL has flags 0b0010',
    version: 4,
    hex: '62020007',
    packet: { type: 6, packetId: 7, reasonCode: 0, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.7.2.1] 5.0 PUBCOMP 0x92 Packet Identifier not found',
    version: 5,
    hex: '7003000792',
    packet: { type: 7, packetId: 7, reasonCode: 0x92, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.8.3] 3.1.1 SUBSCRIBE one filter at QoS 1',
    version: 4,
    hex: '8208 0001 0003612f62 01',
    packet: { type: 8, packetId: 1, subscriptions: [{ filter: 'a/b', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.8.3.1] 5.0 SUBSCRIBE with Subscription Identifier, No Local, Retain As Published, Retain Handling 2',
    version: 5,
    hex: '820b 0001 02 0b05 0003612f23 2d',
    packet: {
      type: 8, packetId: 1, subscriptions: [{ filter: 'a/#', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 }],
      properties: { subscriptionIdentifier: 5 },
    },
    canonical: true,
  },
  {
    name: '[MQTT-3.9.3] 3.1.1 SUBACK granted QoS 1 and failure 0x80',
    version: 4,
    hex: '9004 0001 0180',
    packet: { type: 9, packetId: 1, reasonCodes: [1, 0x80], properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.9.3] 5.0 SUBACK granted QoS 0, 1 and 0x8F Topic Filter invalid',
    version: 5,
    hex: '9006 0001 00 00018f',
    packet: { type: 9, packetId: 1, reasonCodes: [0, 1, 0x8f], properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.10.1-1] 3.1.1 UNSUBSCRIBE',
    version: 4,
    hex: 'a205 0002 000161',
    packet: { type: 10, packetId: 2, filters: ['a'], properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.10.2.1] 5.0 UNSUBSCRIBE with a User Property',
    version: 5,
    hex: 'a20d 0002 07 26000161000162 000161',
    packet: { type: 10, packetId: 2, filters: ['a'], properties: { userProperties: [{ key: 'a', value: 'b' }] } },
    canonical: true,
  },
  {
    name: '[MQTT-3.11.3] 3.1.1 UNSUBACK has no payload',
    version: 4,
    hex: 'b0020002',
    packet: { type: 11, packetId: 2, reasonCodes: [], properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.11.3] 5.0 UNSUBACK Success and 0x11 No subscription existed',
    version: 5,
    hex: 'b005 0002 00 0011',
    packet: { type: 11, packetId: 2, reasonCodes: [0, 0x11], properties: {} },
    canonical: true,
  },
  { name: '[MQTT-3.12] PINGREQ', version: 4, hex: 'c000', packet: { type: 12 }, canonical: true },
  { name: '[MQTT-3.13] PINGRESP', version: 5, hex: 'd000', packet: { type: 13 }, canonical: true },
  {
    name: '[MQTT-3.14] 3.1.1 DISCONNECT',
    version: 4,
    hex: 'e000',
    packet: { type: 14, reasonCode: 0, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.14.2.1] 5.0 DISCONNECT 0x04 with will, no property length',
    version: 5,
    hex: 'e00104',
    packet: { type: 14, reasonCode: 4, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.14.2.2.2] 5.0 DISCONNECT with Session Expiry Interval 60',
    version: 5,
    hex: 'e007 00 05 110000003c',
    packet: { type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 60 } },
    canonical: true,
  },
  {
    name: '[MQTT-3.15.2.1] 5.0 AUTH Success, remaining length 0',
    version: 5,
    hex: 'f000',
    packet: { type: 15, reasonCode: 0, properties: {} },
    canonical: true,
  },
  {
    name: '[MQTT-3.15.2.2] 5.0 AUTH 0x18 Continue authentication with Authentication Method',
    version: 5,
    hex: 'f00a 18 08 15000553435241 4d',
    packet: { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM' } },
    canonical: true,
  },
];

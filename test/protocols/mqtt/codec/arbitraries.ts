/**
 * fast-check arbitraries producing packets in the exact shape the decoder returns, per protocol
 * version, so encode -> decode must give back a deep-equal packet.
 */

import fc from 'fast-check';
import type {
  AckPacket,
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  ProtocolVersion,
  PublishPacket,
  QoS,
  SubackPacket,
  SubscribePacket,
  UnsubackPacket,
  UnsubscribePacket,
  UserProperty,
} from '../../../../src/protocols/mqtt/codec/packets.js';

/** Valid MQTT strings: any Unicode scalar values except U+0000. */
export const mqttString = (maxLength = 12): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength }).map((s) => s.replaceAll('\u0000', ''));
/** Topic names: non-empty, no wildcards. */
export const topicName = mqttString()
  .map((s) => s.replace(/[+#]/g, ''))
  .filter((s) => s.length > 0);
const bytes = (maxLength = 16): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u16pos = fc.integer({ min: 1, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u32pos = fc.integer({ min: 1, max: 0xffffffff });
const flag = fc.constantFrom<0 | 1>(0, 1);
const qos = fc.constantFrom<QoS>(0, 1, 2);
const subId = fc.integer({ min: 1, max: 268_435_455 });
const userProps: fc.Arbitrary<UserProperty[]> = fc.array(
  fc.record({ key: mqttString(6), value: mqttString(6) }).map((u) => ({ key: u.key, value: u.value })),
  { minLength: 1, maxLength: 3 },
);

/** Records with every key optional, copied onto a plain object (fc may use null prototypes). */
function optional<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, v5: boolean): fc.Arbitrary<T> {
  if (!v5) return fc.constant({} as T);
  return fc.record(model, { requiredKeys: [] }).map((o) => ({ ...o }) as T);
}

function reasonProps(v5: boolean): fc.Arbitrary<{ reasonString?: string; userProperties?: UserProperty[] }> {
  return optional({ reasonString: mqttString(), userProperties: userProps }, v5);
}

function connect(version: ProtocolVersion): fc.Arbitrary<ConnectPacket> {
  const v5 = version === 5;
  return fc
    .record({
      cleanStart: fc.boolean(),
      keepAlive: u16,
      clientId: mqttString(23),
      will: fc.option(
        fc
          .record({
            topic: topicName,
            payload: bytes(),
            qos,
            retain: fc.boolean(),
            properties: optional(
              {
                willDelayInterval: u32,
                payloadFormatIndicator: flag,
                messageExpiryInterval: u32,
                contentType: mqttString(),
                responseTopic: topicName,
                correlationData: bytes(),
                userProperties: userProps,
              },
              v5,
            ),
          })
          .map((w) => ({ ...w })),
      ),
      username: fc.option(mqttString()),
      password: fc.option(bytes()),
      properties: optional(
        {
          sessionExpiryInterval: u32,
          receiveMaximum: u16pos,
          maximumPacketSize: u32pos,
          topicAliasMaximum: u16,
          requestResponseInformation: flag,
          requestProblemInformation: flag,
          userProperties: userProps,
          authenticationMethod: mqttString(),
        },
        v5,
      ),
      authenticationData: fc.option(bytes()),
    })
    .map((r): ConnectPacket => {
      const properties: ConnectPacket['properties'] = { ...r.properties };
      // Authentication Data only with a method [MQTT-3.1.2.11.10].
      if (v5 && r.authenticationData !== null && properties.authenticationMethod !== undefined) properties.authenticationData = r.authenticationData;
      // 3.1/3.1.1: a password needs a user name [MQTT-3.1.2-22].
      const username = !v5 && r.password !== null && r.username === null ? 'user' : r.username;
      return {
        type: 1,
        protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
        protocolVersion: version,
        cleanStart: r.cleanStart,
        keepAlive: r.keepAlive,
        clientId: r.clientId,
        will: r.will,
        username,
        password: r.password,
        properties,
      };
    });
}

const CONNACK_V5 = [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f];

function connack(version: ProtocolVersion): fc.Arbitrary<ConnackPacket> {
  const v5 = version === 5;
  const codes = v5 ? CONNACK_V5 : [0x00, 0x84, 0x85, 0x88, 0x86, 0x87];
  return fc
    .record({
      sessionPresent: fc.boolean(),
      reasonCode: fc.constantFrom(...codes),
      properties: optional(
        {
          sessionExpiryInterval: u32,
          receiveMaximum: u16pos,
          maximumQoS: flag,
          retainAvailable: flag,
          maximumPacketSize: u32pos,
          assignedClientIdentifier: mqttString(),
          topicAliasMaximum: u16,
          reasonString: mqttString(),
          userProperties: userProps,
          wildcardSubscriptionAvailable: flag,
          subscriptionIdentifierAvailable: flag,
          sharedSubscriptionAvailable: flag,
          serverKeepAlive: u16,
          responseInformation: mqttString(),
          serverReference: mqttString(),
          authenticationMethod: mqttString(),
          authenticationData: bytes(),
        },
        v5,
      ),
    })
    .map(
      (r): ConnackPacket => ({
        type: 2,
        sessionPresent: r.sessionPresent && r.reasonCode === 0 && version !== 3,
        reasonCode: r.reasonCode,
        properties: r.properties,
      }),
    );
}

function publish(version: ProtocolVersion): fc.Arbitrary<PublishPacket> {
  const v5 = version === 5;
  return fc
    .record({
      topic: topicName,
      useAlias: fc.boolean(),
      payload: bytes(64),
      qos,
      retain: fc.boolean(),
      dup: fc.boolean(),
      packetId: u16pos,
      properties: optional(
        {
          payloadFormatIndicator: flag,
          messageExpiryInterval: u32,
          topicAlias: u16pos,
          responseTopic: topicName,
          correlationData: bytes(),
          userProperties: userProps,
          subscriptionIdentifiers: fc.array(subId, { minLength: 1, maxLength: 3 }),
          contentType: mqttString(),
        },
        v5,
      ),
    })
    .map(
      (r): PublishPacket => ({
        type: 3,
        // 5.0 may send '' with a Topic Alias [MQTT-3.3.2-1].
        topic: v5 && r.useAlias && r.properties.topicAlias !== undefined ? '' : r.topic,
        payload: r.payload,
        qos: r.qos,
        retain: r.retain,
        dup: r.qos > 0 && r.dup,
        packetId: r.qos > 0 ? r.packetId : 0,
        properties: r.properties,
      }),
    );
}

function ack(version: ProtocolVersion): fc.Arbitrary<AckPacket> {
  const v5 = version === 5;
  return fc
    .record({
      type: fc.constantFrom<4 | 5 | 6 | 7>(4, 5, 6, 7),
      packetId: u16pos,
      pubackCode: fc.constantFrom(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99),
      pubrelCode: fc.constantFrom(0x00, 0x92),
      properties: reasonProps(v5),
    })
    .map(
      (r): AckPacket => ({
        type: r.type,
        packetId: r.packetId,
        reasonCode: !v5 ? 0 : r.type <= 5 ? r.pubackCode : r.pubrelCode,
        properties: r.properties,
      }),
    );
}

function subscribe(version: ProtocolVersion): fc.Arbitrary<SubscribePacket> {
  const v5 = version === 5;
  const sub = fc
    .record({
      filter: mqttString().filter((f) => !f.startsWith('$share/')),
      qos,
      noLocal: v5 ? fc.boolean() : fc.constant(false),
      retainAsPublished: v5 ? fc.boolean() : fc.constant(false),
      retainHandling: v5 ? fc.constantFrom<0 | 1 | 2>(0, 1, 2) : fc.constant<0>(0),
    })
    .map((s) => ({ ...s }));
  return fc
    .record({
      packetId: u16pos,
      subscriptions: fc.array(sub, { minLength: 1, maxLength: 4 }),
      properties: optional({ subscriptionIdentifier: subId, userProperties: userProps }, v5),
    })
    .map((r): SubscribePacket => ({ type: 8, ...r }));
}

function suback(version: ProtocolVersion): fc.Arbitrary<SubackPacket> {
  const v5 = version === 5;
  const codes = v5 ? [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2] : [0, 1, 2, 0x80];
  return fc.record({ packetId: u16pos, reasonCodes: fc.array(fc.constantFrom(...codes), { minLength: 1, maxLength: 4 }), properties: reasonProps(v5) }).map((r): SubackPacket => ({ type: 9, ...r }));
}

function unsubscribe(version: ProtocolVersion): fc.Arbitrary<UnsubscribePacket> {
  return fc
    .record({ packetId: u16pos, filters: fc.array(mqttString(), { minLength: 1, maxLength: 4 }), properties: optional({ userProperties: userProps }, version === 5) })
    .map((r): UnsubscribePacket => ({ type: 10, ...r }));
}

function unsuback(version: ProtocolVersion): fc.Arbitrary<UnsubackPacket> {
  const v5 = version === 5;
  return fc
    .record({ packetId: u16pos, reasonCodes: fc.array(fc.constantFrom(0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91), { minLength: 1, maxLength: 4 }), properties: reasonProps(v5) })
    .map((r): UnsubackPacket => ({ type: 11, packetId: r.packetId, reasonCodes: v5 ? r.reasonCodes : [], properties: r.properties }));
}

const DISCONNECT_V5 = [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2];

function disconnect(version: ProtocolVersion): fc.Arbitrary<DisconnectPacket> {
  const v5 = version === 5;
  return fc
    .record({
      reasonCode: v5 ? fc.constantFrom(...DISCONNECT_V5) : fc.constant(0),
      properties: optional({ sessionExpiryInterval: u32, reasonString: mqttString(), userProperties: userProps, serverReference: mqttString() }, v5),
    })
    .map((r): DisconnectPacket => ({ type: 14, ...r }));
}

const auth: fc.Arbitrary<AuthPacket> = fc
  .record({
    reasonCode: fc.constantFrom(0x00, 0x18, 0x19),
    properties: optional({ authenticationMethod: mqttString(), authenticationData: bytes(), reasonString: mqttString(), userProperties: userProps }, true),
  })
  .map((r): AuthPacket => ({ type: 15, ...r }));

/** Every packet type valid for `version`, keyed by name. */
export function packetArbitraries(version: ProtocolVersion): Record<string, fc.Arbitrary<Packet>> {
  const all: Record<string, fc.Arbitrary<Packet>> = {
    CONNECT: connect(version),
    CONNACK: connack(version),
    PUBLISH: publish(version),
    'PUBACK/PUBREC/PUBREL/PUBCOMP': ack(version),
    SUBSCRIBE: subscribe(version),
    SUBACK: suback(version),
    UNSUBSCRIBE: unsubscribe(version),
    UNSUBACK: unsuback(version),
    PINGREQ: fc.constant<Packet>({ type: 12 }),
    PINGRESP: fc.constant<Packet>({ type: 13 }),
    DISCONNECT: disconnect(version),
  };
  if (version === 5) all.AUTH = auth;
  return all;
}

/** Any packet valid for `version`. */
export function anyPacket(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.oneof(...Object.values(packetArbitraries(version)));
}

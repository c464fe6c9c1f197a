/**
 * Plain-data MQTT packet shapes shared by the codec and the handlers. One shape serves all three
 * protocol versions; fields a version lacks stay at their neutral value (properties are `{}` and
 * reason codes 0 for 3.1/3.1.1). Absent optional properties are `undefined`, never present.
 */

import type { QoS, UserProperty } from '../../../core/message.js';
import type { PacketType } from './constants.js';

export type { QoS, UserProperty };

/** 3 = MQTT 3.1 (MQIsdp), 4 = MQTT 3.1.1, 5 = MQTT 5.0: the CONNECT protocol level. */
export type ProtocolVersion = 3 | 4 | 5;

/** Properties a message carries end to end (PUBLISH and Will). */
export interface ApplicationProperties {
  payloadFormatIndicator?: 0 | 1;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: UserProperty[];
}

export interface WillProperties extends ApplicationProperties {
  willDelayInterval?: number;
}

export interface WillFields {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: WillProperties;
}

export interface ConnectProperties {
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumPacketSize?: number;
  topicAliasMaximum?: number;
  requestResponseInformation?: 0 | 1;
  requestProblemInformation?: 0 | 1;
  userProperties?: UserProperty[];
  authenticationMethod?: string;
  authenticationData?: Buffer;
}

export interface ConnectPacket {
  type: typeof PacketType.CONNECT;
  /** 'MQIsdp' for 3.1, 'MQTT' for 3.1.1 and 5.0. */
  protocolName: string;
  protocolVersion: ProtocolVersion;
  /** Clean Start (5.0) or Clean Session (3.1/3.1.1). */
  cleanStart: boolean;
  keepAlive: number;
  clientId: string;
  will: WillFields | null;
  username: string | null;
  password: Buffer | null;
  properties: ConnectProperties;
}

export interface ConnackProperties {
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumQoS?: 0 | 1;
  retainAvailable?: 0 | 1;
  maximumPacketSize?: number;
  assignedClientIdentifier?: string;
  topicAliasMaximum?: number;
  reasonString?: string;
  userProperties?: UserProperty[];
  wildcardSubscriptionAvailable?: 0 | 1;
  subscriptionIdentifierAvailable?: 0 | 1;
  sharedSubscriptionAvailable?: 0 | 1;
  serverKeepAlive?: number;
  responseInformation?: string;
  serverReference?: string;
  authenticationMethod?: string;
  authenticationData?: Buffer;
}

export interface ConnackPacket {
  type: typeof PacketType.CONNACK;
  sessionPresent: boolean;
  /**
   * Always in MQTT 5 terms, also for 3.1/3.1.1: the encoder maps it to the return code and the
   * decoder maps the return code back (see connackReturnCodeV3).
   */
  reasonCode: number;
  properties: ConnackProperties;
}

export interface PublishProperties extends ApplicationProperties {
  topicAlias?: number;
  subscriptionIdentifiers?: number[];
}

export interface PublishPacket {
  type: typeof PacketType.PUBLISH;
  /** '' when a 5.0 sender relies on a Topic Alias; the caller resolves the alias. */
  topic: string;
  /** A view into the received bytes, not a copy: copy it before the read buffer is reused. */
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** 0 for QoS 0. */
  packetId: number;
  properties: PublishProperties;
}

export interface ReasonProperties {
  reasonString?: string;
  userProperties?: UserProperty[];
}

export type AckType = typeof PacketType.PUBACK | typeof PacketType.PUBREC | typeof PacketType.PUBREL | typeof PacketType.PUBCOMP;

/** PUBACK, PUBREC, PUBREL and PUBCOMP. */
export interface AckPacket {
  type: AckType;
  packetId: number;
  reasonCode: number;
  /** Read-only: a decoded ack without properties shares one frozen object. */
  properties: Readonly<ReasonProperties>;
}

export interface Subscription {
  filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  /** 0 send retained on subscribe, 1 only for a new subscription, 2 never. */
  retainHandling: 0 | 1 | 2;
}

export interface SubscribeProperties {
  subscriptionIdentifier?: number;
  userProperties?: UserProperty[];
}

export interface SubscribePacket {
  type: typeof PacketType.SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription[];
  properties: SubscribeProperties;
}

export interface SubackPacket {
  type: typeof PacketType.SUBACK;
  packetId: number;
  reasonCodes: number[];
  properties: ReasonProperties;
}

export interface UnsubscribeProperties {
  userProperties?: UserProperty[];
}

export interface UnsubscribePacket {
  type: typeof PacketType.UNSUBSCRIBE;
  packetId: number;
  filters: string[];
  properties: UnsubscribeProperties;
}

export interface UnsubackPacket {
  type: typeof PacketType.UNSUBACK;
  packetId: number;
  /** Empty for 3.1/3.1.1, which have no reason codes in UNSUBACK. */
  reasonCodes: number[];
  properties: ReasonProperties;
}

export interface PingreqPacket {
  type: typeof PacketType.PINGREQ;
}

export interface PingrespPacket {
  type: typeof PacketType.PINGRESP;
}

export interface DisconnectProperties {
  sessionExpiryInterval?: number;
  reasonString?: string;
  userProperties?: UserProperty[];
  serverReference?: string;
}

export interface DisconnectPacket {
  type: typeof PacketType.DISCONNECT;
  reasonCode: number;
  properties: DisconnectProperties;
}

export interface AuthProperties {
  authenticationMethod?: string;
  authenticationData?: Buffer;
  reasonString?: string;
  userProperties?: UserProperty[];
}

export interface AuthPacket {
  type: typeof PacketType.AUTH;
  reasonCode: number;
  properties: AuthProperties;
}

/** Any decoded packet, discriminated by `type`. */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

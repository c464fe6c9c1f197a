/**
 * MQTT wire constants: packet types, MQTT 5 property identifiers and reason codes, and the one
 * table that turns an MQTT 5 CONNACK reason into its 3.1/3.1.1 return code.
 */

/** Control packet types, the high nibble of the first byte. */
export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

/** Packet type names for error messages, indexed by type number. */
export const PACKET_NAMES: readonly string[] = [
  'RESERVED',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH',
];

/** MQTT 5 property identifiers (section 2.2.2.2). */
export const Property = {
  PayloadFormatIndicator: 0x01,
  MessageExpiryInterval: 0x02,
  ContentType: 0x03,
  ResponseTopic: 0x08,
  CorrelationData: 0x09,
  SubscriptionIdentifier: 0x0b,
  SessionExpiryInterval: 0x11,
  AssignedClientIdentifier: 0x12,
  ServerKeepAlive: 0x13,
  AuthenticationMethod: 0x15,
  AuthenticationData: 0x16,
  RequestProblemInformation: 0x17,
  WillDelayInterval: 0x18,
  RequestResponseInformation: 0x19,
  ResponseInformation: 0x1a,
  ServerReference: 0x1c,
  ReasonString: 0x1f,
  ReceiveMaximum: 0x21,
  TopicAliasMaximum: 0x22,
  TopicAlias: 0x23,
  MaximumQoS: 0x24,
  RetainAvailable: 0x25,
  UserProperty: 0x26,
  MaximumPacketSize: 0x27,
  WildcardSubscriptionAvailable: 0x28,
  SubscriptionIdentifierAvailable: 0x29,
  SharedSubscriptionAvailable: 0x2a,
} as const;

/** MQTT 5 reason codes (section 2.4); 3.1.1 SUBACK uses the same 0x00-0x02 and 0x80. */
export const ReasonCode = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  GrantedQoS0: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  Malformed: 0x81,
  Protocol: 0x82,
  ImplementationSpecific: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdInUse: 0x91,
  PacketIdNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdsNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

/**
 * Maps an MQTT 5 CONNACK reason code to the 3.1.1 return code; values 0-5 are taken as return
 * codes already and pass through unchanged.
 */
export function connackReturnCodeV3(reason: number): number {
  if (reason <= 5) return reason;
  switch (reason) {
    case 0x84: // Unsupported Protocol Version
      return 1;
    case 0x85: // Client Identifier not valid
      return 2;
    case 0x86: // Bad User Name or Password
    case 0x8c: // Bad authentication method: the 3.1.1 client only knows credentials
      return 4;
    case 0x87: // Not authorized
      return 5;
    default:
      // Every other refusal (0x80 unspecified, 0x88 unavailable, 0x89 busy, 0x8A banned,
      // 0x9F rate...)
      // is "server unavailable": the only 3.1.1 code that invites a later retry.
      return 3;
  }
}

/** Maps a 3.1/3.1.1 CONNACK return code back to its MQTT 5 reason code. */
export function connackReasonFromV3(returnCode: number): number {
  switch (returnCode) {
    case 0:
      return 0x00;
    case 1:
      return 0x84;
    case 2:
      return 0x85;
    case 3:
      return 0x88;
    case 4:
      return 0x86;
    case 5:
      return 0x87;
    default:
      return 0x80;
  }
}

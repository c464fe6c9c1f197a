/**
 * Typed errors. Each carries a literal `code` and the MQTT 5 reason code it maps to, so a
 * handler can throw and the one dispatcher that ends connections picks the wire answer.
 * Expected outcomes (no subscribers, already subscribed) are return values, not errors.
 */

const kBrand = Symbol.for('junction.error');

export type ErrorCode =
  | 'JN_MALFORMED'
  | 'JN_PROTOCOL'
  | 'JN_UNSUPPORTED_VERSION'
  | 'JN_CLIENT_ID_INVALID'
  | 'JN_NOT_AUTHORIZED'
  | 'JN_BAD_CREDENTIALS'
  | 'JN_TOPIC_INVALID'
  | 'JN_TOPIC_ALIAS_INVALID'
  | 'JN_PACKET_TOO_LARGE'
  | 'JN_RECEIVE_MAXIMUM_EXCEEDED'
  | 'JN_QUOTA_EXCEEDED'
  | 'JN_STORE_FULL'
  | 'JN_STORE_LOCKED'
  | 'JN_STORE_CORRUPT'
  | 'JN_PAYLOAD_FORMAT_INVALID'
  | 'JN_RETAIN_NOT_SUPPORTED'
  | 'JN_QOS_NOT_SUPPORTED'
  | 'JN_BAD_AUTH_METHOD'
  | 'JN_KEEPALIVE_TIMEOUT'
  | 'JN_SERVER_BUSY'
  | 'JN_CONFIG';

export class JunctionError extends Error {
  readonly code: ErrorCode;
  /** MQTT 5 reason code (0x80 and above) this error answers with. */
  readonly reason: number;

  constructor(code: ErrorCode, reason: number, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.name = 'JunctionError';
  }

  get [kBrand](): true {
    return true;
  }

  // Branded so `instanceof JunctionError` survives two copies of this module; subclasses keep
  // the ordinary prototype check (an inherited brand check would make every subclass match).
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about (a subclass, or JunctionError itself).
    if (this !== JunctionError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
  }
}

/** 0x81: the bytes do not form a valid packet. */
export class MalformedPacketError extends JunctionError {
  constructor(message: string) {
    super('JN_MALFORMED', 0x81, message);
    this.name = 'MalformedPacketError';
  }
}

/** 0x82: well-formed bytes that break a protocol rule. */
export class ProtocolError extends JunctionError {
  constructor(message: string) {
    super('JN_PROTOCOL', 0x82, message);
    this.name = 'ProtocolError';
  }
}

/** 0x94: a topic alias of 0 or above the announced maximum, or unknown. */
export class TopicAliasInvalidError extends JunctionError {
  constructor(message: string) {
    super('JN_TOPIC_ALIAS_INVALID', 0x94, message);
    this.name = 'TopicAliasInvalidError';
  }
}

/** 0x93: the client sent more unacknowledged QoS 1/2 PUBLISH packets than our Receive Maximum. */
export class ReceiveMaximumExceededError extends JunctionError {
  constructor(limit: number) {
    super('JN_RECEIVE_MAXIMUM_EXCEEDED', 0x93, `more than ${limit} unacknowledged QoS 1/2 PUBLISH packets in flight`);
    this.name = 'ReceiveMaximumExceededError';
  }
}

/** A configuration value outside what the flag allows; the message names the flag and range. */
export class ConfigError extends JunctionError {
  constructor(message: string) {
    super('JN_CONFIG', 0, message);
    this.name = 'ConfigError';
  }
}

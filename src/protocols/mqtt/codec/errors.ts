/**
 * Codec errors beyond src/errors.ts: each is a JunctionError subclass carrying what the
 * connection layer needs to pick the wire answer.
 */

import { JunctionError, ProtocolError } from '../../../errors.js';

/**
 * CONNECT with a protocol level this broker does not speak: answer CONNACK 0x84 (5.0) or return
 * code 1 (3.1.1), then close [MQTT-3.1.2-2].
 */
export class UnsupportedProtocolVersionError extends JunctionError {
  /** The protocol level byte the client sent. */
  readonly level: number;

  constructor(protocolName: string, level: number) {
    super('JN_UNSUPPORTED_VERSION', 0x84, `CONNECT: protocol level ${level} is not supported for protocol name '${protocolName}'`);
    this.name = 'UnsupportedProtocolVersionError';
    this.level = level;
  }
}

/**
 * A topic name with wildcards or otherwise unusable: a Protocol Error whose `topicInvalid`
 * marker lets the caller answer 0x90 Topic Name Invalid (PUBACK/PUBREC or DISCONNECT).
 */
export class TopicNameInvalidError extends ProtocolError {
  readonly topicInvalid = true;

  constructor(message: string) {
    super(message);
    this.name = 'TopicNameInvalidError';
  }
}

/** 0x9B: a PUBLISH above the Maximum QoS the server announced (--maximum-qos; 5.0 section 3.2.2.3.4). */
export class QosNotSupportedError extends JunctionError {
  constructor(qos: number, maximum: number) {
    super('JN_QOS_NOT_SUPPORTED', 0x9b, `PUBLISH at QoS ${qos} is above the maximum QoS ${maximum} (--maximum-qos)`);
    this.name = 'QosNotSupportedError';
  }
}

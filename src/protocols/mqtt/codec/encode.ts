/**
 * The encoders in one import, plus encodePacket for any decoded packet (tests, the load
 * generator).
 */

import { PacketType } from './constants.js';
import type { Packet, ProtocolVersion } from './packets.js';
import { PINGREQ, PINGRESP, encodeAck, encodeAuth, encodeDisconnect } from './encode-ack.js';
import { encodeConnack, encodeConnect } from './encode-connect.js';
import { encodePublish } from './encode-publish.js';
import { encodeSuback, encodeSubscribe, encodeUnsuback, encodeUnsubscribe } from './encode-subscribe.js';

export { PINGREQ, PINGRESP, encodeAck, encodeAuth, encodeDisconnect, encodePingreq, encodePingresp } from './encode-ack.js';
export { encodeConnack, encodeConnect, setConnackSessionPresent, type ConnackFields, type ConnectFields } from './encode-connect.js';
export {
  encodePublish,
  encodedPublishSize,
  publishPacketIdOffset,
  setPublishDup,
  setPublishPacketId,
  type PublishFields,
} from './encode-publish.js';
export {
  encodeSuback,
  encodeSubscribe,
  encodeUnsuback,
  encodeUnsubscribe,
  type AckListFields,
  type SubscribeFields,
  type SubscriptionFields,
  type UnsubscribeFields,
} from './encode-subscribe.js';

/** Encodes any packet shape the decoder produces, for `version`. */
export function encodePacket(version: ProtocolVersion, p: Packet): Buffer {
  switch (p.type) {
    case PacketType.CONNECT:
      return encodeConnect(p);
    case PacketType.CONNACK:
      return encodeConnack(version, p);
    case PacketType.PUBLISH:
      return encodePublish(version, p);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return encodeAck(p.type, version, p.packetId, p.reasonCode, p.properties);
    case PacketType.SUBSCRIBE:
      return encodeSubscribe(version, p);
    case PacketType.SUBACK:
      return encodeSuback(version, p);
    case PacketType.UNSUBSCRIBE:
      return encodeUnsubscribe(version, p);
    case PacketType.UNSUBACK:
      return encodeUnsuback(version, p);
    case PacketType.PINGREQ:
      return PINGREQ;
    case PacketType.PINGRESP:
      return PINGRESP;
    case PacketType.DISCONNECT:
      return encodeDisconnect(p.reasonCode, p.properties, version);
    case PacketType.AUTH:
      return encodeAuth(p.reasonCode, p.properties);
  }
}

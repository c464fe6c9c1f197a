/**
 * The protocol-neutral application message. Every protocol maps onto it: MQTT PUBLISH directly,
 * STOMP SEND through content-type and custom headers, the vehicle gateways through JSON payloads.
 */

export type QoS = 0 | 1 | 2;

export interface UserProperty {
  readonly key: string;
  readonly value: string;
}

/** MQTT 5 application properties that travel with a message unchanged. */
export interface MessageProperties {
  payloadFormatIndicator?: 0 | 1;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: UserProperty[];
}

/** One published message; shared read-only by every delivery of it. */
export class Message {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: MessageProperties | null;
  /** Absolute expiry in ms since the epoch (MQTT 5 Message Expiry Interval); 0 = never. */
  expiresAt: number;
  /** Client id of the publisher, for No Local; null for messages the broker makes itself. */
  origin: string | null;
  /**
   * Encodings cached by protocols, so a fan-out encodes once per wire shape. Each protocol owns
   * the range of slots encodingSlots() gave it; the core never reads them.
   */
  encodings: Array<Buffer | undefined> | null;
  /**
   * Held by an external journal (the cluster's durable QoS): sessions fed from that journal take
   * it from there, not from the router (Broker.deliver).
   */
  journaled: boolean;
  /** The publisher's QoS 2 packet id (0: none), so a journal knows the same message sent again through another node. */
  inboundId: number;
  /** The one client a point-to-point message is for; null for a message routed by topic. */
  target: string | null;

  constructor(topic: string, payload: Buffer, qos: QoS, retain: boolean, properties: MessageProperties | null, expiresAt: number, origin: string | null) {
    this.topic = topic;
    this.payload = payload;
    this.qos = qos;
    this.retain = retain;
    this.properties = properties;
    this.expiresAt = expiresAt;
    this.origin = origin;
    this.encodings = null;
    this.journaled = false;
    this.inboundId = 0;
    this.target = null;
  }

  /** The encoding a protocol cached in `slot`, if any. */
  encoded(slot: number): Buffer | undefined {
    const e = this.encodings;
    return e === null ? undefined : e[slot];
  }

  /** Caches an encoding in one of the caller's slots. */
  cacheEncoded(slot: number, bytes: Buffer): void {
    (this.encodings ??= [])[slot] = bytes;
  }

  /** Seconds left before expiry for the Message Expiry Interval property; -1 = never expires. */
  remainingExpiry(now: number): number {
    if (this.expiresAt === 0) return -1;
    const left = Math.ceil((this.expiresAt - now) / 1000);
    return left > 0 ? left : 0;
  }

  isExpired(now: number): boolean {
    return this.expiresAt !== 0 && now >= this.expiresAt;
  }
}

let slotsTaken = 0;

/** Reserves `count` encoding-cache slots for one protocol (at module load); returns the first. */
export function encodingSlots(count: number): number {
  const first = slotsTaken;
  slotsTaken += count;
  return first;
}

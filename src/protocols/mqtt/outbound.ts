/**
 * Outbound PUBLISH encoding for one connection. A message without per-connection properties
 * is encoded once per wire shape (version, QoS, retain) and cached on the message, so a fan-out
 * to N subscribers encodes once; QoS 1/2 copies the cached bytes and patches the packet id.
 * Per-connection shapes (topic alias, Subscription Identifiers, counted-down expiry) are encoded
 * for that connection alone. Packets above the client's Maximum Packet Size are dropped.
 */
import { encodingSlots, type Message, type QoS } from '../../core/message.js';
import type { PublishProperties } from './codec/packets.js';
import { encodePublish, setPublishDup, setPublishPacketId } from './codec/encode-publish.js';

/** The message encoding-cache slots of the shared PUBLISH encodings: one per (version 3..5, QoS, retain). */
const PUBLISH_SLOT = encodingSlots(3 * 3 * 2);

/** What the encoder needs from its connection. */
export interface OutboundOwner {
  readonly version: 3 | 4 | 5;
  readonly clientMaxPacketSize: number;
}

export class OutboundEncoder {
  /** Topic Alias Maximum the client announced (0 = none). */
  topicAliasMaximum = 0;
  private aliases: Map<string, number> | null = null;
  private readonly owner: OutboundOwner;

  constructor(owner: OutboundOwner) {
    this.owner = owner;
  }

  /** The bytes of one delivery, or null when it exceeds the client's Maximum Packet Size. */
  publish(msg: Message, qos: QoS, retain: boolean, packetId: number, dup: boolean, subIds: readonly number[] | null): Buffer | null {
    const version = this.owner.version;
    const perConnection = version === 5 && (subIds !== null || msg.expiresAt !== 0 || this.topicAliasMaximum > 0);
    let buf: Buffer;
    if (!perConnection) {
      const slot = PUBLISH_SLOT + (version - 3) * 6 + qos * 2 + (retain ? 1 : 0);
      let cached = msg.encoded(slot);
      if (cached === undefined) {
        cached = encodePublish(version, {
          topic: msg.topic,
          payload: msg.payload,
          qos,
          retain,
          dup: false,
          packetId: qos > 0 ? 1 : 0,
          properties: version === 5 ? this.properties(msg, null, 0) : undefined,
        });
        msg.cacheEncoded(slot, cached);
      }
      if (qos === 0) buf = cached;
      else {
        // The cached bytes may still sit in another socket's queue: patch a copy.
        buf = Buffer.allocUnsafe(cached.length);
        cached.copy(buf);
        setPublishPacketId(buf, packetId);
        if (dup) setPublishDup(buf, true);
      }
    } else {
      let topic = msg.topic;
      let alias = 0;
      let newAlias = false;
      if (this.topicAliasMaximum > 0) {
        const aliases = (this.aliases ??= new Map());
        const known = aliases.get(topic);
        if (known !== undefined) {
          alias = known;
          topic = '';
        } else if (aliases.size < this.topicAliasMaximum) {
          alias = aliases.size + 1;
          newAlias = true;
        }
      }
      buf = encodePublish(version, { topic, payload: msg.payload, qos, retain, dup, packetId, properties: this.properties(msg, subIds, alias) });
      if (newAlias && !this.tooLarge(buf)) this.aliases!.set(msg.topic, alias);
    }
    return this.tooLarge(buf) ? null : buf;
  }

  private tooLarge(buf: Buffer): boolean {
    const max = this.owner.clientMaxPacketSize;
    return max > 0 && buf.length > max;
  }

  private properties(msg: Message, subIds: readonly number[] | null, alias: number): PublishProperties | undefined {
    const p = msg.properties;
    if (p === null && subIds === null && msg.expiresAt === 0 && alias === 0) return undefined;
    const out: PublishProperties = p === null ? {} : { ...p };
    if (msg.expiresAt !== 0) out.messageExpiryInterval = msg.remainingExpiry(Date.now());
    if (subIds !== null) out.subscriptionIdentifiers = subIds as number[];
    if (alias !== 0) out.topicAlias = alias;
    return out;
  }
}

/**
 * SUBSCRIBE [MQTT-3.8]: each filter validated and authorized on its own, a reason code per
 * filter in SUBACK, then the retained messages each new subscription asks for.
 */
import { ProtocolError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import { encodeSuback } from '../codec/encode.js';
import { parseSharedFilter, validateTopicFilter } from '../../../core/topic.js';
import { Refusal } from '../../../gateway/refusal.js';
import type { StoredSubscription } from '../../../store/types.js';
import type { SubscribePacket } from '../codec/packets.js';

/** The 5.0 SUBACK reason of each refusal (3.1.1 has only 0x80). */
const SUBSCRIBE_REFUSALS: Readonly<Record<number, number>> = {
  [Refusal.NotAuthorized]: ReasonCode.NotAuthorized,
  [Refusal.TopicInvalid]: ReasonCode.TopicFilterInvalid,
  [Refusal.QuotaExceeded]: ReasonCode.QuotaExceeded,
};

export function handleSubscribe(conn: MqttConnection, packet: SubscribePacket): void {
  const client = conn.client!;
  const v5 = conn.version === 5;
  const subId = packet.properties.subscriptionIdentifier ?? 0;
  const reasons: number[] = [];
  const accepted: Array<{ sub: StoredSubscription; existed: boolean }> = [];
  for (const s of packet.subscriptions) {
    const problem = validateTopicFilter(s.filter);
    if (problem !== null) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: problem });
      reasons.push(v5 ? ReasonCode.TopicFilterInvalid : 0x80);
      continue;
    }
    if (s.noLocal && parseSharedFilter(s.filter) !== null) {
      throw new ProtocolError(`SUBSCRIBE: No Local set on shared subscription '${s.filter}'`); // [MQTT-3.8.3-4]
    }
    const sub: StoredSubscription = {
      filter: s.filter,
      qos: s.qos,
      noLocal: s.noLocal,
      retainAsPublished: s.retainAsPublished,
      retainHandling: s.retainHandling,
      subscriptionId: subId,
    };
    const outcome = client.subscribe(sub);
    if (outcome.refusal !== Refusal.None) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: client.refusalDetail || 'not authorized' });
      reasons.push(v5 ? SUBSCRIBE_REFUSALS[outcome.refusal]! : 0x80);
      continue;
    }
    accepted.push({ sub, existed: outcome.existed });
    reasons.push(s.qos);
  }
  conn.write(encodeSuback(conn.version, { type: 9, packetId: packet.packetId, reasonCodes: reasons, properties: {} }));
  for (const { sub, existed } of accepted) client.sendRetained(sub, existed);
}

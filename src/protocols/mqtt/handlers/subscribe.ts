/**
 * SUBSCRIBE [MQTT-3.8]: each filter validated and authorized on its own, a reason code per
 * filter in SUBACK (the QoS granted, at most --maximum-qos), then the retained messages each new
 * subscription asks for. 3.1/3.1.1 have no code for an invalid filter: it closes the connection.
 * In a cluster, a persistent session's new QoS 1/2 subscription is acknowledged once every node
 * journals its topic (the durable route; --cluster-route-wait bounds the wait).
 */
import { ProtocolError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import { encodeSuback } from '../codec/encode.js';
import { parseSharedFilter, validateTopicFilter } from '../../../core/topic.js';
import { Phase } from '../../../gateway/phase.js';
import { Refusal } from '../../../gateway/refusal.js';
import type { StoredSubscription } from '../../../store/types.js';
import type { SubscribePacket } from '../codec/packets.js';

/** The 5.0 SUBACK reason of each refusal (3.1.1 has only 0x80). */
const SUBSCRIBE_REFUSALS: Readonly<Record<number, number>> = {
  [Refusal.NotAuthorized]: ReasonCode.NotAuthorized,
  [Refusal.TopicInvalid]: ReasonCode.TopicFilterInvalid,
  [Refusal.QuotaExceeded]: ReasonCode.QuotaExceeded,
};

/**
 * 3.1/3.1.1: an invalid topic filter is a protocol violation, which closes the connection
 * (3.1.1 section 4.8; SUBACK 0x80 and UNSUBACK say nothing of the filter). 5.0 answers 0x8F.
 */
export function requireValidFilter(packet: string, filter: string, index: number): void {
  const problem = validateTopicFilter(filter);
  if (problem !== null) throw new ProtocolError(`${packet}: topic filter ${index + 1} '${filter}' is invalid: ${problem}`);
}

export function handleSubscribe(conn: MqttConnection, packet: SubscribePacket): void {
  const client = conn.client!;
  const v5 = conn.version === 5;
  const subscriptions = packet.subscriptions;
  // Every filter first: a violation must close the connection before any of them took effect.
  if (!v5) for (let i = 0; i < subscriptions.length; i++) requireValidFilter('SUBSCRIBE', subscriptions[i]!.filter, i);
  const subId = packet.properties.subscriptionIdentifier ?? 0;
  const maximumQos = conn.config.maximumQos;
  const reasons: number[] = [];
  const accepted: Array<{ sub: StoredSubscription; existed: boolean }> = [];
  for (const s of subscriptions) {
    const problem = v5 ? validateTopicFilter(s.filter) : null;
    if (problem !== null) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: problem });
      reasons.push(ReasonCode.TopicFilterInvalid);
      continue;
    }
    if (s.noLocal && parseSharedFilter(s.filter) !== null) {
      throw new ProtocolError(`SUBSCRIBE: No Local set on shared subscription '${s.filter}'`); // [MQTT-3.8.3-4]
    }
    const sub: StoredSubscription = {
      filter: s.filter,
      // A server without QoS 1 or 2 accepts the request and grants what it has (5.0 section 3.2.2.3.4).
      qos: s.qos > maximumQos ? maximumQos : s.qos,
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
    reasons.push(sub.qos);
  }
  const suback = encodeSuback(conn.version, { type: 9, packetId: packet.packetId, reasonCodes: reasons, properties: {} });
  const acknowledge = (): void => {
    conn.write(suback);
    for (const { sub, existed } of accepted) client.sendRetained(sub, existed);
  };
  // A persistent session's new QoS 1/2 subscription in a cluster: acknowledged once every node journals its topic.
  const held = client.subscribed();
  if (held === null) acknowledge();
  else void held.then(() => conn.phase === Phase.Online && acknowledge());
}

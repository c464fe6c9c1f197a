/**
 * SUBSCRIBE [MQTT-3.8]: each filter validated and authorized on its own, a reason code per
 * filter in SUBACK, then the retained messages each new subscription asks for.
 */
import { ProtocolError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../constants.js';
import { encodeSuback } from '../codec/encode.js';
import { parseSharedFilter, topicLevels, validateTopicFilter } from '../../../core/topic.js';
import type { StoredSubscription } from '../../../store/types.js';
import type { SubscribePacket } from '../packets.js';

export function handleSubscribe(conn: MqttConnection, packet: SubscribePacket): void {
  const ctx = conn.ctx;
  const session = conn.session!;
  const v5 = conn.version === 5;
  const subId = packet.properties.subscriptionIdentifier ?? 0;
  const reasons: number[] = [];
  const accepted: Array<{ sub: StoredSubscription; existed: boolean }> = [];
  const failure = v5 ? ReasonCode.TopicFilterInvalid : 0x80;
  const policy = ctx.security.policy;
  const guard = conn.guard;
  for (const s of packet.subscriptions) {
    const problem = validateTopicFilter(s.filter);
    if (problem !== null) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: problem });
      reasons.push(failure);
      continue;
    }
    const shared = parseSharedFilter(s.filter);
    if (shared !== null && s.noLocal) {
      throw new ProtocolError(`SUBSCRIBE: No Local set on shared subscription '${s.filter}'`); // [MQTT-3.8.3-4]
    }
    const levels = ctx.limits.maxTopicLevels;
    if (levels > 0 && topicLevels(shared?.filter ?? s.filter) > levels) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: `more than ${levels} levels` });
      reasons.push(failure);
      continue;
    }
    if (policy !== undefined && s.filter.length > policy.maxTopicLength / 3 && Buffer.byteLength(s.filter) > policy.maxTopicLength) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: `longer than ${policy.maxTopicLength} bytes` });
      reasons.push(failure);
      continue;
    }
    if (!(guard !== null ? guard.canSubscribe(s.filter) : ctx.security.authorizer.canSubscribe(conn.clientId, conn.username, s.filter))) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: 'not authorized' });
      reasons.push(v5 ? ReasonCode.NotAuthorized : 0x80);
      continue;
    }
    const maxSubs = policy !== undefined ? policy.maxSubscriptions : 0;
    if (maxSubs > 0 && session.subscriptions.size >= maxSubs && !session.subscriptions.has(s.filter)) {
      conn.logDebug('subscription refused', { filter: s.filter, detail: `client holds ${maxSubs} subscriptions (--max-subscriptions)` });
      reasons.push(v5 ? ReasonCode.QuotaExceeded : 0x80);
      continue;
    }
    const sub: StoredSubscription = {
      filter: s.filter,
      qos: s.qos,
      noLocal: s.noLocal,
      retainAsPublished: s.retainAsPublished,
      retainHandling: s.retainHandling,
      subscriptionId: subId,
    };
    accepted.push({ sub, existed: ctx.broker.subscribe(session, sub) });
    reasons.push(s.qos);
  }
  conn.send(encodeSuback(conn.version, { type: 9, packetId: packet.packetId, reasonCodes: reasons, properties: {} }));
  for (const { sub, existed } of accepted) ctx.broker.sendRetained(session, sub, existed);
}


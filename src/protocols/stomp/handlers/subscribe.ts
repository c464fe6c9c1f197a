/**
 * SUBSCRIBE: id, destination -> filter (MQTT wildcards allowed), ack mode, ACL, then the core
 * subscription of the filter's slot (QoS 1 when any subscription on it acknowledges, so the core
 * keeps unacknowledged deliveries in its inflight window). Retained messages go to the new
 * subscription; an at-least-once one also gets what dropped connections left unacknowledged.
 */
import type { StoredSubscription } from '../../../store/types.js';
import { destinationToFilter } from '../destination.js';
import { StompError } from '../errors.js';
import { AckMode, StompSubscription, parseAckMode } from '../subscriptions.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import { Refusal } from '../../../gateway/refusal.js';
import { required } from './required.js';

/** Handles SUBSCRIBE. */
export function handleSubscribe(conn: StompConnection, frame: StompFrame): void {
  const client = conn.client!;
  const destination = required(frame, 'destination');
  // 1.0 made the id optional: the destination then names the subscription.
  const id = conn.version === '1.0' ? (frame.header('id') ?? destination) : required(frame, 'id');
  const table = conn.subscriptions;
  if (table.byId.has(id)) throw new StompError(`subscription id '${id}' is already in use on this connection`);
  const ack = parseAckMode(frame.header('ack'));
  if (ack === null) throw new StompError(`ack '${frame.header('ack')}' is not one of auto, client, client-individual`);
  const limit = conn.config.limits.maxSubscriptions;
  if (table.size >= limit) throw new StompError(`more than ${limit} subscriptions on one connection (--stomp-max-subscriptions)`, 'JN_QUOTA_EXCEEDED');
  const mapped = destinationToFilter(destination, conn.config.mount);
  if (mapped.error !== null) throw new StompError(mapped.error, 'JN_TOPIC_INVALID');
  const filter = mapped.topic;
  const refusal = client.checkSubscribe(filter);
  if (refusal !== Refusal.None) throw refused(refusal, destination, client.refusalDetail);

  const slot = table.slotFor(filter);
  const qosBefore = slot.subs.length === 0 ? -1 : slot.qos;
  const sub = new StompSubscription(id, destination, mapped.style, ack, slot);
  table.add(sub);
  const core: StoredSubscription = {
    filter,
    qos: slot.qos,
    noLocal: false,
    retainAsPublished: false,
    retainHandling: 0,
    subscriptionId: slot.number,
  };
  if (core.qos !== qosBefore) {
    const outcome = client.subscribe(core);
    if (outcome.refusal !== Refusal.None) {
      table.remove(sub);
      throw refused(outcome.refusal, destination, client.refusalDetail);
    }
  }
  conn.retainTarget = sub;
  try {
    client.sendRetained(core, false);
  } finally {
    conn.retainTarget = null;
  }
  if (ack !== AckMode.Auto) {
    conn.config.redelivery.take(filter, conn.clientId, Date.now(), (msg) => {
      (conn.redelivering ??= new WeakSet()).add(msg);
      client.redeliver(msg, 1, [slot.number]);
    });
  }
  conn.receipt(frame, false);
}

/** The ERROR for a destination the client may not subscribe to. */
function refused(refusal: Refusal, destination: string, detail: string): StompError {
  if (refusal === Refusal.NotAuthorized) return new StompError(`not authorized to subscribe to '${destination}'`, 'JN_NOT_AUTHORIZED');
  if (refusal === Refusal.QuotaExceeded) return new StompError(`cannot subscribe to '${destination}': ${detail}`, 'JN_QUOTA_EXCEEDED');
  return new StompError(`cannot subscribe to '${destination}': ${detail}`, 'JN_TOPIC_INVALID');
}

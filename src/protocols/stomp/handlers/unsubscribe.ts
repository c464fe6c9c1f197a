/**
 * UNSUBSCRIBE by id (1.0 also by destination). What the subscription had not acknowledged goes
 * to the redelivery pool, as when a connection drops; the filter's core subscription ends with
 * its last STOMP subscription, or drops to QoS 0 when no acknowledging one is left.
 */
import { StompError } from '../errors.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';

/** Handles UNSUBSCRIBE. */
export function handleUnsubscribe(conn: StompConnection, frame: StompFrame): void {
  const client = conn.client!;
  const id = frame.header('id') ?? (conn.version === '1.0' ? frame.header('destination') : undefined);
  if (id === undefined) throw new StompError("UNSUBSCRIBE frame without the required 'id' header");
  const sub = conn.subscriptions.byId.get(id);
  if (sub === undefined) throw new StompError(`UNSUBSCRIBE names subscription '${id}', which does not exist`);
  const slot = sub.slot;
  const qosBefore = slot.qos;
  const now = Date.now();
  const owner = conn.namedClient ? conn.clientId : null;
  for (const entry of conn.acks.settleSubscription(sub)) {
    if (conn.acks.release(entry.packetId)) client.acknowledge(entry.packetId);
    conn.config.redelivery.hold(entry.msg, owner, now);
  }
  if (conn.subscriptions.remove(sub)) client.unsubscribe(slot.filter);
  else if (slot.qos !== qosBefore) {
    // A lower QoS of a filter already allowed: the checks pass as they did at SUBSCRIBE.
    client.subscribe({ filter: slot.filter, qos: slot.qos, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: slot.number });
  }
  conn.receipt(frame, false);
}

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
  const ctx = conn.ctx;
  const session = conn.session!;
  const id = frame.header('id') ?? (conn.version === '1.0' ? frame.header('destination') : undefined);
  if (id === undefined) throw new StompError("UNSUBSCRIBE frame without the required 'id' header");
  const sub = conn.subscriptions.byId.get(id);
  if (sub === undefined) throw new StompError(`UNSUBSCRIBE names subscription '${id}', which does not exist`);
  const slot = sub.slot;
  const qosBefore = slot.qos;
  const now = Date.now();
  const owner = conn.namedClient ? conn.clientId : null;
  for (const entry of conn.acks.settleSubscription(sub)) {
    if (conn.acks.release(entry.packetId)) ctx.broker.acknowledge(session, entry.packetId);
    ctx.redelivery.hold(entry.msg, owner, now);
  }
  if (conn.subscriptions.remove(sub)) ctx.broker.unsubscribe(session, slot.filter);
  else if (slot.qos !== qosBefore) {
    ctx.broker.subscribe(session, { filter: slot.filter, qos: slot.qos, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: slot.number });
  }
  conn.receipt(frame, false);
}

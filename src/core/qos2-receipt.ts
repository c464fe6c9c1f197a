/**
 * Exactly-once on the way in (QoS 2 PUBLISH ... PUBREL): the packet ids a client sent and has not
 * released yet, kept on its session (and in the store when it is persistent) so a resent PUBLISH
 * is recognised as a duplicate. Plain functions the gateway's Client calls itself: they touch
 * only the session and the store, and a QoS 2 publish pays no extra call through the Broker.
 */
import type { Session } from './session.js';
import type { Store } from '../store/types.js';

/** Inbound QoS 2 PUBLISH: true the first time this packet id is seen (route it), false for a duplicate. */
export function receiveQos2(store: Store, session: Session, packetId: number): boolean {
  let ids = session.incoming;
  if (ids === null) ids = session.incoming = new Set();
  if (ids.has(packetId)) return false;
  ids.add(packetId);
  if (session.persistent) store.putIncoming(session.clientId, packetId);
  return true;
}

/** Inbound PUBREL: forgets the packet id; false if it was unknown. */
export function releaseQos2(store: Store, session: Session, packetId: number): boolean {
  const ids = session.incoming;
  if (ids === null || !ids.delete(packetId)) return false;
  if (session.persistent) store.deleteIncoming(session.clientId, packetId);
  return true;
}

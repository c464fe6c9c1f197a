/**
 * The cluster's record of one client id (stream JUNCTION_CLIENTS, see client-registry.ts): who
 * owns it, whether a connection is attached, the persistent session's subscriptions and the
 * connection's will; and the conversions between it and the local session.
 */
import type { Session } from '../core/session.js';
import type { SessionState } from '../core/session-state.js';
import type { SessionIdentity, StoredSubscription } from '../store/types.js';
import type { WillRecord } from './wills.js';

/** The cluster's record of one client id. */
export interface ClientRecord {
  node: string;
  /** the owner's process (a restarted node is another instance) */
  instance: string;
  /** a connection is attached */
  online: boolean;
  /** ms since the epoch of the write */
  at: number;
  /** the persistent session; null while the session ends with its connection */
  session: { protocol: string; expiryInterval: number; disconnectedAt: number; subscriptions: StoredSubscription[] } | null;
  /** the attached connection's will */
  will: WillRecord | null;
  /** who the session belongs to (only that identity may take it) */
  identity?: SessionIdentity;
  /** the attached device's downlink topic: a point-to-point message to it needs the right to publish there */
  downlink?: string;
}

/** What the registry counted since the start. */
export interface RegistryCounters {
  /** sessions handed over by another node */
  movedIn: number;
  /** sessions handed to another node */
  movedOut: number;
  /** sessions rebuilt from the record of a node that was gone */
  adopted: number;
  /** wills of dead nodes' clients published here */
  willsPublished: number;
  /** record writes that failed (written again when NATS is back) */
  failedWrites: number;
  /** local sessions that yielded to a record another node wrote while NATS was away */
  yielded: number;
  /** messages such sessions still owed, handed to the owner */
  leftoversSent: number;
  /** messages other nodes handed here for sessions this node owns */
  leftoversTaken: number;
}

/** The record node `node` (process `instance`) keeps for `session`, with the will of its connection. */
export function recordOf(session: Session, node: string, instance: string, will: WillRecord | null): ClientRecord {
  const online = session.owner !== null;
  const subscriptions: StoredSubscription[] = [];
  for (const s of session.subscriptions.values()) {
    subscriptions.push({ filter: s.filter, qos: s.qos, noLocal: s.noLocal, retainAsPublished: s.retainAsPublished, retainHandling: s.retainHandling, subscriptionId: s.subscriptionId });
  }
  const r: ClientRecord = {
    node,
    instance,
    online,
    at: Date.now(),
    session: session.persistent ? { protocol: session.protocol, expiryInterval: session.expiryInterval, disconnectedAt: session.disconnectedAt, subscriptions } : null,
    will: online ? will : null,
  };
  if (session.identity !== null) r.identity = session.identity;
  const downlink = session.owner?.downlinkTopic ?? null;
  if (downlink !== null) r.downlink = downlink;
  return r;
}

/** A session rebuilt from a record whose node is gone: its subscriptions and expiry (its queue stayed with the node). */
export function stateFromRecord(clientId: string, r: ClientRecord): SessionState {
  const s = r.session!;
  const state: SessionState = {
    clientId,
    protocol: s.protocol,
    expiryInterval: s.expiryInterval,
    disconnectedAt: s.disconnectedAt === 0 ? Date.now() : s.disconnectedAt,
    subscriptions: s.subscriptions,
    outgoing: [],
    incoming: [],
    nextPacketId: 1,
    nextSeq: 1,
  };
  if (r.identity !== undefined) state.identity = r.identity;
  return state;
}

/**
 * A session as plain data, to move it between processes (the cluster hands a session to the node
 * its client reconnected to): subscriptions, the inflight window and queue with their packet ids
 * and states, inbound QoS 2 ids and the id counters. The same records the store keeps, so a moved
 * session is persisted on its new node exactly as one restored from disk.
 */
import type { QueuedRecord, SessionIdentity, StoredSubscription } from '../store/types.js';
import { outgoingFromRecord, queuedRecord, sessionRecord } from './records.js';
import { OutState, type Session } from './session.js';

export interface SessionState {
  clientId: string;
  protocol: string;
  /** Session Expiry Interval in seconds (0xFFFFFFFF = never) */
  expiryInterval: number;
  /** ms since the epoch when its last connection ended; 0 = it was connected when moved */
  disconnectedAt: number;
  subscriptions: StoredSubscription[];
  /** inflight then queued deliveries, in sequence order */
  outgoing: QueuedRecord[];
  /** inbound QoS 2 packet ids awaiting PUBREL */
  incoming: number[];
  nextPacketId: number;
  nextSeq: number;
  /** Who the session belongs to (only that identity may resume it). */
  identity?: SessionIdentity;
}

/** The state of a live session (read only; the session is not changed). */
export function sessionState(session: Session): SessionState {
  const record = sessionRecord(session);
  const outgoing: QueuedRecord[] = [];
  // Journal deliveries stay with the journal: the next node gets them from there with the same ids.
  for (const out of session.inflight.values()) if (out.journal === null) outgoing.push(queuedRecord(out));
  for (const out of session.queue) if (out.journal === null) outgoing.push(queuedRecord(out));
  outgoing.sort((x, y) => x.seq - y.seq);
  const state: SessionState = {
    clientId: session.clientId,
    protocol: session.protocol,
    expiryInterval: session.expiryInterval,
    disconnectedAt: session.disconnectedAt,
    subscriptions: record.subscriptions,
    outgoing,
    incoming: session.incoming === null ? [] : [...session.incoming],
    nextPacketId: session.nextPacketId,
    nextSeq: session.nextSeq,
  };
  if (session.identity !== null) state.identity = session.identity;
  return state;
}

/** Fills a new, empty session with `state`'s deliveries and counters (subscriptions go through the router). */
export function fillSession(session: Session, state: SessionState): void {
  session.expiryInterval = state.expiryInterval;
  session.disconnectedAt = state.disconnectedAt;
  session.nextPacketId = state.nextPacketId >= 1 && state.nextPacketId <= 65535 ? state.nextPacketId : 1;
  session.nextSeq = state.nextSeq;
  for (const r of state.outgoing) {
    const out = outgoingFromRecord(r);
    if (out.seq >= session.nextSeq) session.nextSeq = out.seq + 1;
    if (out.state === OutState.Queued || out.id === 0 || session.inflight.has(out.id)) {
      out.state = OutState.Queued;
      session.enqueue(out);
      session.queuedBytes += out.msg.payload.length;
    } else session.setInflight(out.id, out);
  }
  if (state.incoming.length > 0) session.incoming = new Set(state.incoming);
  if (state.identity !== undefined) session.identity = state.identity;
}

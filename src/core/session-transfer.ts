/** Moving a session between processes (the cluster): export, import and late queued deliveries. */
import type { Router } from './router.js';
import { type KickReason, Session } from './session.js';
import type { Deliveries } from './delivery.js';
import type { Hooks, SessionEndReason } from './hooks.js';
import { messageFromStored, queuedRecord, sessionRecord } from './records.js';
import { fillSession, sessionState, type SessionState } from './session-state.js';
import type { QueuedRecord, Store } from '../store/types.js';

/** What a session transfer needs of the broker: its state and the steps it shares with connect and expiry. */
export interface TransferCore {
  readonly sessions: Map<string, Session>;
  readonly store: Store;
  readonly hooks: Hooks;
  readonly router: Router;
  readonly delivery: Deliveries;
  /** Ends the connection attached to `session` (if any) as a takeover does. */
  kickOwner(session: Session, reason: KickReason): void;
  /** Cancels the delayed will of `clientId`, if one is pending, without publishing it. */
  cancelWill(clientId: string): void;
  destroySession(session: Session, reason: SessionEndReason): void;
  scheduleExpiry(session: Session): void;
}

/** Hands sessions to and takes them from another process, on behalf of the Broker. */
export class SessionTransfer {
  constructor(private readonly core: TransferCore) {}

  /** See Broker.exportSession. */
  exportSession(clientId: string): SessionState | null {
    const core = this.core;
    let session = core.sessions.get(clientId);
    if (session === undefined) return null;
    core.kickOwner(session, 'takeover');
    core.cancelWill(clientId);
    session = core.sessions.get(clientId);
    if (session === undefined) return null;
    const state = sessionState(session);
    core.destroySession(session, 'moved');
    return state;
  }

  /** See Broker.importSession. */
  importSession(state: SessionState): Session {
    const core = this.core;
    const old = core.sessions.get(state.clientId);
    if (old !== undefined) {
      core.kickOwner(old, 'takeover');
      if (core.sessions.get(state.clientId) === old) core.destroySession(old, 'moved');
    }
    const session = new Session(state.clientId, state.protocol);
    fillSession(session, state);
    core.sessions.set(session.clientId, session);
    for (const sub of state.subscriptions) core.router.subscribe(session, sub);
    if (session.persistent) {
      const store = core.store;
      if (session.disconnectedAt === 0) session.disconnectedAt = Date.now();
      store.putSession(sessionRecord(session));
      session.stored = true;
      for (const out of session.inflight.values()) store.putQueued(session.clientId, queuedRecord(out));
      for (const out of session.queue) store.putQueued(session.clientId, queuedRecord(out));
      for (const id of state.incoming) store.putIncoming(session.clientId, id);
      core.scheduleExpiry(session);
    }
    const created = core.hooks.sessionCreated;
    if (created !== null) created(session);
    return session;
  }

  /** See Broker.appendQueued. */
  appendQueued(clientId: string, records: readonly QueuedRecord[]): number {
    const session = this.core.sessions.get(clientId);
    if (session === undefined) return 0;
    for (const r of records) {
      const msg = messageFromStored(r.message);
      if (msg.expiresAt !== 0 && msg.isExpired(Date.now())) continue;
      this.core.delivery.deliver(session, msg, r.qos, r.retain, r.subscriptionIds, null);
    }
    return records.length;
  }
}

/**
 * Moving a session between processes (the cluster): export, import and late queued deliveries.
 * The broker holds it as `broker.transfer`: only the cluster calls it, never a publish.
 */
import type { Router } from './router.js';
import { Session } from './session.js';
import type { SessionTable } from './session-table.js';
import type { Deliveries } from './delivery.js';
import type { Hooks } from './hooks.js';
import type { SessionEnds } from './session-ends.js';
import type { PendingWills } from './will.js';
import { messageFromStored, queuedRecord, sessionRecord } from './records.js';
import { fillSession, sessionState, type SessionState } from './session-state.js';
import type { QueuedRecord, Store } from '../store/types.js';

/** What a session transfer needs of the broker: its state (the steps it shares with connect and expiry are SessionEnds'). */
export interface TransferCore {
  readonly sessions: SessionTable;
  readonly store: Store;
  readonly hooks: Hooks;
  readonly router: Router;
  readonly delivery: Deliveries;
  readonly wills: PendingWills;
}

/** Hands sessions to and takes them from another process, on behalf of the Broker. */
export class SessionTransfer {
  constructor(
    private readonly core: TransferCore,
    private readonly ends: SessionEnds,
  ) {}

  /**
   * Hands the session of `clientId` to another process (the cluster: its client connected on
   * another node): its connection is ended as by a takeover (its will goes out as then), a delayed
   * will is cancelled as a new connection cancels it, and the session leaves this broker and its
   * store; returns its state, or null when there is none (or it ended with its connection).
   */
  exportSession(clientId: string): SessionState | null {
    const core = this.core;
    let session = core.sessions.get(clientId);
    if (session === undefined) return null;
    this.ends.kickOwner(session, 'takeover');
    core.wills.cancel(clientId);
    session = core.sessions.get(clientId);
    if (session === undefined) return null;
    const state = sessionState(session);
    this.ends.destroy(session, 'moved');
    return state;
  }

  /**
   * Takes in a session another process handed over (see exportSession), replacing any local one
   * of that client id; it is stored when persistent and waits for its connection to attach.
   */
  importSession(state: SessionState): Session {
    const core = this.core;
    const old = core.sessions.get(state.clientId);
    if (old !== undefined) {
      this.ends.kickOwner(old, 'takeover');
      if (core.sessions.get(state.clientId) === old) this.ends.destroy(old, 'moved');
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
      this.ends.scheduleExpiry(session);
    }
    const created = core.hooks.sessionCreated;
    if (created !== null) created(session);
    return session;
  }

  /**
   * Deliveries of this client's session that another process still held (the cluster: a node
   * that was apart hands over what it had queued): delivered or queued like new ones, stored when
   * the session is persistent; returns how many were taken (0 when there is no such session).
   */
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

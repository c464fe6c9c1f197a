/**
 * How a session ends, on behalf of the Broker: its expiry passes on the timer wheel, an operator
 * discards it, a clean start replaces it, its connection goes with expiry 0, or it moves to
 * another process. Every way goes through destroy() (subscriptions, shared-group deliveries, the
 * store, the sessionEnded hook), and kickOwner() is how a connection is pushed off its session.
 * Apart from the Broker because none of it is on the publish path.
 */
import type { Deliveries } from './delivery.js';
import type { Hooks, SessionEndReason } from './hooks.js';
import type { Router } from './router.js';
import { EXPIRY_NEVER, ExpiryTimer, type KickReason, type Session, type SessionExpiry } from './session.js';
import type { SessionTable } from './session-table.js';
import { redispatchShared } from './shared-redispatch.js';
import type { TimerWheel } from './timer-wheel.js';
import type { PendingWills } from './will.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../log/logger.js';

/** What ending sessions needs of the broker: its parts, and its count of sessions with a connection. */
export interface EndsCore {
  readonly sessions: SessionTable;
  readonly store: Store;
  readonly hooks: Hooks;
  readonly router: Router;
  readonly delivery: Deliveries;
  readonly wheel: TimerWheel;
  readonly wills: PendingWills;
  readonly log: Logger;
  /** The broker: `onlineCount` goes down when a connection is pushed off. */
  readonly online: { onlineCount: number };
}

/** Ends sessions; the wheel calls it (SessionExpiry) when a disconnected session's time is up. */
export class SessionEnds implements SessionExpiry {
  constructor(private readonly core: EndsCore) {}

  /** See Broker.discardSession. */
  discard(clientId: string): boolean {
    const core = this.core;
    const session = core.sessions.get(clientId);
    if (session === undefined) return false;
    // The kicked connection detaches at once; a session that outlives its connection is ended here.
    session.owner?.kick('kicked');
    if (core.sessions.get(clientId) === session) {
      if (session.owner !== null) {
        session.owner = null;
        core.online.onlineCount--;
      }
      // A delayed will goes out when its session ends, as on expiry.
      core.wills.publishNow(clientId);
      this.destroy(session, 'discarded');
    }
    return true;
  }

  /** Ends the connection attached to `session`, if any; the connection detaches itself synchronously inside kick(). */
  kickOwner(session: Session, reason: KickReason): void {
    session.owner?.kick(reason);
    if (session.owner !== null) {
      session.owner = null;
      this.core.online.onlineCount--;
    }
  }

  /** Files a disconnected session on the wheel for its expiry (never, for EXPIRY_NEVER). */
  scheduleExpiry(session: Session): void {
    if (session.expiryInterval === EXPIRY_NEVER) return;
    session.expiryTimer ??= new ExpiryTimer(session, this);
    this.core.wheel.schedule(session.expiryTimer, session.disconnectedAt + session.expiryInterval * 1000);
  }

  /** SessionExpiry: the wheel says a disconnected session's time is up. */
  expire(session: Session): void {
    const core = this.core;
    if (session.owner !== null || core.sessions.get(session.clientId) !== session) return;
    core.wills.publishNow(session.clientId);
    core.log.debug('session expired', { clientId: session.clientId });
    this.destroy(session, 'expired');
  }

  /** The session, its subscriptions and its store records are gone; its shared-group deliveries go to other members. */
  destroy(session: Session, reason: SessionEndReason): void {
    const core = this.core;
    core.router.unsubscribeAll(session);
    redispatchShared(core.delivery, core.router, session, false);
    if (session.expiryTimer !== null) core.wheel.cancel(session.expiryTimer);
    if (core.sessions.get(session.clientId) === session) core.sessions.delete(session.clientId);
    if (session.stored) {
      core.store.deleteSession(session.clientId);
      session.stored = false;
    }
    const ended = core.hooks.sessionEnded;
    if (ended !== null) ended(session, reason);
  }
}

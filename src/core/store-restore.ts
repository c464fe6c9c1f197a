/** Restoring retained messages and persistent sessions from the store when the broker starts. */
import type { Router } from './router.js';
import { EXPIRY_NEVER, OutState, Session } from './session.js';
import type { SessionTable } from './session-table.js';
import type { RetainedMessages } from './retained.js';
import { messageFromStored, outgoingFromRecord } from './records.js';
import type { Store } from '../store/types.js';

/** What restoring needs of the broker. */
export interface RestoreTarget {
  readonly store: Store;
  readonly retained: RetainedMessages;
  readonly sessions: SessionTable;
  readonly router: Router;
  scheduleExpiry(session: Session): void;
}

/** How much a restore brought back (logged once at start). */
export interface RestoreCounts {
  retained: number;
  sessions: number;
  expired: number;
}

/** Loads the live retained messages and sessions of an open store at `now`, deleting what expired meanwhile. */
export function restoreFromStore(target: RestoreTarget, now: number): RestoreCounts {
  const store = target.store;
  let retained = 0;
  for (const stored of store.loadRetained()) {
    if (stored.expiresAt !== 0 && stored.expiresAt <= now) {
      store.deleteRetained(stored.topic);
      continue;
    }
    target.retained.restore(messageFromStored(stored));
    retained++;
  }
  let sessions = 0;
  let expired = 0;
  for (const record of store.loadSessions()) {
    // A session that was online when the process died counts as disconnected now.
    const since = record.disconnectedAt === 0 ? now : record.disconnectedAt;
    if (record.expiryInterval !== EXPIRY_NEVER && since + record.expiryInterval * 1000 <= now) {
      store.deleteSession(record.clientId);
      expired++;
      continue;
    }
    const session = new Session(record.clientId, record.protocol);
    session.expiryInterval = record.expiryInterval;
    session.stored = true;
    session.disconnectedAt = since;
    session.identity = record.identity ?? null;
    target.sessions.set(session.clientId, session);
    for (const sub of record.subscriptions) target.router.subscribe(session, sub);
    for (const r of store.loadQueue(record.clientId)) {
      const out = outgoingFromRecord(r);
      if (out.seq >= session.nextSeq) session.nextSeq = out.seq + 1;
      if (out.state === OutState.Queued) {
        session.enqueue(out);
        session.queuedBytes += out.msg.payload.length;
      } else session.setInflight(out.id, out);
    }
    const incoming = store.loadIncoming(record.clientId);
    if (incoming.length > 0) session.incoming = new Set(incoming);
    target.scheduleExpiry(session);
    sessions++;
  }
  return { retained, sessions, expired };
}

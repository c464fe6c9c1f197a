/**
 * The clients of a node that is gone (lost, left, or this node's previous life): a survivor
 * takes over their records, one conditional write each so one survivor wins each record, then
 * publishes their wills (unless the node stopped cleanly) and keeps their persistent sessions.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log/logger.js';
import type { ClientRecord } from './client-record.js';
import { RecordConflictError, type RecordStream, type Versioned } from './record-stream.js';
import { takeoverSubject } from './session-handoff.js';

/** What the client registry lends to the takeover of a gone node's clients. */
export interface OrphanHost {
  readonly records: RecordStream<ClientRecord>;
  readonly node: string;
  readonly instance: string;
  readonly log: Logger;
  /** a claim of this client id is under way here */
  claiming(clientId: string): boolean;
  /** this node wrote the record at `seq` */
  owns(clientId: string, seq: number): void;
  /** the NATS connection while it is up */
  connection(): NatsConnection | null;
  stopped(): boolean;
  /** The record is this node's now: publish its will (when `wills`) and keep its session; says what was done. */
  took(clientId: string, r: ClientRecord, wills: boolean): { will: boolean; session: boolean };
}

/** Resolves true once `node` has no responder on its takeover subject (its NATS connection closed), false after 10 s. */
export async function whenGone(host: OrphanHost, node: string): Promise<boolean> {
  const until = Date.now() + 10_000;
  while (!host.stopped() && Date.now() < until) {
    const nc = host.connection();
    if (nc !== null) {
      try {
        await nc.request(takeoverSubject(node), '{}', { timeout: 500 });
      } catch (err) {
        if (/no responders|503/i.test((err as Error).message) || (err as { code?: string }).code === '503') return true;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200).unref());
  }
  return false;
}

/** Takes over every record `orphan` selects (one survivor wins each record). */
export async function adoptOrphans(host: OrphanHost, orphan: (r: ClientRecord) => boolean, why: string, wills: boolean): Promise<void> {
  const found: Array<[string, Versioned<ClientRecord>]> = [];
  try {
    await host.records.scan((key, r) => {
      if (orphan(r.value)) found.push([key, r]);
    });
  } catch (err) {
    host.log.warn('cluster client records not read', { why, error: (err as Error).message });
    return;
  }
  let published = 0;
  let sessions = 0;
  for (const [clientId, { value: r, seq }] of found) {
    if (host.claiming(clientId)) continue;
    const now = Date.now();
    const kept: ClientRecord | null =
      r.session === null ? null : { node: host.node, instance: host.instance, online: false, at: now, session: { ...r.session, disconnectedAt: r.session.disconnectedAt || now }, will: null };
    if (kept !== null && r.identity !== undefined) kept.identity = r.identity;
    try {
      const next = await host.records.put(clientId, kept, seq);
      if (kept !== null) host.owns(clientId, next);
    } catch (err) {
      if (err instanceof RecordConflictError) continue;
      host.log.warn('cluster client record not taken over', { clientId, error: (err as Error).message });
      continue;
    }
    const done = host.took(clientId, r, wills);
    if (done.will) published++;
    if (done.session) sessions++;
  }
  if (found.length > 0) host.log.info('cluster clients of a node that is gone taken over', { why, records: found.length, wills: published, sessions });
}

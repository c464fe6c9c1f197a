/**
 * Two copies of one session: nodes that were apart both served a client id, or this node restarted
 * after it was given up for lost. The copy whose node lost the record yields: it goes, and what it
 * still owed the client (its leftovers) is sent to the owner, which queues it behind its own
 * session, or passes it on once when the session moved on meanwhile. Apart from the registry
 * because it only runs after a partition or a restart, never on a plain login.
 */
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import type { Logger } from '../log/logger.js';
import type { ClientRecord, RegistryCounters } from './client-record.js';
import type { RecordStream } from './record-stream.js';
import { deliverable, type Leftovers, parseLeftovers, sendLeftovers } from './session-handoff.js';

/** What the client registry lends to yielding a session and taking leftovers. */
export interface LeftoverHost {
  readonly records: RecordStream<ClientRecord>;
  readonly broker: Broker;
  readonly node: string;
  readonly log: Logger;
  readonly counters: RegistryCounters;
  readonly timeoutMs: number;
  /** The NATS connection once it was first up (null before), even while it reconnects. */
  nats(): NatsConnection | null;
  /** A claim of this client id is under way here. */
  claiming(clientId: string): boolean;
}

/**
 * Another node owns a client id this node also holds (they were apart, or this node restarted
 * after it was given up for lost): the local copy goes, and what it still owed the client goes
 * to the owner (leftovers).
 */
export function yieldSession(host: LeftoverHost, clientId: string, other: ClientRecord): void {
  const state = host.broker.transfer.exportSession(clientId);
  host.counters.yielded++;
  const { keep, dropped } = deliverable(state?.outgoing ?? []);
  host.log.warn('cluster session dropped here: another node took the client id meanwhile', { clientId, owner: other.node, forwarded: keep.length, dropped });
  const nc = host.nats();
  if (keep.length === 0 || nc === null) return;
  sendLeftovers(nc, other.node, { clientId, from: host.node, outgoing: keep }, host.timeoutMs).then(
    (taken) => {
      host.counters.leftoversSent += taken;
      if (taken < keep.length) host.log.warn('cluster session leftovers not all taken: the owner has no session for them', { clientId, owner: other.node, sent: keep.length, taken });
    },
    (err: Error) => host.log.warn('cluster session leftovers lost: the owner did not answer', { clientId, owner: other.node, messages: keep.length, error: err.message }),
  );
}

/** What another node still owed a client whose session is here now (a request on this node's leftover subject). */
export function takeLeftovers(host: LeftoverHost, m: Msg): void {
  const leftovers = parseLeftovers(m);
  if (leftovers === null) return;
  const { clientId } = leftovers;
  // The session moved on meanwhile (its client reconnected elsewhere): they follow it.
  if (!host.broker.sessions.has(clientId) && !host.claiming(clientId)) {
    void passOn(host, leftovers).then((taken) => m.respond(String(taken)));
    return;
  }
  const taken = host.broker.transfer.appendQueued(clientId, leftovers.outgoing);
  host.counters.leftoversTaken += taken;
  host.log.info('cluster session leftovers taken from another node', { clientId, from: leftovers.from, messages: taken });
  m.respond(String(taken));
}

/** Hands leftovers to the node the record names now (once: not back to their sender); resolves with how many it took. */
async function passOn(host: LeftoverHost, leftovers: Leftovers): Promise<number> {
  const nc = host.nats();
  try {
    const owner = (await host.records.get(leftovers.clientId)).value?.node;
    if (nc === null || owner === undefined || owner === host.node || owner === leftovers.from) return 0;
    return await sendLeftovers(nc, owner, { ...leftovers, from: host.node }, host.timeoutMs);
  } catch {
    return 0;
  }
}

/**
 * Claiming a client id for this node when one of its clients is admitted (the registry's
 * SessionClaim): a conditional write of the record makes this node its owner (JetStream refuses
 * it if another node wrote since, so the claim is read again), a session bound to another
 * identity is refused before its owner's connection is touched, and a session another node held
 * comes here: handed over by that node, or rebuilt from the record when it does not answer.
 * Apart from the registry because it is one procedure, run once per admitted client.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import { bindingKey } from '../core/session.js';
import type { SessionState } from '../core/session-state.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { SessionIdentity } from '../store/types.js';
import type { ClientRecord, RegistryCounters } from './client-record.js';
import { RecordConflictError, type RecordStream, type Versioned } from './record-stream.js';
import { deliverable, HandoffError, requestSession } from './session-handoff.js';

/** Attempts at winning a record other nodes keep writing before serving without it. */
const CLAIM_ATTEMPTS = 5;

/** What the client registry lends to a claim. */
export interface ClaimHost {
  readonly records: RecordStream<ClientRecord>;
  readonly broker: Broker;
  readonly node: string;
  readonly instance: string;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
  readonly counters: RegistryCounters;
  readonly timeoutMs: number;
  readonly allowIdentityTakeover: boolean;
  /** The NATS connection once it was first up (null before), even while it reconnects. */
  nats(): NatsConnection | null;
  /** This node wrote the record at `seq`. */
  owns(clientId: string, seq: number): void;
  /** Publishes the will of the connection `r` names (it was on a node that is gone). */
  fireWill(clientId: string, r: ClientRecord): void;
  /** Rebuilds the session from its record (subscriptions and expiry). */
  adoptSession(clientId: string, r: ClientRecord): void;
  /** Says (rate-limited) that the record could not be read or written: the client is served here meanwhile. */
  unreachable(what: string, clientId: string, err: unknown): void;
}

/** Whether this process (node and instance) wrote `r`. */
export function writtenHere(r: ClientRecord, node: string, instance: string): boolean {
  return r.node === node && r.instance === instance;
}

/** Makes this node the owner of `clientId`; resolves with null (go on) or why the client is refused. */
export async function claimRecord(host: ClaimHost, clientId: string, identity: SessionIdentity | null): Promise<string | null> {
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    let current: Versioned<ClientRecord | null>;
    try {
      current = await host.records.get(clientId);
    } catch (err) {
      host.unreachable('read', clientId, err);
      return null;
    }
    const previous = current.value;
    if (previous !== null && writtenHere(previous, host.node, host.instance)) {
      host.owns(clientId, current.seq);
      return null;
    }
    // The session belongs to another identity: refused before its owner's connection is touched (as on one node).
    const refusal = previous === null ? null : identityRefusal(host, clientId, previous, identity);
    if (refusal !== null) return refusal;
    const claimed: ClientRecord = { node: host.node, instance: host.instance, online: true, at: Date.now(), session: previous?.session ?? null, will: null };
    // The session's binding stays; a new session is bound to its first identity from the claim on.
    const binding = previous?.identity ?? identity;
    if (binding !== undefined && binding !== null) claimed.identity = binding;
    try {
      host.owns(clientId, await host.records.put(clientId, claimed, current.seq));
    } catch (err) {
      if (err instanceof RecordConflictError) continue;
      host.unreachable('claim', clientId, err);
      return null;
    }
    if (previous !== null) await takeFrom(host, clientId, previous);
    return null;
  }
  host.log.warn('cluster client id claimed by other nodes at once; serving it here', { clientId, attempts: CLAIM_ATTEMPTS });
  return null;
}

/** Why `identity` may not take the session of `previous` (another identity's), or null. */
function identityRefusal(host: ClaimHost, clientId: string, previous: ClientRecord, identity: SessionIdentity | null): string | null {
  const owner = previous.identity ?? null;
  if (owner === null || identity === null || bindingKey(owner) === bindingKey(identity)) return null;
  const fields = { clientId, username: identity.name, owner: owner.authenticated ? owner.name : null, node: previous.node };
  if (host.allowIdentityTakeover) {
    host.log.info('session taken over by another identity (--allow-identity-takeover)', fields);
    return null;
  }
  if (host.logLimit.allow('cluster-client-id-taken')) host.log.info('connection refused: the client id belongs to the session of another identity on another node', fields);
  return 'the client id is in use by another identity (--allow-identity-takeover is off)';
}

/** The record named another owner: its session comes here, from that node or from the record. */
async function takeFrom(host: ClaimHost, clientId: string, previous: ClientRecord): Promise<void> {
  const nc = host.nats();
  const sessions = host.broker.sessions;
  if (previous.node !== host.node && nc !== null) {
    try {
      const state = await requestSession(nc, previous.node, host.node, clientId, host.timeoutMs);
      if (state !== null) importState(host, state);
      else if (previous.session !== null && !previous.online && !sessions.has(clientId)) host.adoptSession(clientId, previous);
      host.counters.movedIn++;
      host.log.info('cluster session moved here', { clientId, from: previous.node, subscriptions: state?.subscriptions.length ?? 0, messages: state?.outgoing.length ?? 0 });
      return;
    } catch (err) {
      if (!(err instanceof HandoffError)) throw err;
      host.log.warn('cluster session rebuilt from its record: its node did not hand it over', { clientId, from: previous.node, error: err.message });
    }
  }
  // A node that is gone (or this node's previous life): its connection's will goes out as on a dropped connection.
  if (previous.online && previous.will !== null) host.fireWill(clientId, previous);
  if (previous.session !== null && !sessions.has(clientId)) host.adoptSession(clientId, previous);
}

/**
 * Takes in a session handed over; a copy this node still had (from before a restart, not yet
 * yielded) adds what it owed the client behind it instead of being lost.
 */
function importState(host: ClaimHost, state: SessionState): void {
  const broker = host.broker;
  const stale = broker.sessions.has(state.clientId) ? broker.transfer.exportSession(state.clientId) : null;
  broker.transfer.importSession(state);
  if (stale === null) return;
  const { keep, dropped } = deliverable(stale.outgoing);
  const taken = broker.transfer.appendQueued(state.clientId, keep);
  if (taken > 0 || dropped > 0) host.log.info('cluster session leftovers of this node kept behind the moved session', { clientId: state.clientId, messages: taken, dropped });
}

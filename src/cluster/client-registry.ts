/**
 * One client id in the whole cluster. Each client id has a record in a JetStream stream
 * (JUNCTION_CLIENTS, one message per client id): the node that owns it, whether a connection is
 * attached, the persistent session's subscriptions and expiry, and the connection's will. A
 * node admitting a client first writes itself into that record, naming the sequence it read
 * (JetStream refuses the write if another node wrote since: a race-free owner); when another
 * node held the session it asks that node to hand it over (session-handoff.ts), which ends the
 * old connection as a takeover (MQTT 5 DISCONNECT 0x8E) and sends the subscriptions, queued and
 * inflight QoS 1/2 messages. A node that is gone cannot answer: the record gives its
 * subscriptions back (what was queued on the dead node stays there), and a survivor publishes
 * the wills of its connections (wills.ts).
 *
 * While NATS is away a node serves its own clients alone and writes their records when NATS is
 * back; a record another node wrote meanwhile wins, and the local copy of that session yields.
 */
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import type { Message } from '../core/message.js';
import { bindingKey, type Session } from '../core/session.js';
import type { SessionState } from '../core/session-state.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { SessionIdentity } from '../store/types.js';
import type { LinkListener, NatsLink } from './nats-link.js';
import { RecordConflictError, RecordStream, type Versioned } from './record-stream.js';
import { answerTakeover, deliverable, HandoffError, leftoverSubject, parseLeftovers, parseTakeover, requestSession, sendLeftovers, takeoverSubject, type Leftovers } from './session-handoff.js';
import { recordOf, stateFromRecord, type ClientRecord, type RegistryCounters } from './client-record.js';
import { adoptOrphans, whenGone, type OrphanHost } from './orphans.js';
import { RemoteWills, willRecord, type WillRecord } from './wills.js';

export const CLIENTS_STREAM = 'JUNCTION_CLIENTS';
export const CLIENTS_PREFIX = '$JUNCTION.client.';
/** Attempts at winning a record other nodes keep writing before serving without it. */
const CLAIM_ATTEMPTS = 5;
/** Record writes in flight at once: a node restoring many sessions writes them in waves, not all at once. */
const WRITES_IN_FLIGHT = 256;

export class ClientRegistry implements LinkListener {
  readonly instance = randomUUID();
  readonly counters: RegistryCounters = { movedIn: 0, movedOut: 0, adopted: 0, willsPublished: 0, failedWrites: 0, yielded: 0, leftoversSent: 0, leftoversTaken: 0 };
  private readonly records: RecordStream<ClientRecord>;
  private nc: NatsConnection | null = null;
  /** Records this node wrote last, with their sequence. */
  private readonly owned = new Map<string, number>();
  /** Claims under way: a takeover request for the same client id waits for them. */
  private readonly claims = new Map<string, Promise<string | null>>();
  /** Client ids whose record must be written again. */
  private readonly dirty = new Set<string>();
  private readonly writing = new Set<string>();
  private readonly wills = new Map<string, WillRecord>();
  private readonly remoteWills: RemoteWills;
  private flushQueued = false;
  private closed = false;
  private readonly allowIdentityTakeover: boolean;
  private readonly orphans: OrphanHost;

  constructor(
    private readonly broker: Broker,
    kit: GatewayContext,
    private readonly link: NatsLink,
    private readonly node: string,
    private readonly replicas: number,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {
    this.records = new RecordStream<ClientRecord>(CLIENTS_STREAM, CLIENTS_PREFIX, timeoutMs);
    this.remoteWills = new RemoteWills((msg) => this.publishWill(msg));
    this.orphans = {
      records: this.records,
      node,
      instance: this.instance,
      log,
      claiming: (clientId) => this.claims.has(clientId),
      owns: (clientId, seq) => this.owned.set(clientId, seq),
      connection: () => (this.link.up ? this.nc : null),
      stopped: () => this.closed,
      took: (clientId, r, wills) => {
        const will = wills && r.online && r.will !== null;
        if (will) this.fireWill(clientId, r);
        const session = r.session !== null && !this.broker.sessions.has(clientId);
        if (session) this.adoptSession(clientId, r);
        return { will, session };
      },
    };
    this.allowIdentityTakeover = kit.options.allowIdentityTakeover;
    kit.sessionClaim = (client) => this.claim(client.clientId, client.identity);
  }

  /** Listens to the hook seam; returns the function that stops. */
  attach(): () => void {
    const hooks = this.broker.hooks;
    const offs = [
      hooks.on('clientConnected', (info) => this.touch(info.clientId)),
      hooks.on('clientDisconnected', (info, reason) => {
        // A refused login never had a session here.
        if (reason === 'auth-failure' || reason === 'connect-timeout') return;
        this.wills.delete(info.clientId);
        this.touch(info.clientId);
      }),
      hooks.on('willDeclared', (session, will) => {
        if (will === null) this.wills.delete(session.clientId);
        else this.wills.set(session.clientId, willRecord(will));
        this.touch(session.clientId);
      }),
      hooks.on('subscriptionAdded', (session) => this.touchPersistent(session)),
      hooks.on('subscriptionRemoved', (session) => this.touchPersistent(session)),
      hooks.on('sessionEnded', (session, reason) => {
        if (reason !== 'moved' && reason !== 'shutdown') this.touch(session.clientId);
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  // --- the link ------------------------------------------------------------------------------

  up(nc: NatsConnection, first: boolean): void {
    this.nc = nc;
    if (first) {
      nc.subscribe(takeoverSubject(this.node), { callback: (err, m) => this.onTakeover(err, m) });
      nc.subscribe(leftoverSubject(this.node), { callback: (err, m) => this.onLeftovers(err, m) });
      void this.open(nc);
    } else if (this.records.ready) this.resync();
  }

  down(): void {}

  private async open(nc: NatsConnection): Promise<void> {
    while (!this.closed) {
      try {
        await this.records.open(nc, this.replicas, this.log);
        break;
      } catch (err) {
        if (this.closed) return;
        this.log.error('cluster client registry not reachable; retrying (nats-server needs JetStream: -js)', { error: (err as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
    if (this.closed) return;
    // What a previous life of this node left: its clients' wills, its sessions, if no one took them.
    await adoptOrphans(this.orphans, (r) => r.node === this.node && r.instance !== this.instance, 'restart', true);
    this.log.info('cluster client registry ready', { stream: CLIENTS_STREAM, sessionsHere: this.broker.sessions.size });
    this.resync();
  }

  /** Writes the record of every local session (and what waited for NATS); records others wrote meanwhile win. */
  private resync(): void {
    for (const id of this.broker.sessions.keys()) this.dirty.add(id);
    this.owned.clear();
    this.scheduleFlush();
  }

  // --- admission -----------------------------------------------------------------------------

  /** SessionClaim: makes this node the owner of `clientId` before its session attaches. */
  private claim(clientId: string, identity: SessionIdentity | null): Promise<string | null> | null {
    this.remoteWills.cancel(clientId);
    if (!this.records.ready || !this.link.up) {
      this.dirty.add(clientId);
      return null;
    }
    const running = this.claims.get(clientId);
    // This node wrote the record last: another node taking it would have asked here first.
    if (running === undefined && this.owned.has(clientId)) return null;
    const p = (running ?? Promise.resolve(null)).then(() => this.doClaim(clientId, identity));
    this.claims.set(clientId, p);
    void p.finally(() => {
      if (this.claims.get(clientId) === p) this.claims.delete(clientId);
    });
    return p;
  }

  private mine(r: ClientRecord): boolean {
    return r.node === this.node && r.instance === this.instance;
  }

  private async doClaim(clientId: string, identity: SessionIdentity | null): Promise<string | null> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      let current: Versioned<ClientRecord | null>;
      try {
        current = await this.records.get(clientId);
      } catch (err) {
        this.unreachable('read', clientId, err);
        return null;
      }
      const previous = current.value;
      if (previous !== null && this.mine(previous)) {
        this.owned.set(clientId, current.seq);
        return null;
      }
      // The session belongs to another identity: refused before its owner's connection is touched (as on one node).
      const refusal = previous === null ? null : this.identityRefusal(clientId, previous, identity);
      if (refusal !== null) return refusal;
      const claimed: ClientRecord = { node: this.node, instance: this.instance, online: true, at: Date.now(), session: previous?.session ?? null, will: null };
      // The session's binding stays; a new session is bound to its first identity from the claim on.
      const binding = previous?.identity ?? identity;
      if (binding !== undefined && binding !== null) claimed.identity = binding;
      try {
        this.owned.set(clientId, await this.records.put(clientId, claimed, current.seq));
      } catch (err) {
        if (err instanceof RecordConflictError) continue;
        this.unreachable('claim', clientId, err);
        return null;
      }
      if (previous !== null) await this.takeFrom(clientId, previous);
      return null;
    }
    this.log.warn('cluster client id claimed by other nodes at once; serving it here', { clientId, attempts: CLAIM_ATTEMPTS });
    return null;
  }

  /** Why `identity` may not take the session of `previous` (another identity's), or null. */
  private identityRefusal(clientId: string, previous: ClientRecord, identity: SessionIdentity | null): string | null {
    const owner = previous.identity ?? null;
    if (owner === null || identity === null || bindingKey(owner) === bindingKey(identity)) return null;
    const fields = { clientId, username: identity.name, owner: owner.authenticated ? owner.name : null, node: previous.node };
    if (this.allowIdentityTakeover) {
      this.log.info('session taken over by another identity (--allow-identity-takeover)', fields);
      return null;
    }
    if (this.logLimit.allow('cluster-client-id-taken')) this.log.info('connection refused: the client id belongs to the session of another identity on another node', fields);
    return 'the client id is in use by another identity (--allow-identity-takeover is off)';
  }

  /** The record named another owner: its session comes here, from that node or from the record. */
  private async takeFrom(clientId: string, previous: ClientRecord): Promise<void> {
    const nc = this.nc;
    if (previous.node !== this.node && nc !== null) {
      try {
        const state = await requestSession(nc, previous.node, this.node, clientId, this.timeoutMs);
        if (state !== null) this.importState(state);
        else if (previous.session !== null && !previous.online && !this.broker.sessions.has(clientId)) this.adoptSession(clientId, previous);
        this.counters.movedIn++;
        this.log.info('cluster session moved here', { clientId, from: previous.node, subscriptions: state?.subscriptions.length ?? 0, messages: state?.outgoing.length ?? 0 });
        return;
      } catch (err) {
        if (!(err instanceof HandoffError)) throw err;
        this.log.warn('cluster session rebuilt from its record: its node did not hand it over', { clientId, from: previous.node, error: err.message });
      }
    }
    // A node that is gone (or this node's previous life): its connection's will goes out as on a dropped connection.
    if (previous.online && previous.will !== null) this.fireWill(clientId, previous);
    if (previous.session !== null && !this.broker.sessions.has(clientId)) this.adoptSession(clientId, previous);
  }

  /**
   * Takes in a session handed over; a copy this node still had (from before a restart, not yet
   * yielded) adds what it owed the client behind it instead of being lost.
   */
  private importState(state: SessionState): void {
    const stale = this.broker.sessions.has(state.clientId) ? this.broker.transfer.exportSession(state.clientId) : null;
    this.broker.transfer.importSession(state);
    if (stale === null) return;
    const { keep, dropped } = deliverable(stale.outgoing);
    const taken = this.broker.transfer.appendQueued(state.clientId, keep);
    if (taken > 0 || dropped > 0) this.log.info('cluster session leftovers of this node kept behind the moved session', { clientId: state.clientId, messages: taken, dropped });
  }

  /** A session rebuilt from a record: its subscriptions and expiry (its queue stayed with its node). */
  private adoptSession(clientId: string, r: ClientRecord): void {
    this.broker.transfer.importSession(stateFromRecord(clientId, r));
    this.counters.adopted++;
  }

  private fireWill(clientId: string, r: ClientRecord): void {
    this.remoteWills.fire(clientId, r.will!, r.session?.expiryInterval ?? 0);
  }

  private publishWill(msg: Message): void {
    this.counters.willsPublished++;
    this.log.info('cluster will published for a client of a node that is gone', { clientId: msg.origin, topic: msg.topic });
    this.broker.publish(msg);
  }

  // --- another node takes a session ----------------------------------------------------------

  private onTakeover(err: Error | null, m: Msg): void {
    if (err !== null) return;
    const request = parseTakeover(m);
    if (request === null) return;
    const { clientId } = request;
    // A claim of this node for the same id finishes first: the session it brings goes on.
    void (this.claims.get(clientId) ?? Promise.resolve(null)).then(() => {
      const nc = this.nc;
      if (nc === null) return;
      this.remoteWills.cancel(clientId);
      this.owned.delete(clientId);
      this.wills.delete(clientId);
      const state = this.broker.transfer.exportSession(clientId);
      if (state !== null) {
        this.counters.movedOut++;
        this.log.info('cluster session moved to another node', { clientId, to: request.from, subscriptions: state.subscriptions.length, messages: state.outgoing.length });
      }
      try {
        answerTakeover(nc, m, request, state);
      } catch (e) {
        this.log.warn('cluster session not handed over: the answer could not be sent', { clientId, to: request.from, error: (e as Error).message });
      }
    });
  }

  // --- records -------------------------------------------------------------------------------

  private touchPersistent(session: Session): void {
    if (session.persistent) this.touch(session.clientId);
  }

  /** The record of `clientId` is written again with the local state (after this turn). */
  private touch(clientId: string): void {
    this.dirty.add(clientId);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushQueued || this.closed) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    if (!this.records.ready || !this.link.up) return;
    for (const id of this.dirty) {
      if (this.writing.size >= WRITES_IN_FLIGHT) return;
      if (this.writing.has(id) || this.claims.has(id)) continue;
      this.dirty.delete(id);
      this.writing.add(id);
      void this.write(id).finally(() => {
        this.writing.delete(id);
        if (this.dirty.size > 0) this.scheduleFlush();
      });
    }
  }

  /** This node's record of a client id from the local state; null when it has no session here. */
  private localRecord(clientId: string): ClientRecord | null {
    const session = this.broker.sessions.get(clientId);
    return session === undefined ? null : recordOf(session, this.node, this.instance, this.wills.get(clientId) ?? null);
  }

  private async write(clientId: string): Promise<void> {
    try {
      let seq = this.owned.get(clientId);
      if (seq === undefined) {
        const current = await this.records.get(clientId);
        if (current.value !== null && !this.mine(current.value)) {
          if (this.broker.sessions.has(clientId)) this.yieldTo(clientId, current.value);
          return;
        }
        seq = current.seq;
      }
      const record = this.localRecord(clientId);
      if (record === null && seq === 0) return;
      const next = await this.records.put(clientId, record, seq);
      if (record === null) this.owned.delete(clientId);
      else this.owned.set(clientId, next);
    } catch (err) {
      this.owned.delete(clientId);
      if (err instanceof RecordConflictError) {
        // Another node wrote it: look again (the session may have moved there).
        this.dirty.add(clientId);
        return;
      }
      this.counters.failedWrites++;
      this.dirty.add(clientId);
      this.unreachable('write', clientId, err);
    }
  }

  /**
   * Another node owns a client id this node also holds (they were apart, or this node restarted
   * after it was given up for lost): the local copy goes, and what it still owed the client goes
   * to the owner (leftovers).
   */
  private yieldTo(clientId: string, other: ClientRecord): void {
    const state = this.broker.transfer.exportSession(clientId);
    this.counters.yielded++;
    const { keep, dropped } = deliverable(state?.outgoing ?? []);
    this.log.warn('cluster session dropped here: another node took the client id meanwhile', { clientId, owner: other.node, forwarded: keep.length, dropped });
    const nc = this.nc;
    if (keep.length === 0 || nc === null) return;
    sendLeftovers(nc, other.node, { clientId, from: this.node, outgoing: keep }, this.timeoutMs).then(
      (taken) => {
        this.counters.leftoversSent += taken;
        if (taken < keep.length) this.log.warn('cluster session leftovers not all taken: the owner has no session for them', { clientId, owner: other.node, sent: keep.length, taken });
      },
      (err: Error) => this.log.warn('cluster session leftovers lost: the owner did not answer', { clientId, owner: other.node, messages: keep.length, error: err.message }),
    );
  }

  /** What another node still owed a client whose session is here now. */
  private onLeftovers(err: Error | null, m: Msg): void {
    if (err !== null) return;
    const leftovers = parseLeftovers(m);
    if (leftovers === null) return;
    const { clientId } = leftovers;
    // The session moved on meanwhile (its client reconnected elsewhere): they follow it.
    if (!this.broker.sessions.has(clientId) && !this.claims.has(clientId)) {
      void this.passOn(leftovers).then((taken) => m.respond(String(taken)));
      return;
    }
    const taken = this.broker.transfer.appendQueued(clientId, leftovers.outgoing);
    this.counters.leftoversTaken += taken;
    this.log.info('cluster session leftovers taken from another node', { clientId, from: leftovers.from, messages: taken });
    m.respond(String(taken));
  }

  /** Hands leftovers to the node the record names now (once: not back to their sender); resolves with how many it took. */
  private async passOn(leftovers: Leftovers): Promise<number> {
    const nc = this.nc;
    try {
      const owner = (await this.records.get(leftovers.clientId)).value?.node;
      if (nc === null || owner === undefined || owner === this.node || owner === leftovers.from) return 0;
      return await sendLeftovers(nc, owner, { ...leftovers, from: this.node }, this.timeoutMs);
    } catch {
      return 0;
    }
  }

  private unreachable(what: string, clientId: string, err: unknown): void {
    if (this.logLimit.allow('cluster-registry'))
      this.log.warn('cluster client registry not reachable; serving the client here and writing its record later', { what, clientId, error: (err as Error).message });
  }

  // --- nodes that are gone -------------------------------------------------------------------

  /** A node stopped beating: its clients' wills go out and its persistent sessions live on here. */
  nodeLost(name: string): void {
    if (!this.records.ready || !this.link.up) return;
    void adoptOrphans(this.orphans, (r) => r.node === name, 'lost', true);
  }

  /**
   * A node said goodbye (a stop, a rolling restart): once it no longer answers on NATS, its
   * persistent sessions live on here, so what is published for them meanwhile is queued; no wills
   * (a stop publishes none). When it comes back with its data it yields them, and its clients
   * reconnecting to it get them back with what was queued here.
   */
  nodeLeft(name: string): void {
    void whenGone(this.orphans, name).then((gone) => {
      if (gone && this.records.ready && this.link.up) return adoptOrphans(this.orphans, (r) => r.node === name, 'left', false);
    });
  }

  close(): void {
    this.closed = true;
    this.remoteWills.close();
  }
}

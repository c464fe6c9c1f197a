/**
 * One client id in the whole cluster. Each client id has a record in a JetStream stream
 * (JUNCTION_CLIENTS, one message per client id): the node that owns it, whether a connection is
 * attached, the persistent session's subscriptions and expiry, and the connection's will. A
 * node admitting a client first writes itself into that record, naming the sequence it read
 * (JetStream refuses the write if another node wrote since: a race-free owner; client-claim.ts);
 * when another node held the session it asks that node to hand it over (session-handoff.ts),
 * which ends the old connection as a takeover (MQTT 5 DISCONNECT 0x8E) and sends the
 * subscriptions, queued and inflight QoS 1/2 messages. A node that is gone cannot answer: the
 * record gives its subscriptions back (what was queued on the dead node stays there), and a
 * survivor publishes the wills of its connections (orphans.ts, wills.ts).
 *
 * While NATS is away a node serves its own clients alone and writes their records when NATS is
 * back; a record another node wrote meanwhile wins, and the local copy of that session yields
 * (leftovers.ts). This file holds the registry's state, the hooks that mark records to write,
 * the writes themselves and the answers to other nodes' takeover requests.
 */
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import type { Message } from '../core/message.js';
import type { Session } from '../core/session.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { SessionIdentity } from '../store/types.js';
import type { LinkListener, NatsLink } from './nats-link.js';
import { RecordConflictError, RecordStream } from './record-stream.js';
import { answerTakeover, leftoverSubject, parseTakeover, takeoverSubject } from './session-handoff.js';
import { recordOf, stateFromRecord, type ClientRecord, type RegistryCounters } from './client-record.js';
import { type ClaimHost, claimRecord, writtenHere } from './client-claim.js';
import { type LeftoverHost, takeLeftovers, yieldSession } from './leftovers.js';
import { adoptOrphans, whenGone, type OrphanHost } from './orphans.js';
import { RemoteWills, willRecord, type WillRecord } from './wills.js';

export const CLIENTS_STREAM = 'JUNCTION_CLIENTS';
export const CLIENTS_PREFIX = '$JUNCTION.client.';
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
  /** What the registry lends to orphans.ts, client-claim.ts and leftovers.ts. */
  private readonly host: OrphanHost & ClaimHost & LeftoverHost;

  constructor(
    private readonly broker: Broker,
    kit: GatewayContext,
    private readonly link: NatsLink,
    private readonly node: string,
    private readonly replicas: number,
    timeoutMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {
    this.records = new RecordStream<ClientRecord>(CLIENTS_STREAM, CLIENTS_PREFIX, timeoutMs);
    this.remoteWills = new RemoteWills((msg) => this.publishWill(msg));
    this.host = {
      records: this.records,
      broker,
      node,
      instance: this.instance,
      log,
      logLimit,
      counters: this.counters,
      timeoutMs,
      allowIdentityTakeover: kit.options.allowIdentityTakeover,
      claiming: (clientId) => this.claims.has(clientId),
      owns: (clientId, seq) => this.owned.set(clientId, seq),
      connection: () => (this.link.up ? this.nc : null),
      nats: () => this.nc,
      stopped: () => this.closed,
      took: (clientId, r, wills) => {
        const will = wills && r.online && r.will !== null;
        if (will) this.fireWill(clientId, r);
        const session = r.session !== null && !this.broker.sessions.has(clientId);
        if (session) this.adoptSession(clientId, r);
        return { will, session };
      },
      fireWill: (clientId, r) => this.fireWill(clientId, r),
      adoptSession: (clientId, r) => this.adoptSession(clientId, r),
      unreachable: (what, clientId, err) => this.unreachable(what, clientId, err),
    };
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
      nc.subscribe(leftoverSubject(this.node), {
        callback: (err, m) => {
          if (err === null) takeLeftovers(this.host, m);
        },
      });
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
    await adoptOrphans(this.host, (r) => r.node === this.node && r.instance !== this.instance, 'restart', true);
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
    const p = (running ?? Promise.resolve(null)).then(() => claimRecord(this.host, clientId, identity));
    this.claims.set(clientId, p);
    void p.finally(() => {
      if (this.claims.get(clientId) === p) this.claims.delete(clientId);
    });
    return p;
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
        if (current.value !== null && !writtenHere(current.value, this.node, this.instance)) {
          if (this.broker.sessions.has(clientId)) yieldSession(this.host, clientId, current.value);
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

  private unreachable(what: string, clientId: string, err: unknown): void {
    if (this.logLimit.allow('cluster-registry'))
      this.log.warn('cluster client registry not reachable; serving the client here and writing its record later', { what, clientId, error: (err as Error).message });
  }

  /** The record of `clientId` as JetStream holds it now (null: none, or the registry is not open yet). */
  async locate(clientId: string): Promise<ClientRecord | null> {
    if (!this.records.ready) return null;
    return (await this.records.get(clientId)).value;
  }

  // --- nodes that are gone -------------------------------------------------------------------

  /** A node stopped beating: its clients' wills go out and its persistent sessions live on here. */
  nodeLost(name: string): void {
    if (!this.records.ready || !this.link.up) return;
    void adoptOrphans(this.host, (r) => r.node === name, 'lost', true);
  }

  /**
   * A node said goodbye (a stop, a rolling restart): once it no longer answers on NATS, its
   * persistent sessions live on here, so what is published for them meanwhile is queued; no wills
   * (a stop publishes none). When it comes back with its data it yields them, and its clients
   * reconnecting to it get them back with what was queued here.
   */
  nodeLeft(name: string): void {
    void whenGone(this.host, name).then((gone) => {
      if (gone && this.records.ready && this.link.up) return adoptOrphans(this.host, (r) => r.node === name, 'left', false);
    });
  }

  close(): void {
    this.closed = true;
    this.remoteWills.close();
  }
}

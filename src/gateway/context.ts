/**
 * The gateway context: what every protocol gets from the server, and the one way in. Every
 * protocol accepts links through acceptor() (one global --max-connections, the accept-time
 * policy), opens listeners through listen(), and admits its clients through admit(): admission
 * limits (memory, connection rate), the authentication chain, then a Client bound to the
 * identity, grants, ACL decisions and publish pace (admission.ts holds that procedure and its
 * refusals). The broker itself is private to the kit.
 */
import type { Broker } from '../core/broker.js';
import type { EnhancedAuthMethod, Pausable, Security, SecurityPolicy } from '../core/auth.js';
import { type ClientInfo, type DisconnectReason, SysClientEvents } from '../core/events.js';
import { PORT_OFF } from '../config/flags.js';
import type { StoreFullError } from '../store/types.js';
import { Message } from '../core/message.js';
import type { Metrics } from '../core/metrics.js';
import type { TimerWheel } from '../core/timer-wheel.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { NativeBinding } from '../native/binding.js';
import type { AcceptPacing } from '../transports/accept-gate.js';
import type { Link, LinkAcceptor } from '../transports/link.js';
import { listenNet, type Listener, type NativeTcpSetup } from '../transports/listen.js';
import type { TlsProvider } from '../transports/tls.js';
import type { WsRoutes } from '../transports/ws-routes.js';
import { type Admission, type AdmissionBans, type AdmissionRequest, ClientAdmission, type SessionClaim } from './admission.js';
import type { Client, ClientOwner } from './client.js';
import type { GatewayOptions } from './flags.js';
import { ConnectionShell } from './shell.js';

// What admission takes and answers: the protocols, the shell and the admin's ban list import it from here.
export type { Admission, AdmissionBans, AdmissionRequest, SessionClaim } from './admission.js';

/** What connections of one protocol carried, counted when each one closed. */
export interface TrafficTotals {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

/** What the server hands the kit. */
export interface GatewaySetup {
  readonly broker: Broker;
  readonly security: Security;
  readonly options: GatewayOptions;
  readonly nodeName: string;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
  readonly tls: TlsProvider | null;
  readonly wsRoutes: WsRoutes;
  readonly pacing: AcceptPacing;
  /** The Rust addon, or null (--native off, or not built). */
  readonly native: NativeBinding | null;
  /** Plain TCP listeners through the Rust module (--tcp-transport native); null or absent = node:net. */
  readonly nativeTcp?: NativeTcpSetup | null;
}

/** Where a protocol's listener goes. */
export interface ListenSpec {
  readonly protocol: string;
  readonly transport: 'tcp' | 'tls';
  /** The port flag, named in errors. */
  readonly flag: string;
  readonly port: number;
}

function publishEventLater(broker: Broker, msg: Message): void {
  broker.publish(msg);
}

export class GatewayContext {
  readonly wheel: TimerWheel;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
  readonly nodeName: string;
  readonly options: GatewayOptions;
  readonly native: NativeBinding | null;
  /** Connections open over every protocol and listener, against --max-connections. */
  connections = 0;
  /** Bytes kept by connections not yet logged in, against --max-login-buffer (shells count their own). */
  loginBuffered = 0;
  /** When the kit started (ms since the Unix epoch): connections keep their times as seconds after it. */
  readonly epoch: number;
  /** Logins by protocol: counted here, so the metrics build no ClientInfo per connection. */
  readonly logins = new Map<string, number>();
  /** Logged-in clients gone, by protocol then reason. */
  readonly logouts = new Map<string, Map<DisconnectReason, number>>();
  /** Traffic of closed connections by protocol name (live ones carry their own counters). */
  readonly closedTraffic = new Map<string, TrafficTotals>();
  /** Operator bans, or null while there are none to check. */
  bans: AdmissionBans | null = null;
  /**
   * Asked for every admitted client before its session attaches: the cluster makes this node the
   * client id's owner, taking the session over from the node that holds it (null: standalone).
   */
  sessionClaim: SessionClaim | null = null;
  /** Told of every authentication the chain decided (allowed or not) and how long it took, in seconds; null = nobody listens. */
  onAuthDecision: ((allowed: boolean, seconds: number) => void) | null = null;
  private readonly broker: Broker;
  private readonly sysEvents: SysClientEvents;
  private readonly security: Security;
  private readonly policy: SecurityPolicy;
  private readonly admission: ClientAdmission;
  private readonly setup: GatewaySetup;

  constructor(setup: GatewaySetup) {
    this.setup = setup;
    this.broker = setup.broker;
    this.security = setup.security;
    this.policy = setup.security.policy ?? openPolicy(setup.security);
    this.wheel = setup.broker.wheel;
    this.metrics = setup.broker.metrics;
    this.log = setup.log;
    this.logLimit = setup.logLimit;
    this.nodeName = setup.nodeName;
    this.sysEvents = new SysClientEvents(setup.broker, setup.nodeName);
    this.options = setup.options;
    this.native = setup.native;
    this.epoch = Date.now();
    this.admission = new ClientAdmission(this, this.broker, this.security, this.policy);
  }

  /** Bytes written to one client and not yet sent above which it is a slow consumer. */
  get maxSocketBuffer(): number {
    return this.options.maxSocketBuffer;
  }

  /** True when clients without credentials get in (--allow-anonymous, or loopback without providers). */
  get admitsAnonymous(): boolean {
    return this.security.admitsAnonymous;
  }

  /** True when some authentication provider checks credentials. */
  get authenticates(): boolean {
    return this.security.providers.length > 0;
  }

  /** The --connect-timeout in ms. */
  get connectTimeoutMs(): number {
    return this.options.connectTimeout * 1000;
  }

  // --- connections -------------------------------------------------------------------------

  /** The acceptor a protocol gives its listeners: one global --max-connections, then `make`. */
  acceptor(protocol: string, make: (link: Link) => ConnectionShell): LinkAcceptor {
    return (link) => {
      const limit = this.options.maxConnections;
      if (this.connections >= limit) {
        this.metrics.connectionsRefused++;
        if (this.logLimit.allow('max-connections')) this.log.warn('connection refused: --max-connections reached', { protocol, limit, address: link.remoteAddress });
        return null;
      }
      if (this.policy.acceptable?.(link) === false) {
        this.metrics.connectionsRefused++;
        return null;
      }
      this.connections++;
      return make(link);
    };
  }

  /** A connection ended (called once, by the shell): uncounted, its traffic folded into its protocol's totals. */
  connectionClosed(shell: ConnectionShell): void {
    this.connections--;
    this.metrics.connectionsClosed++;
    const name = shell.protocolName;
    let totals = this.closedTraffic.get(name);
    if (totals === undefined) this.closedTraffic.set(name, (totals = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 }));
    totals.bytesIn += shell.bytesIn;
    totals.bytesOut += shell.bytesOut;
    totals.messagesIn += shell.messagesIn;
    totals.messagesOut += shell.messagesOut;
  }

  /** Seconds since `epoch` by the wheel's clock: what a connection stores for "online since". */
  secondsSinceEpoch(): number {
    return Math.floor((this.wheel.now - this.epoch) / 1000);
  }

  /** Why connections not logged in may keep no more bytes (--max-login-buffer, --max-memory), or null when they may. */
  loginBufferFull(): string | null {
    const limit = this.options.maxLoginBuffer;
    if (this.loginBuffered > limit) return `unfinished logins hold more than --max-login-buffer (${limit} bytes)`;
    if (this.policy.memoryBusy?.() === true) return 'memory above --max-memory';
    return null;
  }

  /** The connection logged in under `clientId`, or null: the sessions are the registry, so it costs nothing per connection. */
  connection(clientId: string): ConnectionShell | null {
    const owner = this.broker.sessions.get(clientId)?.owner ?? null;
    return owner instanceof ConnectionShell ? owner : null;
  }

  /** Every logged-in connection, whatever its protocol. */
  *onlineConnections(): IterableIterator<ConnectionShell> {
    for (const session of this.broker.sessions.values()) {
      const owner = session.owner;
      if (owner instanceof ConnectionShell) yield owner;
    }
  }

  /** Opens a TCP or TLS listener for a protocol; throws ConfigError naming the flag. */
  listen(spec: ListenSpec, accept: LinkAcceptor): Promise<Listener> {
    const s = this.setup;
    return listenNet(
      {
        ...spec,
        host: this.options.host,
        maxConnections: this.options.maxConnections,
        pacing: s.pacing,
        tls: s.tls,
        nativeTcp: s.nativeTcp ?? null,
        refusedAtAccept: () => this.refusedAtAccept(spec.protocol),
      },
      accept,
    );
  }

  /** A native listener closed a connection at accept: --max-connections counted every native one. */
  private refusedAtAccept(protocol: string): void {
    this.metrics.connectionsRefused++;
    if (this.logLimit.allow('max-connections')) this.log.warn('connection refused: --max-connections reached', { protocol, limit: this.options.maxConnections });
  }

  /** Opens every listener whose port is not off; on a failure closes those opened and throws. */
  async listenAll(specs: readonly ListenSpec[], accept: LinkAcceptor): Promise<Listener[]> {
    const listeners: Listener[] = [];
    try {
      for (const spec of specs) if (spec.port !== PORT_OFF) listeners.push(await this.listen(spec, accept));
    } catch (err) {
      for (const l of listeners) l.close();
      throw err;
    }
    return listeners;
  }

  /** Serves a protocol at a WebSocket path on the ws and wss listeners; `binaryOnly` closes a client sending text frames. */
  addWebSocketRoute(path: string, subprotocols: readonly string[], accept: LinkAcceptor, binaryOnly = false): void {
    this.setup.wsRoutes.add({ path, subprotocols, accept, binaryOnly });
  }

  // --- admission ---------------------------------------------------------------------------

  /**
   * Lets a client in or says why not: admission limits, then the authentication chain (unless
   * the protocol settled it), then a Client bound to the identity, grants, ACL and pace.
   */
  admit(shell: ConnectionShell, request: AdmissionRequest): Admission | Promise<Admission> {
    return this.admission.admit(shell, request);
  }

  /**
   * Admits a client the operator configured inside the server (a bridge publishing what it
   * consumes): no authentication, but the same ACL, grants, limits and pace as any client, by
   * its username. `owner` is paused and resumed by the publish pace.
   */
  admitInternal(clientId: string, username: string, protocol: string, owner: ClientOwner & Pausable): Client {
    return this.admission.admitInternal(clientId, username, protocol, owner);
  }

  /**
   * Checks the stored subscriptions of every offline session against the rules now in force (at
   * start, after a reload): a refused one is dropped so nothing more queues for it. Sessions
   * whose rights came as grants (token, JWT, hook) keep theirs: the rules do not decide for them;
   * a session stored without its identity is checked when it resumes. Returns what was dropped.
   */
  reauthorizeOffline(): Array<{ readonly clientId: string; readonly username: string | null; readonly filters: string[] }> {
    const out: Array<{ clientId: string; username: string | null; filters: string[] }> = [];
    const authorizer = this.security.authorizer;
    for (const session of this.broker.sessions.values()) {
      const identity = session.identity;
      if (session.owner !== null || identity === null || identity.grants || session.subscriptions.size === 0) continue;
      const filters: string[] = [];
      for (const sub of [...session.subscriptions.values()]) {
        if (authorizer.canSubscribe(session.clientId, identity.name, sub.filter, null)) continue;
        this.broker.unsubscribe(session, sub.filter);
        filters.push(sub.filter);
      }
      if (filters.length > 0) out.push({ clientId: session.clientId, username: identity.name, filters });
    }
    return out;
  }

  /** An MQTT 5 enhanced authentication method by name. */
  authMethod(name: string): EnhancedAuthMethod | undefined {
    return this.security.methods.get(name);
  }

  // --- events and durability ---------------------------------------------------------------

  /** Counts a login, publishes its $SYS event and fires clientConnected; the client's description is built only when one of them needs it (the peer address is a call into Rust). */
  clientConnected(who: { readonly protocolName: string; clientInfo(): ClientInfo }): void {
    const protocol = who.protocolName;
    this.logins.set(protocol, (this.logins.get(protocol) ?? 0) + 1);
    this.sysEvents.connected(who);
    const hook = this.broker.hooks.clientConnected;
    if (hook !== null) hook(who.clientInfo());
  }

  /** Counts a logout, publishes its $SYS event and fires clientDisconnected, building the description only when needed. */
  clientDisconnected(who: { readonly protocolName: string; clientInfo(): ClientInfo }, reason: DisconnectReason): void {
    let byReason = this.logouts.get(who.protocolName);
    if (byReason === undefined) this.logouts.set(who.protocolName, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    this.sysEvents.disconnected(who, reason);
    const hook = this.broker.hooks.clientDisconnected;
    if (hook !== null) hook(who.clientInfo(), reason);
  }

  /**
   * Publishes a message the gateway makes itself (a $SYS event) on the next tick: it may be
   * decided inside a delivery, and the router must not be re-entered.
   */
  publishEvent(topic: string, payload: Buffer): void {
    process.nextTick(publishEventLater, this.broker, new Message(topic, payload, 0, false, null, 0, null));
  }

  /** Calls fn(arg, null) once every store write issued so far is durable, fn(arg, error) when one cannot be. */
  afterCommit<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void {
    this.broker.afterCommit(fn, arg);
  }
}

/** No policy configured (tests, minimal embeddings): no limits, the authorizer's word on topics. */
function openPolicy(security: Security): SecurityPolicy {
  const authorizer = security.authorizer;
  return {
    admission: () => 0,
    guard: (clientId, username, grants) => ({
      grants,
      canPublish: (topic: string) => authorizer.canPublish(clientId, username, topic, grants),
      canSubscribe: (filter: string) => authorizer.canSubscribe(clientId, username, filter, grants),
      countPublish: () => true,
    }),
    pointToPoint: () => null,
    maxTopicLength: 65_535,
    maxSubscriptions: 0,
  };
}

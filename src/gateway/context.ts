/**
 * The gateway context: what every protocol gets from the server, and the one way in. Every
 * protocol accepts links through acceptor() (one global --max-connections, the accept-time
 * policy), opens listeners through listen(), and admits its clients through admit(): admission
 * limits (memory, connection rate), the authentication chain, then a Client bound to the
 * identity, grants, ACL decisions and publish pace. The broker itself is private to the kit.
 */
import type { Broker } from '../core/broker.js';
import type { AuthResult, ClientGuard, ConnectInfo, EnhancedAuthMethod, Pausable, Security, SecurityPolicy, TopicGrants } from '../core/auth.js';
import type { ClientInfo, DisconnectReason } from '../core/events.js';
import { PORT_OFF } from '../config/flags.js';
import type { StoreFullError } from '../store/types.js';
import { Message } from '../core/message.js';
import { bindingKey } from '../core/session.js';
import type { SessionIdentity } from '../store/types.js';
import type { Metrics } from '../core/metrics.js';
import type { TimerWheel } from '../core/timer-wheel.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { NativeBinding } from '../native/binding.js';
import type { AcceptPacing } from '../transports/accept-gate.js';
import type { Link, LinkAcceptor } from '../transports/link.js';
import { listenNet, type Listener, type NativeTcpSetup } from '../transports/listen.js';
import type { TlsProvider } from '../transports/tls.js';
import type { WsRoutes } from '../transports/ws-routes.js';
import { Client, type ClientOwner } from './client.js';
import type { GatewayOptions } from './flags.js';
import { ADMISSION_REASON_CODES, type AdmissionRefusal } from './refusal.js';
import { ConnectionShell } from './shell.js';
import { TopicLimits } from './topic-limits.js';

/** Operator bans, asked at every login (the admin API's ban list). */
export interface AdmissionBans {
  /** Why a client with these names may not log in, or null; `username` is null for anonymous ones. */
  banned(clientId: string, username: string | null, address: string): string | null;
}

/** What connections of one protocol carried, counted when each one closed. */
export interface TrafficTotals {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

/** The login fields a protocol hands to admission. Never log `password`. */
export interface AdmissionRequest {
  readonly clientId: string;
  /** The name the client claims (CONNECT username, STOMP login, a vehicle's VIN). */
  readonly username: string | null;
  readonly password: Buffer | null;
  /** e.g. 'mqtt/5', 'stomp/1.2', 'jt808/2019', 'gbt32960/2016' */
  readonly protocol: string;
  /** An authentication the protocol already settled by its own means (MQTT 5 enhanced auth, a JT/T 808 registry); the chain is not asked. */
  readonly decided?: AuthResult;
}

/**
 * Makes this node the owner of an admitted client's id before its session attaches; null when
 * nothing needs waiting for, else a promise of null (go on) or the refusal's detail (the session
 * belongs to another identity on another node: the client carries its identity).
 */
export type SessionClaim = (client: Client) => Promise<string | null> | null;

/** The answer to admit(). */
export type Admission = { readonly ok: true; readonly client: Client } | { readonly ok: false; readonly refusal: AdmissionRefusal; readonly detail: string };

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

/** The identities without a name, shared: an anonymous connection costs no identity object. */
const NAMELESS: readonly SessionIdentity[] = [false, true].flatMap((authenticated) => [false, true].map((grants) => Object.freeze({ name: null, authenticated, grants })));

function sessionIdentity(name: string | null, authenticated: boolean, grants: boolean): SessionIdentity {
  return name === null ? NAMELESS[(authenticated ? 2 : 0) + (grants ? 1 : 0)]! : { name, authenticated, grants };
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
  private readonly security: Security;
  private readonly policy: SecurityPolicy;
  private readonly services: { readonly broker: Broker; readonly policy: SecurityPolicy; readonly limits: TopicLimits };
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
    this.options = setup.options;
    this.native = setup.native;
    this.epoch = Date.now();
    this.services = { broker: this.broker, policy: this.policy, limits: new TopicLimits(setup.options.maxTopicLevels, this.policy.maxTopicLength, setup.options.retainAvailable) };
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
    const link = shell.link;
    const code = this.policy.admission(link);
    if (code !== 0) {
      const refusal: AdmissionRefusal = code === ADMISSION_REASON_CODES['server-busy'] ? 'server-busy' : 'rate-limited';
      const detail = refusal === 'server-busy' ? 'server busy (memory above --max-memory)' : 'connection rate exceeded (--max-connection-rate)';
      this.metrics.connectionsRefused++;
      if (this.logLimit.allow('admission')) this.log.warn('connection refused', { protocol: request.protocol, clientId: request.clientId, address: link.remoteAddress, detail });
      return { ok: false, refusal, detail };
    }
    const ban = this.bans?.banned(request.clientId, request.username, link.remoteAddress) ?? null;
    if (ban !== null) return this.refuseBanned(shell, request, ban);
    if (request.decided !== undefined) return this.claimed(this.settle(shell, request, request.decided, 0));
    const info: ConnectInfo = {
      clientId: request.clientId,
      username: request.username,
      password: request.password,
      // Read when a provider asks (an HTTP hook, a per-address rule): on the native transport the
      // address is a call into Rust, and most logins never need it.
      get remoteAddress(): string {
        return link.remoteAddress;
      },
      protocol: request.protocol,
      transport: link.transport,
      peerIdentity: link.peerIdentity ?? null,
      waiting: () => !shell.closed,
    };
    const started = this.onAuthDecision === null ? 0 : performance.now();
    let decision: AuthResult | Promise<AuthResult>;
    try {
      decision = this.security.authenticator.authenticate(info);
    } catch (err) {
      decision = Promise.reject(err);
    }
    if (!(decision instanceof Promise)) return this.claimed(this.settle(shell, request, decision, started));
    return decision.then(
      (result) => this.claimed(this.settle(shell, request, result, started)),
      (err: unknown) => {
        this.log.warn('authentication provider failed; refusing the client', { protocol: request.protocol, clientId: request.clientId, error: err });
        this.metrics.connectionsRefused++;
        return { ok: false, refusal: 'unavailable', detail: 'authentication unavailable' } as const;
      },
    );
  }

  private settle(shell: ConnectionShell, request: AdmissionRequest, result: AuthResult, started: number): Admission {
    const observe = this.onAuthDecision;
    if (observe !== null && request.decided === undefined) observe(result.ok, (performance.now() - started) / 1000);
    if (!result.ok) {
      this.metrics.connectionsRefused++;
      const address = shell.link.remoteAddress;
      if (this.logLimit.allow('auth:' + address)) {
        this.log.info('connection refused: not authorized', {
          protocol: request.protocol,
          clientId: request.clientId,
          address,
          reason: '0x' + result.reason.toString(16),
          detail: result.detail ?? '',
        });
      }
      const refusal: AdmissionRefusal =
        result.reason === ADMISSION_REASON_CODES['bad-credentials'] ? 'bad-credentials' : result.reason === ADMISSION_REASON_CODES['rate-limited'] ? 'rate-limited' : 'not-authorized';
      if (request.clientId !== '') {
        this.clientDisconnected({ clientInfo: () => ({ ...shell.clientInfo(), clientId: request.clientId, username: request.username }) }, 'auth-failure');
      }
      return { ok: false, refusal, detail: result.detail ?? 'not authorized' };
    }
    const username = result.username !== undefined ? result.username : request.username;
    if (username !== request.username && this.bans !== null) {
      const ban = this.bans.banned(request.clientId, username, shell.link.remoteAddress);
      if (ban !== null) return this.refuseBanned(shell, request, ban);
    }
    const grants: TopicGrants | null = result.grants ?? null;
    const identity = sessionIdentity(username, result.provider !== undefined || request.decided !== undefined, grants !== null);
    const owned = this.broker.sessions.get(request.clientId)?.identity ?? null;
    const owns = owned === null || bindingKey(owned) === bindingKey(identity);
    if (!owns) {
      const address = shell.link.remoteAddress;
      const fields = { protocol: request.protocol, clientId: request.clientId, username, owner: owned.authenticated ? owned.name : null, address };
      if (!this.options.allowIdentityTakeover) {
        this.metrics.connectionsRefused++;
        if (this.logLimit.allow('client-id-taken:' + address)) this.log.info('connection refused: the client id belongs to the session of another identity', fields);
        return { ok: false, refusal: 'client-id-taken', detail: 'the client id is in use by another identity (--allow-identity-takeover is off)' };
      }
      this.log.info('session taken over by another identity (--allow-identity-takeover)', fields);
    }
    // A client on a session another identity owns gets no %c pattern rights: '' fills no pattern.
    const guard: ClientGuard = this.policy.guard(owns ? request.clientId : '', username, grants, shell);
    const client = new Client(this.services, shell, request.clientId, username, grants, guard, request.protocol, result.provider ?? null, identity);
    if (result.expiresAt !== undefined) client.expiresAt = result.expiresAt;
    return { ok: true, client };
  }

  /** An admitted client waits for the cluster to hand its session to this node (sessionClaim). */
  private claimed(admission: Admission): Admission | Promise<Admission> {
    const claim = this.sessionClaim;
    if (claim === null || !admission.ok) return admission;
    const waiting = claim(admission.client);
    if (waiting === null) return admission;
    return waiting.then((refused): Admission => {
      if (refused === null) return admission;
      this.metrics.connectionsRefused++;
      return { ok: false, refusal: 'client-id-taken', detail: refused };
    });
  }

  private refuseBanned(shell: ConnectionShell, request: AdmissionRequest, detail: string): Admission {
    this.metrics.connectionsRefused++;
    if (this.logLimit.allow('banned:' + shell.link.remoteAddress)) {
      this.log.info('connection refused: banned', { protocol: request.protocol, clientId: request.clientId, address: shell.link.remoteAddress, detail });
    }
    return { ok: false, refusal: 'banned', detail };
  }

  /**
   * Admits a client the operator configured inside the server (a bridge publishing what it
   * consumes): no authentication, but the same ACL, grants, limits and pace as any client, by
   * its username. `owner` is paused and resumed by the publish pace.
   */
  admitInternal(clientId: string, username: string, protocol: string, owner: ClientOwner & Pausable): Client {
    const guard = this.policy.guard(clientId, username, null, owner);
    return new Client(this.services, owner, clientId, username, null, guard, protocol, null, { name: username, authenticated: true, grants: false });
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

  /** Fires clientConnected; the client's description is built only when a hook listens (the peer address is a call into Rust). */
  clientConnected(who: { clientInfo(): ClientInfo }): void {
    const hook = this.broker.hooks.clientConnected;
    if (hook !== null) hook(who.clientInfo());
  }

  /** Fires clientDisconnected, building the description only when a hook listens. */
  clientDisconnected(who: { clientInfo(): ClientInfo }, reason: DisconnectReason): void {
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

/**
 * Admission: the one way a client gets in, whatever its protocol. A login becomes one admit():
 * admission limits (memory, connection rate), operator bans, the authentication chain (unless the
 * protocol settled it), the session's binding to its identity, the cluster's claim of the client
 * id, then a Client bound to the identity, grants, ACL decisions and publish pace; or a named
 * refusal each protocol says its way. Apart from the GatewayContext (which holds it and forwards
 * admit) because it is a concept of its own: the context is connections, listeners and events.
 */
import type { Broker } from '../core/broker.js';
import type { AuthResult, ClientGuard, ConnectInfo, Pausable, Security, SecurityPolicy, TopicGrants } from '../core/auth.js';
import { bindingKey } from '../core/session.js';
import type { SessionIdentity } from '../store/types.js';
import { Client, type ClientOwner, type ClientServices } from './client.js';
import type { GatewayContext } from './context.js';
import { ADMISSION_REASON_CODES, type AdmissionRefusal } from './refusal.js';
import type { ConnectionShell } from './shell.js';
import { TopicLimits } from './topic-limits.js';

/** Operator bans, asked at every login (the admin API's ban list). */
export interface AdmissionBans {
  /**
   * Why a client with these names may not log in, or null; `username` is null for anonymous ones.
   * `from` gives the address when an address ban needs it (a call into Rust on the native transport).
   */
  banned(clientId: string, username: string | null, from: { readonly remoteAddress: string }): string | null;
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

/** The identities without a name, shared: an anonymous connection costs no identity object. */
const NAMELESS: readonly SessionIdentity[] = [false, true].flatMap((authenticated) => [false, true].map((grants) => Object.freeze({ name: null, authenticated, grants })));

function sessionIdentity(name: string | null, authenticated: boolean, grants: boolean): SessionIdentity {
  return name === null ? NAMELESS[(authenticated ? 2 : 0) + (grants ? 1 : 0)]! : { name, authenticated, grants };
}

/**
 * What the authentication chain is asked about one login. A class, not an object literal: a
 * literal with a getter gets a hidden class of its own at every evaluation (the getter's closure
 * lives in the class's descriptors), allocated in old space, so each login's closure, and through
 * it the connection, survived every scavenge until the next full GC: a connect storm promoted
 * every connection it made and scavenges took 5-15 ms.
 */
class LoginInfo implements ConnectInfo {
  readonly clientId: string;
  readonly username: string | null;
  readonly password: Buffer | null;
  readonly protocol: string;
  readonly transport: string;
  readonly peerIdentity: string | null;
  readonly #shell: ConnectionShell;

  constructor(request: AdmissionRequest, shell: ConnectionShell) {
    this.clientId = request.clientId;
    this.username = request.username;
    this.password = request.password;
    this.protocol = request.protocol;
    this.transport = shell.link.transport;
    this.peerIdentity = shell.link.peerIdentity ?? null;
    this.#shell = shell;
  }

  /** Read when a provider asks (an HTTP hook, a per-address rule): on the native transport it is a call into Rust, and most logins never need it. */
  get remoteAddress(): string {
    return this.#shell.link.remoteAddress;
  }

  /** Made when a provider asks (one that waits), not per login; providers may call it detached (`const waiting = info.waiting`). */
  get waiting(): () => boolean {
    const shell = this.#shell;
    return () => !shell.closed;
  }
}

/**
 * Admits clients for one GatewayContext. What others set on the kit (bans, sessionClaim,
 * onAuthDecision) is read from it at each login, so setting them there keeps working.
 */
export class ClientAdmission {
  private readonly services: ClientServices;

  constructor(
    private readonly kit: GatewayContext,
    private readonly broker: Broker,
    private readonly security: Security,
    private readonly policy: SecurityPolicy,
  ) {
    const options = kit.options;
    this.services = { broker, policy, limits: new TopicLimits(options.maxTopicLevels, policy.maxTopicLength, options.retainAvailable) };
  }

  /** See GatewayContext.admit. */
  admit(shell: ConnectionShell, request: AdmissionRequest): Admission | Promise<Admission> {
    const kit = this.kit;
    const link = shell.link;
    const code = this.policy.admission(link);
    if (code !== 0) {
      const refusal: AdmissionRefusal = code === ADMISSION_REASON_CODES['server-busy'] ? 'server-busy' : 'rate-limited';
      const detail = refusal === 'server-busy' ? 'server busy (memory above --max-memory)' : 'connection rate exceeded (--max-connection-rate)';
      kit.metrics.connectionsRefused++;
      if (kit.logLimit.allow('admission')) kit.log.warn('connection refused', { protocol: request.protocol, clientId: request.clientId, address: link.remoteAddress, detail });
      return { ok: false, refusal, detail };
    }
    const ban = kit.bans?.banned(request.clientId, request.username, link) ?? null;
    if (ban !== null) return this.refuseBanned(shell, request, ban);
    if (request.decided !== undefined) return this.claimed(this.settle(shell, request, request.decided, 0));
    const info = new LoginInfo(request, shell);
    const started = kit.onAuthDecision === null ? 0 : performance.now();
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
        kit.log.warn('authentication provider failed; refusing the client', { protocol: request.protocol, clientId: request.clientId, error: err });
        kit.metrics.connectionsRefused++;
        return { ok: false, refusal: 'unavailable', detail: 'authentication unavailable' } as const;
      },
    );
  }

  /** See GatewayContext.admitInternal. */
  admitInternal(clientId: string, username: string, protocol: string, owner: ClientOwner & Pausable): Client {
    const guard = this.policy.guard(clientId, username, null, owner);
    return new Client(this.services, owner, clientId, null, guard, protocol, null, { name: username, authenticated: true, grants: false });
  }

  private settle(shell: ConnectionShell, request: AdmissionRequest, result: AuthResult, started: number): Admission {
    const kit = this.kit;
    const observe = kit.onAuthDecision;
    if (observe !== null && request.decided === undefined) observe(result.ok, (performance.now() - started) / 1000);
    if (!result.ok) {
      kit.metrics.connectionsRefused++;
      const address = shell.link.remoteAddress;
      if (kit.logLimit.allow('auth:' + address)) {
        kit.log.info('connection refused: not authorized', {
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
        kit.clientDisconnected({ protocolName: shell.protocolName, clientInfo: () => ({ ...shell.clientInfo(), clientId: request.clientId, username: request.username }) }, 'auth-failure');
      }
      return { ok: false, refusal, detail: result.detail ?? 'not authorized' };
    }
    const username = result.username !== undefined ? result.username : request.username;
    const bans = kit.bans;
    if (username !== request.username && bans !== null) {
      const ban = bans.banned(request.clientId, username, shell.link);
      if (ban !== null) return this.refuseBanned(shell, request, ban);
    }
    const grants: TopicGrants | null = result.grants ?? null;
    const identity = sessionIdentity(username, result.provider !== undefined || request.decided !== undefined, grants !== null);
    const owned = this.broker.sessions.get(request.clientId)?.identity ?? null;
    const owns = owned === null || bindingKey(owned) === bindingKey(identity);
    if (!owns) {
      const address = shell.link.remoteAddress;
      const fields = { protocol: request.protocol, clientId: request.clientId, username, owner: owned.authenticated ? owned.name : null, address };
      if (!kit.options.allowIdentityTakeover) {
        kit.metrics.connectionsRefused++;
        if (kit.logLimit.allow('client-id-taken:' + address)) kit.log.info('connection refused: the client id belongs to the session of another identity', fields);
        return { ok: false, refusal: 'client-id-taken', detail: 'the client id is in use by another identity (--allow-identity-takeover is off)' };
      }
      kit.log.info('session taken over by another identity (--allow-identity-takeover)', fields);
    }
    // A client on a session another identity owns gets no %c pattern rights: '' fills no pattern.
    const guard: ClientGuard = this.policy.guard(owns ? request.clientId : '', username, grants, shell);
    const client = new Client(this.services, shell, request.clientId, grants, guard, request.protocol, result.provider ?? null, identity);
    if (result.expiresAt !== undefined) client.expiresAt = result.expiresAt;
    return { ok: true, client };
  }

  /** An admitted client waits for the cluster to hand its session to this node (sessionClaim). */
  private claimed(admission: Admission): Admission | Promise<Admission> {
    const claim = this.kit.sessionClaim;
    if (claim === null || !admission.ok) return admission;
    const waiting = claim(admission.client);
    if (waiting === null) return admission;
    return waiting.then((refused): Admission => {
      if (refused === null) return admission;
      this.kit.metrics.connectionsRefused++;
      return { ok: false, refusal: 'client-id-taken', detail: refused };
    });
  }

  private refuseBanned(shell: ConnectionShell, request: AdmissionRequest, detail: string): Admission {
    const kit = this.kit;
    kit.metrics.connectionsRefused++;
    if (kit.logLimit.allow('banned:' + shell.link.remoteAddress)) {
      kit.log.info('connection refused: banned', { protocol: request.protocol, clientId: request.clientId, address: shell.link.remoteAddress, detail });
    }
    return { ok: false, refusal: 'banned', detail };
  }
}

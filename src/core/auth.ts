/**
 * Authentication and authorization seams. The core asks; providers (src/security/: password
 * file, device keys, JWT, HTTP hook, client certificates) answer, and a per-connection guard
 * caches topic decisions and paces publishing. Without providers the policy is mosquitto 2's:
 * anonymous clients only while every listener is on loopback, or with --allow-anonymous.
 */

/** The connect fields a provider decides on. Never log `password`. */
export interface ConnectInfo {
  readonly clientId: string;
  readonly username: string | null;
  readonly password: Buffer | null;
  readonly remoteAddress: string;
  /** e.g. 'mqtt/5', 'stomp/1.2' */
  readonly protocol: string;
  readonly transport: string;
  /** Identity from a verified client certificate (CN or SAN), when the transport has one. */
  readonly peerIdentity?: string | null;
  /** False once the client is gone (closed, timed out) while its login waits: costly checks not started yet are dropped. */
  readonly waiting?: () => boolean;
}

/**
 * Per-device topic lists from a provider (token, JWT, HTTP hook). When a client has them, they
 * alone decide what it may publish and subscribe; otherwise the ACL file does.
 */
export interface TopicGrants {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/** A decision; `reason` is an MQTT 5 CONNACK code (0x86 bad credentials, 0x87 not authorized). */
export interface AuthResult {
  readonly ok: boolean;
  readonly reason: number;
  /** The identity to use from now on (e.g. a certificate CN); defaults to the username. */
  readonly username?: string | null;
  /** Topic lists this client is limited to (token or JWT claims). */
  readonly grants?: TopicGrants | null;
  /** Why a refusal happened, for the log line (never a secret). */
  readonly detail?: string;
  /** The --auth-chain name of the provider that allowed it (absent: the anonymous rule). */
  readonly provider?: string;
  /** When the credentials stop being valid (ms since the epoch; a JWT's exp): the client is disconnected then. */
  readonly expiresAt?: number;
}

/** The plain allow, shared (frozen): no object per login. */
export const AUTH_OK: AuthResult = Object.freeze({ ok: true, reason: 0 });
const AUTH_NOT_AUTHORIZED: AuthResult = Object.freeze({ ok: false, reason: 0x87 });

export interface Authenticator {
  /** Decides a connect; may answer later (an HTTP hook), the connection waits paused. */
  authenticate(info: ConnectInfo): AuthResult | Promise<AuthResult>;
}

/** Read/write checks on topics, asked on every PUBLISH and SUBSCRIBE. */
export interface Authorizer {
  canPublish(clientId: string, username: string | null, topic: string, grants?: TopicGrants | null): boolean;
  canSubscribe(clientId: string, username: string | null, filter: string, grants?: TopicGrants | null): boolean;
}

/**
 * One admitted connection's view of security: cached topic decisions and the publish pace.
 * Protocols ask it on every PUBLISH and SUBSCRIBE instead of the Authorizer.
 */
export interface ClientGuard {
  readonly grants: TopicGrants | null;
  canPublish(topic: string): boolean;
  canSubscribe(filter: string): boolean;
  /**
   * Counts one inbound PUBLISH of `bytes` payload bytes against the publish rate. Over the rate
   * the guard pauses the link and resumes it later; returns false once the client kept
   * flooding for too long (answer 0x97 Quota Exceeded where the protocol can).
   */
  countPublish(bytes: number): boolean;
  /** Forgets cached topic decisions (the rules were reloaded); absent when nothing is cached. */
  forget?(): void;
}

/** What a guard may pause and resume (a Link). */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/** Admission, limits and point-to-point routing beyond authentication (all optional for gateways). */
export interface SecurityPolicy {
  /** Before authentication: 0 to go on, or a CONNACK reason (0x89 busy, 0x9F connection rate). */
  admission(link: { readonly remoteAddress: string }): number;
  /**
   * At accept, before any byte is read: false closes the connection at once (a connection storm
   * past the refusals worth answering); undefined means always acceptable.
   */
  acceptable?(link: { readonly remoteAddress: string }): boolean;
  /** True while memory is above the limit (--max-memory); connections not logged in may keep no more bytes. */
  memoryBusy?(): boolean;
  /** The guard for an admitted client; it pauses and resumes `link` to keep the publish rate. */
  guard(clientId: string, username: string | null, grants: TopicGrants | null, link: Pausable): ClientGuard;
  /** The client a point-to-point topic ({parent}/p2p/{clientId}) addresses, or null. */
  pointToPoint(topic: string): string | null;
  /** Most bytes in a topic name or filter. */
  readonly maxTopicLength: number;
  /** Most subscriptions one client may hold; 0 = unlimited. */
  readonly maxSubscriptions: number;
}

/** No providers configured: allow anonymous or refuse everyone with 0x87. */
export class AnonymousPolicy implements Authenticator {
  constructor(private readonly allowAnonymous: boolean) {}

  authenticate(): AuthResult {
    return this.allowAnonymous ? AUTH_OK : AUTH_NOT_AUTHORIZED;
  }
}

/** No ACL configured: every authenticated client may publish and subscribe anywhere. */
export const ALLOW_ALL: Authorizer = Object.freeze({
  canPublish: () => true,
  canSubscribe: () => true,
});

/**
 * MQTT 5 enhanced authentication (AUTH packets) for one Authentication Method. Each exchange
 * step returns data to send back and whether the client is done, still talking, or refused.
 */
export interface EnhancedAuthMethod {
  readonly name: string;
  start(info: ConnectInfo, data: Buffer | null): EnhancedAuthStep;
  continue(info: ConnectInfo, data: Buffer | null, state: unknown): EnhancedAuthStep;
}

export interface EnhancedAuthStep {
  /** 'success' ends with CONNACK 0 (or AUTH 0 on re-auth), 'continue' sends AUTH 0x18, 'fail' refuses. */
  readonly outcome: 'success' | 'continue' | 'fail';
  readonly data?: Buffer;
  /** Carried to the next step. */
  readonly state?: unknown;
}

/** Everything the protocols need to admit clients. */
export interface Security {
  authenticator: Authenticator;
  authorizer: Authorizer;
  methods: ReadonlyMap<string, EnhancedAuthMethod>;
  /** True when clients without credentials are admitted (--allow-anonymous, or loopback without providers). */
  admitsAnonymous: boolean;
  /** The providers the chain asks, in order (empty: only the anonymous rule). */
  providers: readonly string[];
  /** Limits, guards and point-to-point; absent means none (tests, minimal embeddings). */
  policy?: SecurityPolicy;
}

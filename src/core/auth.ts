/**
 * Authentication and authorization seams. The core asks; providers (password file, tokens,
 * JWT, HTTP hook — the security issue) answer. Until an operator configures one, the policy is
 * mosquitto 2's: anonymous clients only while every listener is on loopback, or with
 * --allow-anonymous.
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
}

/** A decision; `reason` is an MQTT 5 CONNACK code (0x86 bad credentials, 0x87 not authorized). */
export interface AuthResult {
  readonly ok: boolean;
  readonly reason: number;
  /** The identity to use from now on (e.g. a certificate CN); defaults to the username. */
  readonly username?: string | null;
}

export const AUTH_OK: AuthResult = Object.freeze({ ok: true, reason: 0 });
export const AUTH_NOT_AUTHORIZED: AuthResult = Object.freeze({ ok: false, reason: 0x87 });

export interface Authenticator {
  /** Decides a connect; may answer later (an HTTP hook), the connection waits paused. */
  authenticate(info: ConnectInfo): AuthResult | Promise<AuthResult>;
}

/** Read/write checks on topics, asked on every PUBLISH and SUBSCRIBE. */
export interface Authorizer {
  canPublish(clientId: string, username: string | null, topic: string): boolean;
  canSubscribe(clientId: string, username: string | null, filter: string): boolean;
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
}

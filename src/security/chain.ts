/**
 * The authenticator that runs providers in the configured order (--auth-chain): the first allow
 * or deny decides. When every provider passes, a client without credentials is anonymous
 * (allowed only with --allow-anonymous) and one with credentials nobody accepted is refused;
 * with no provider configured at all, the anonymous rule decides for every client.
 * Synchronous providers keep the answer synchronous; the first asynchronous one turns the rest
 * of the chain into one promise.
 */
import { AUTH_OK, type AuthResult, type Authenticator, type ConnectInfo } from '../core/auth.js';
import { BAD_CREDENTIALS, NOT_AUTHORIZED, type AuthProvider, type ProviderDecision } from './provider.js';

/** The anonymous rule's refusal, shared like its allow (AUTH_OK): no object per login. */
const ANONYMOUS_REFUSED: AuthResult = Object.freeze({ ok: false, reason: NOT_AUTHORIZED, detail: 'anonymous clients are not allowed' });

/** Names --auth-chain accepts, in the default order. */
export const PROVIDER_NAMES = ['certificate', 'password-file', 'device-keys', 'jwt', 'http'] as const;

export class AuthChain implements Authenticator {
  constructor(
    /** The providers asked, in order. */
    readonly providers: readonly AuthProvider[],
    private readonly allowAnonymous: boolean,
    /** True when no provider can check a user name and password (only certificates, or none). */
    private readonly noCredentialCheck = providers.length === 0,
  ) {}

  authenticate(info: ConnectInfo): AuthResult | Promise<AuthResult> {
    return this.from(0, info);
  }

  private from(index: number, info: ConnectInfo): AuthResult | Promise<AuthResult> {
    for (let i = index; i < this.providers.length; i++) {
      const decision = this.providers[i]!.authenticate(info);
      if (decision instanceof Promise) return decision.then((d) => this.settle(d, i, info));
      if (decision.outcome !== 'ignore') return toResult(decision, this.providers[i]!.name);
    }
    return this.nobodyDecided(info);
  }

  private settle(decision: ProviderDecision, index: number, info: ConnectInfo): AuthResult | Promise<AuthResult> {
    return decision.outcome === 'ignore' ? this.from(index + 1, info) : toResult(decision, this.providers[index]!.name);
  }

  private nobodyDecided(info: ConnectInfo): AuthResult {
    // With no provider configured there is nothing to check credentials against: as in
    // mosquitto 2 without a password file, --allow-anonymous (or loopback) decides for everyone,
    // which is also how vehicle gateways (VIN as username, no password) work out of the box.
    if ((info.username === null && info.password === null) || this.noCredentialCheck) {
      return this.allowAnonymous ? AUTH_OK : ANONYMOUS_REFUSED;
    }
    return { ok: false, reason: BAD_CREDENTIALS, detail: 'no provider accepted the credentials' };
  }
}

function toResult(decision: ProviderDecision, provider: string): AuthResult {
  if (decision.outcome === 'deny') return { ok: false, reason: decision.reason, detail: decision.detail };
  if (decision.outcome !== 'allow') throw new Error('unreachable: ignore decided nothing');
  const result: { ok: true; reason: 0; provider: string; username?: string | null; grants?: AuthResult['grants']; expiresAt?: number } = { ok: true, reason: 0, provider };
  if (decision.username !== undefined) result.username = decision.username;
  if (decision.grants !== undefined) result.grants = decision.grants;
  if (decision.expiresAt !== undefined) result.expiresAt = decision.expiresAt;
  return result;
}

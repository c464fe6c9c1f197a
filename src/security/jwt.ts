/**
 * JWT in the password field, verified with jose: HS256 with --jwt-secret, RS256 with the PEM
 * public key in --jwt-public-key. exp and nbf are honoured; exp is required unless
 * --no-jwt-require-exp, and a client is disconnected when its token expires. The client's identity (its ACL user
 * and session owner) is the token's `username` claim, else its `sub`: a CONNECT user name that
 * differs is refused (0x87), none is fine, and a token naming nobody gets the anonymous rules
 * whatever user name is sent. Optional claims: `clientid` must equal the connect's; `publish`
 * and `subscribe` (lists of topic filters) limit the device to those topics. A password that is
 * not a JWT passes to the next provider.
 */
import { readFileSync } from 'node:fs';
import { errors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { ConfigError } from '../errors.js';
import { validateTopicFilter } from '../core/topic.js';
import type { ConnectInfo, TopicGrants } from '../core/auth.js';
import { IGNORE, NOT_AUTHORIZED, badCredentials, credentialDigest, type AuthProvider, type ProviderDecision } from './provider.js';

/** Looks like a compact JWS: three base64url parts, the header a JSON object. */
function looksLikeJwt(password: Buffer): boolean {
  if (password.length < 20 || password.length > 16384) return false;
  const text = password.toString('latin1');
  return text.startsWith('eyJ') && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text);
}

export class JwtProvider implements AuthProvider {
  readonly name = 'jwt';

  private constructor(
    private readonly key: Uint8Array | CryptoKey,
    private readonly algorithm: 'HS256' | 'RS256',
    /** Digest of the key material: a new key revokes tokens of the old one on reload. */
    private readonly keyDigest: string,
    /** --jwt-require-exp */
    private readonly requireExp: boolean,
  ) {}

  /** Any identity (`*`): the token is not kept, so a changed key disconnects every JWT client. */
  credentials(): ReadonlyMap<string, string> {
    return new Map([['*', this.keyDigest]]);
  }

  /** From --jwt-secret (HS256) or --jwt-public-key (a PEM file, RS256). */
  static async create(secret: string | undefined, publicKeyPath: string | undefined, requireExp = true): Promise<JwtProvider> {
    if (publicKeyPath !== undefined) {
      let pem: string;
      try {
        pem = readFileSync(publicKeyPath, 'utf8');
      } catch (err) {
        throw new ConfigError(`cannot read --jwt-public-key ${publicKeyPath}: ${(err as Error).message}`);
      }
      try {
        return new JwtProvider(await importSPKI(pem, 'RS256'), 'RS256', credentialDigest('RS256', pem), requireExp);
      } catch (err) {
        throw new ConfigError(`--jwt-public-key ${publicKeyPath} is not an RSA public key in PEM (SPKI) form: ${(err as Error).message}`);
      }
    }
    if (secret === undefined || Buffer.byteLength(secret) < 32) {
      throw new ConfigError('--jwt-secret must be at least 32 bytes long (HS256 keys shorter than the hash are weak)');
    }
    return new JwtProvider(new TextEncoder().encode(secret), 'HS256', credentialDigest('HS256', secret), requireExp);
  }

  authenticate(info: ConnectInfo): ProviderDecision | Promise<ProviderDecision> {
    if (info.password === null || !looksLikeJwt(info.password)) return IGNORE;
    return jwtVerify(info.password.toString('latin1'), this.key, { algorithms: [this.algorithm], ...(this.requireExp ? { requiredClaims: ['exp'] } : {}) }).then(
      ({ payload }) => decide(payload, info),
      (err: unknown) => badCredentials(refusalDetail(err)),
    );
  }
}

function decide(claims: JWTPayload, info: ConnectInfo): ProviderDecision {
  const clientId = claims['clientid'];
  if (clientId !== undefined && clientId !== info.clientId) return { outcome: 'deny', reason: NOT_AUTHORIZED, detail: 'JWT is for another client id' };
  const identity = tokenIdentity(claims);
  if (identity === undefined) return badCredentials('JWT username and sub claims must be strings');
  // The identity (ACL user, session owner) is the token's: a client must not pick another
  // user's ACL lines by sending their name beside its own token.
  if (identity !== null && info.username !== null && info.username !== identity) {
    return { outcome: 'deny', reason: NOT_AUTHORIZED, detail: `JWT is for "${identity}", not for the user name "${info.username}"` };
  }
  const publish = topicList(claims['publish']);
  const subscribe = topicList(claims['subscribe']);
  if (publish === null || subscribe === null) return badCredentials('JWT publish/subscribe claims must be lists of topic filters');
  const grants: TopicGrants | null = claims['publish'] === undefined && claims['subscribe'] === undefined ? null : { publish, subscribe };
  // jose checked exp (when present) is a number in the future.
  return typeof claims.exp === 'number' ? { outcome: 'allow', username: identity, grants, expiresAt: claims.exp * 1000 } : { outcome: 'allow', username: identity, grants };
}

/** Why jose refused a token, for the log (never the token). */
function refusalDetail(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'JWT expired';
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'exp' && err.reason === 'missing') return 'JWT has no exp claim (required: --jwt-require-exp)';
  return err instanceof errors.JOSEError ? `JWT refused (${err.code})` : 'JWT refused';
}

/** The token's identity: its `username` claim, else `sub`; null when it names nobody; undefined when a claim is not a string. */
function tokenIdentity(claims: JWTPayload): string | null | undefined {
  const username = claims['username'];
  if (username !== undefined) return typeof username === 'string' ? username : undefined;
  if (claims.sub === undefined) return null;
  return typeof claims.sub === 'string' ? claims.sub : undefined;
}

function topicList(value: unknown): string[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return null;
  for (const t of value) if (typeof t !== 'string' || validateTopicFilter(t) !== null) return null;
  return value as string[];
}

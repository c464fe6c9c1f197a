/**
 * Password file: one `user:hash` line per user (see password-hash.ts for the hashes; mosquitto's
 * $7$ files work as they are). `junction passwd FILE USER` writes it. Unknown users pass to the
 * next provider; a known user with a wrong password is refused with 0x86.
 *
 * Login cost: a scrypt or PBKDF2 check takes ~80 ms of one core, so checks run on the hashing
 * pool (password-pool.ts, a thread per core), successful ones are remembered (login-cache.ts)
 * so a fleet logging in again skips the hash, an address failing again and again backs off
 * (login-backoff.ts) instead of filling the pool, and when this provider has the last word an
 * unknown user is checked against a dummy hash of the same cost, so timing does not tell which
 * names exist. The three are kept across reloads (`inherit`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { ConnectInfo } from '../core/auth.js';
import { parseHash, verifyPassword, type StoredHash } from './password-hash.js';
import { LoginBackoff } from './login-backoff.js';
import { LoginCache } from './login-cache.js';
import { PasswordPool, defaultHashThreads } from './password-pool.js';
import { IGNORE, badCredentials, credentialDigest, type AuthProvider, type ProviderDecision } from './provider.js';

/** One line of a password file, kept as text so rewriting it changes nothing else. */
export interface PasswordEntry {
  readonly user: string;
  readonly hash: string;
}

/** Splits password file text into entries; throws ConfigError at the first malformed line. */
export function parsePasswordFile(text: string, source = 'password file'): PasswordEntry[] {
  const entries: PasswordEntry[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ConfigError(`${source} line ${i + 1}: expected user:hash`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const parsed = parseHash(hash);
    if (typeof parsed === 'string') throw new ConfigError(`${source} line ${i + 1} (user "${user}"): ${parsed}`);
    if (seen.has(user)) throw new ConfigError(`${source} line ${i + 1}: user "${user}" appears twice`);
    seen.add(user);
    entries.push({ user, hash });
  }
  return entries;
}

/** Renders entries back into file text. */
export function formatPasswordFile(entries: readonly PasswordEntry[]): string {
  return entries.map((e) => `${e.user}:${e.hash}\n`).join('');
}

/** How password checks are paid for (the --auth-cache-*, --auth-hash-threads and --auth-failure* flags). */
export interface PasswordCheckOptions {
  /** Successful logins remembered; 0 = none. */
  readonly cacheSize: number;
  readonly cacheTtlMs: number;
  readonly hashThreads: number;
  /** Failures in a row from one address before it backs off. */
  readonly failuresAllowed: number;
  /** Longest backoff in ms; 0 = off. */
  readonly backoffMaxMs: number;
}

export const DEFAULT_PASSWORD_CHECKS: PasswordCheckOptions = { cacheSize: 100_000, cacheTtlMs: 3_600_000, hashThreads: defaultHashThreads(), failuresAllowed: 5, backoffMaxMs: 60_000 };

/** 0x9F Connection rate exceeded: the address is backing off after failed logins. */
const LOGIN_BACKOFF = 0x9f;
const ALLOW: ProviderDecision = Object.freeze({ outcome: 'allow' });

/** The hashing pool, the login cache and the failures per address: what a reload keeps. */
export class PasswordChecks {
  readonly cache: LoginCache;
  readonly backoff: LoginBackoff;
  private hashPool: PasswordPool | null = null;

  constructor(readonly options: PasswordCheckOptions) {
    this.cache = new LoginCache(options.cacheSize, options.cacheTtlMs);
    this.backoff = new LoginBackoff(options.failuresAllowed, options.backoffMaxMs);
  }

  /** The pool, started on the first check that needs it. */
  get pool(): PasswordPool {
    return (this.hashPool ??= new PasswordPool(this.options.hashThreads));
  }

  /** True when `other` was made from the same options (a reload that changed none of them). */
  sameOptions(other: PasswordCheckOptions): boolean {
    const a = this.options;
    return (
      a.cacheSize === other.cacheSize &&
      a.cacheTtlMs === other.cacheTtlMs &&
      a.hashThreads === other.hashThreads &&
      a.failuresAllowed === other.failuresAllowed &&
      a.backoffMaxMs === other.backoffMaxMs
    );
  }
}

interface UserHash {
  readonly text: string;
  readonly parsed: StoredHash;
}

/** Checks usernames and passwords against a loaded file. */
export class PasswordFileProvider implements AuthProvider {
  readonly name = 'password-file';
  /**
   * True when no provider after this one checks passwords: an unknown user is then refused
   * whatever this provider says, so it pays a dummy check (same cost) and counts as a failure.
   */
  decidesUnknownUsers = false;
  private readonly users: ReadonlyMap<string, UserHash>;
  private readonly entries: readonly PasswordEntry[];
  private readonly dummy: StoredHash;
  private checks: PasswordChecks;

  constructor(entries: readonly PasswordEntry[], checks: PasswordChecks = new PasswordChecks(DEFAULT_PASSWORD_CHECKS)) {
    const users = new Map<string, UserHash>();
    for (const e of entries) users.set(e.user, { text: e.hash, parsed: parseHash(e.hash) as StoredHash });
    this.users = users;
    this.entries = entries;
    this.checks = checks;
    this.dummy = dummyLike(users.values().next().value?.parsed);
  }

  /** Each user with a digest of its hash: a changed password revokes the old one's clients on reload. */
  credentials(): ReadonlyMap<string, string> {
    return new Map(this.entries.map((e) => [e.user, credentialDigest(e.hash)]));
  }

  /** Reload: keeps the previous file's pool, remembered logins and failures (entries for changed hashes no longer match). */
  inherit(previous: AuthProvider): void {
    if (previous instanceof PasswordFileProvider && previous.checks.sameOptions(this.checks.options)) this.checks = previous.checks;
  }

  /** Reads the file named by --password-file. */
  static load(path: string, checks?: PasswordChecks): PasswordFileProvider {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read --password-file ${path}: ${(err as Error).message}`);
    }
    return new PasswordFileProvider(parsePasswordFile(text, path), checks);
  }

  get size(): number {
    return this.users.size;
  }

  authenticate(info: ConnectInfo): ProviderDecision | Promise<ProviderDecision> {
    const username = info.username;
    if (username === null) return IGNORE;
    const user = this.users.get(username);
    const password = info.password;
    const { cache, backoff } = this.checks;
    const address = info.remoteAddress;
    if (user === undefined) {
      if (!this.decidesUnknownUsers || password === null) return IGNORE;
      const wait = backoff.waitMs(address, Date.now());
      if (wait > 0) return backingOff(wait);
      // Costs what a known user's check costs, so timing does not tell which names exist.
      return this.check(this.dummy, password, info).then((ok) => {
        if (ok === null) return backingOff(backoff.waitMs(address, Date.now()));
        backoff.failed(address, Date.now());
        return IGNORE;
      });
    }
    if (password === null) return badCredentials('no password given');
    let key: string | null = null;
    if (cache.enabled) {
      key = cache.keyOf(username, password);
      if (cache.matches(key, user.text)) {
        backoff.succeeded(address);
        return ALLOW;
      }
    }
    const wait = backoff.waitMs(address, Date.now());
    if (wait > 0) return backingOff(wait);
    return this.check(user.parsed, password, info).then((ok) => {
      if (ok === null) return backingOff(backoff.waitMs(address, Date.now()));
      if (!ok) {
        backoff.failed(address, Date.now());
        return badCredentials('wrong password');
      }
      backoff.succeeded(address);
      if (key !== null) cache.remember(key, user.text);
      return ALLOW;
    });
  }

  /**
   * Checks on the pool; null when, by the time its turn came, the client was gone or its
   * address had started backing off (nothing was hashed).
   */
  private check(stored: StoredHash, password: Buffer, info: ConnectInfo): Promise<boolean | null> {
    if (stored.kind === 'sha512') return verifyPassword(stored, password);
    const backoff = this.checks.backoff;
    const address = info.remoteAddress;
    const waiting = info.waiting;
    const wanted = backoff.enabled || waiting !== undefined ? () => (waiting === undefined || waiting()) && backoff.waitMs(address, Date.now()) === 0 : null;
    return this.checks.pool.verify(stored, password, wanted);
  }
}

function backingOff(waitMs: number): ProviderDecision {
  return { outcome: 'deny', reason: LOGIN_BACKOFF, detail: `too many failed logins from this address; retry in ${Math.max(1, Math.ceil(waitMs / 1000))} s (--auth-failure-backoff)` };
}

/** A hash of the same kind and cost as `like` (the file's first entry) that no password matches. */
function dummyLike(like: StoredHash | undefined): StoredHash {
  const base: StoredHash = like ?? { kind: 'scrypt', salt: Buffer.alloc(16), hash: Buffer.alloc(64), iterations: 0, N: 16384, r: 8, p: 1 };
  return { ...base, salt: randomBytes(base.salt.length || 16), hash: randomBytes(base.hash.length || 64) };
}

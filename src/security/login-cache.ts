/**
 * Successful password checks remembered, so a fleet logging in again skips the hash. Keyed by
 * an HMAC of username and password under a key made fresh per process (the passwords and
 * their plain digests are never kept, and the keys mean nothing outside this process); each
 * entry holds the stored hash it was checked against, so a password changed in the reloaded
 * file no longer matches. Bounded (least recently used go first) with a time to live.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { LruCache } from './decision-cache.js';

export class LoginCache {
  private readonly secret = randomBytes(32);
  private readonly entries: LruCache<string>;

  constructor(
    readonly capacity: number,
    readonly ttlMs: number,
    now: () => number = Date.now,
  ) {
    this.entries = new LruCache<string>(capacity, ttlMs, now);
  }

  /** False when nothing is remembered (--auth-cache-size 0): callers skip the HMAC. */
  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** The cache key of these credentials. */
  keyOf(username: string, password: Buffer): string {
    return createHmac('sha256', this.secret).update(username).update('\u0000').update(password).digest('base64');
  }

  /** True when `key` passed a check against `storedHash` within the time to live. */
  matches(key: string, storedHash: string): boolean {
    return this.entries.get(key) === storedHash;
  }

  /** Remembers that `key` passed the check against `storedHash`. */
  remember(key: string, storedHash: string): void {
    this.entries.set(key, storedHash);
  }
}

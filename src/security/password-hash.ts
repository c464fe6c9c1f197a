/**
 * Salted password hashes with node:crypto, checked off the event loop (libuv's thread pool).
 * Written: `$scrypt$N=16384,r=8,p=1$<salt>$<hash>` (default) or `$pbkdf2-sha512$<iterations>$<salt>$<hash>`.
 * Also read, for files brought from mosquitto_passwd: `$7$<iterations>$<salt>$<hash>`
 * (PBKDF2-SHA512) and the older `$6$<salt>$<hash>` (one salted SHA-512). Salts and hashes are base64.
 */
import { createHash, pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (password: Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** Which algorithm `hashPassword` writes. */
export type HashKind = 'scrypt' | 'pbkdf2';

const SCRYPT = { N: 16384, r: 8, p: 1 };
const PBKDF2_ITERATIONS = 210_000;
const SALT_BYTES = 16;
const HASH_BYTES = 64;
// Bounds on parameters read from a file, so a hand-edited line cannot stall the thread pool.
const MAX_SCRYPT_N = 1 << 20;
const MAX_ITERATIONS = 10_000_000;

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string, kind: HashKind = 'scrypt'): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const secret = Buffer.from(password, 'utf8');
  if (kind === 'pbkdf2') {
    const hash = await pbkdf2Async(secret, salt, PBKDF2_ITERATIONS, HASH_BYTES, 'sha512');
    return `$pbkdf2-sha512$${PBKDF2_ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
  }
  const hash = await scryptAsync(secret, salt, HASH_BYTES, { ...SCRYPT, maxmem: 256 * SCRYPT.N * SCRYPT.r });
  return `$scrypt$N=${SCRYPT.N},r=${SCRYPT.r},p=${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** A parsed stored hash, ready to check candidates against. */
export interface StoredHash {
  readonly kind: 'scrypt' | 'pbkdf2-sha512' | 'sha512';
  readonly salt: Buffer;
  readonly hash: Buffer;
  readonly iterations: number;
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Parses a stored hash; returns a message saying what is wrong instead when it is not one. */
export function parseHash(text: string): StoredHash | string {
  const parts = text.split('$');
  // A leading '$' gives an empty first part.
  if (parts[0] !== '' || parts.length < 4) return 'not a $scheme$... hash';
  const scheme = parts[1];
  const b64 = (s: string | undefined): Buffer | null => (s !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(s) ? Buffer.from(s, 'base64') : null);
  if (scheme === 'scrypt' && parts.length === 5) {
    const params = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(parts[2]!);
    const salt = b64(parts[3]);
    const hash = b64(parts[4]);
    if (params === null || salt === null || hash === null) return 'malformed $scrypt$ hash';
    const N = Number(params[1]);
    const r = Number(params[2]);
    const p = Number(params[3]);
    if (N < 2 || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return 'scrypt parameters out of range';
    return { kind: 'scrypt', salt, hash, iterations: 0, N, r, p };
  }
  if ((scheme === 'pbkdf2-sha512' || scheme === '7') && parts.length === 5) {
    const iterations = /^\d+$/.test(parts[2]!) ? Number(parts[2]) : 0;
    const salt = b64(parts[3]);
    const hash = b64(parts[4]);
    if (iterations < 1 || iterations > MAX_ITERATIONS || salt === null || hash === null) return `malformed $${scheme}$ hash`;
    return { kind: 'pbkdf2-sha512', salt, hash, iterations, N: 0, r: 0, p: 0 };
  }
  if (scheme === '6' && parts.length === 4) {
    const salt = b64(parts[2]);
    const hash = b64(parts[3]);
    if (salt === null || hash === null) return 'malformed $6$ hash';
    return { kind: 'sha512', salt, hash, iterations: 0, N: 0, r: 0, p: 0 };
  }
  return `unknown hash scheme "$${scheme}$" (expected $scrypt$, $pbkdf2-sha512$, $7$ or $6$)`;
}

/** True when `password` hashes to the stored value; the comparison takes constant time. */
export async function verifyPassword(stored: StoredHash, password: Buffer): Promise<boolean> {
  let candidate: Buffer;
  switch (stored.kind) {
    case 'scrypt':
      candidate = await scryptAsync(password, stored.salt, stored.hash.length, { N: stored.N, r: stored.r, p: stored.p, maxmem: 256 * stored.N * stored.r + 1024 * 1024 });
      break;
    case 'pbkdf2-sha512':
      candidate = await pbkdf2Async(password, stored.salt, stored.iterations, stored.hash.length, 'sha512');
      break;
    case 'sha512':
      // mosquitto 1.x: SHA-512 over password then salt.
      candidate = createHash('sha512').update(password).update(stored.salt).digest();
      break;
  }
  return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
}

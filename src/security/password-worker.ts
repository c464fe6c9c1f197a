/**
 * The piscina task that checks one password against a stored scrypt or PBKDF2 hash, on a
 * thread of the hashing pool (password-pool.ts). Synchronous: the thread is the unit of
 * parallelism, and the comparison happens here so only a boolean travels back.
 */
import { pbkdf2Sync, scryptSync, timingSafeEqual } from 'node:crypto';

/** One check: the candidate password and the stored hash's parameters. */
export interface PasswordTask {
  readonly kind: 'scrypt' | 'pbkdf2-sha512';
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
  readonly iterations: number;
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** True when the password derives to the stored hash (constant-time comparison). */
export default function checkPassword(task: PasswordTask): boolean {
  const keylen = task.hash.length;
  const candidate =
    task.kind === 'scrypt'
      ? scryptSync(task.password, task.salt, keylen, { N: task.N, r: task.r, p: task.p, maxmem: 256 * task.N * task.r + 1024 * 1024 })
      : pbkdf2Sync(task.password, task.salt, task.iterations, keylen, 'sha512');
  return candidate.length === keylen && timingSafeEqual(candidate, task.hash);
}

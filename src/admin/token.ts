/**
 * The admin listener's bearer token. From --admin-token-file (its first line; re-read on
 * reload), or, without one, generated at start into <data-dir>/admin-token (mode 0600), which
 * `junction ctl` reads; the listener then binds to loopback only. Compared in constant time;
 * never logged.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/** Shortest token accepted from a file: guessing must not be an option. */
const MIN_TOKEN_LENGTH = 16;

/** File name of the generated token inside the data dir. */
export const GENERATED_TOKEN_FILE = 'admin-token';

/** Reads a token file: its first line, trimmed; throws ConfigError naming the flag. */
export function readTokenFile(path: string, flag = '--admin-token-file'): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${flag} ${path}: ${(err as Error).message}`);
  }
  const token = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`${flag} ${path}: the token (its first line) must be at least ${MIN_TOKEN_LENGTH} characters`);
  if (/\s/.test(token)) throw new ConfigError(`${flag} ${path}: the token must not contain spaces`);
  return token;
}

/** Writes a fresh random token to <dataDir>/admin-token (0600) and returns it; throws ConfigError naming --data-dir. */
export function generateTokenFile(dataDir: string): { token: string; path: string } {
  const path = join(dataDir, GENERATED_TOKEN_FILE);
  const token = randomBytes(24).toString('base64url');
  try {
    mkdirSync(dataDir, { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (err) {
    throw new ConfigError(`cannot write the admin token to --data-dir ${dataDir}: ${(err as Error).message}; give --admin-token-file instead`);
  }
  return { token, path };
}

/** The token requests are checked against. */
export class AdminToken {
  private digest: Buffer;

  constructor(
    token: string,
    /** The file it came from, re-read by reload(); null for a generated token (it stays). */
    readonly file: string | null,
  ) {
    this.digest = sha256(token);
  }

  /** True when an Authorization header carries this token (`Bearer TOKEN`). */
  accepts(authorization: string): boolean {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match === null) return false;
    // Hashing first makes the comparison constant-time whatever the lengths.
    return timingSafeEqual(sha256(match[1]!), this.digest);
  }

  /** Re-reads the token file; true when the token changed. Throws ConfigError (the old token stays). */
  reload(): boolean {
    if (this.file === null) return false;
    const next = sha256(readTokenFile(this.file));
    if (timingSafeEqual(next, this.digest)) return false;
    this.digest = next;
    return true;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

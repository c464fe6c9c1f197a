/**
 * Password file: one `user:hash` line per user (see password-hash.ts for the hashes; mosquitto's
 * $7$ files work as they are). `junction passwd FILE USER` writes it. Unknown users pass to the
 * next provider; a known user with a wrong password is refused with 0x86.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { ConnectInfo } from '../core/auth.js';
import { parseHash, verifyPassword, type StoredHash } from './password-hash.js';
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

/** Checks usernames and passwords against a loaded file. */
export class PasswordFileProvider implements AuthProvider {
  readonly name = 'password-file';
  private readonly users: ReadonlyMap<string, StoredHash>;
  private readonly entries: readonly PasswordEntry[];

  constructor(entries: readonly PasswordEntry[]) {
    const users = new Map<string, StoredHash>();
    for (const e of entries) users.set(e.user, parseHash(e.hash) as StoredHash);
    this.users = users;
    this.entries = entries;
  }

  /** Each user with a digest of its hash: a changed password revokes the old one's clients on reload. */
  credentials(): ReadonlyMap<string, string> {
    return new Map(this.entries.map((e) => [e.user, credentialDigest(e.hash)]));
  }

  /** Reads the file named by --password-file. */
  static load(path: string): PasswordFileProvider {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read --password-file ${path}: ${(err as Error).message}`);
    }
    return new PasswordFileProvider(parsePasswordFile(text, path));
  }

  get size(): number {
    return this.users.size;
  }

  authenticate(info: ConnectInfo): ProviderDecision | Promise<ProviderDecision> {
    if (info.username === null) return IGNORE;
    const stored = this.users.get(info.username);
    if (stored === undefined) return IGNORE;
    if (info.password === null) return badCredentials('no password given');
    return verifyPassword(stored, info.password).then((ok) => (ok ? { outcome: 'allow' } : badCredentials('wrong password')));
  }
}

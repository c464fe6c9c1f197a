/**
 * Reloading security without a restart (SIGHUP, POST /api/v1/reload): the providers' files
 * (password file, device keys, JWT key) are read again and the chain rebuilt from the options;
 * the ACL file is read again and swapped under every client's guard. Everything is read and
 * checked before anything switches, so a broken file leaves the old configuration in force.
 * The caller applies the answer to connected clients: `revoked` names those whose credentials
 * are gone or changed, and when the rules changed every client re-checks its subscriptions.
 */
import type { Security } from '../core/auth.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { GrantsFirstAuthorizer } from './acl-file.js';
import { AuthChain } from './chain.js';
import type { SecurityOptions } from './flags.js';
import { aclRules, buildAuthentication } from './index.js';
import type { AuthProvider } from './provider.js';

/** What a security reload did. */
export interface SecurityReload {
  /** One line per part that changed, for the log and the API (counts, never secrets). */
  readonly changes: readonly string[];
  /** True when topic rules changed: guards forget their decisions and subscriptions are re-checked. */
  readonly rulesChanged: boolean;
  /** Why a client admitted by `provider` (null: the anonymous rule) as `username` must go, or null. */
  revoked(username: string | null, provider: string | null): string | null;
}

/** Re-reads and swaps in the security files of `options`; throws ConfigError (nothing switched) when one is broken. */
export async function reloadSecurity(live: Security, before: SecurityOptions, options: SecurityOptions & { readonly host: string }, log: Logger): Promise<SecurityReload> {
  const authorizer = live.authorizer;
  if (!(authorizer instanceof GrantsFirstAuthorizer)) throw new ConfigError('this server was not built with reloadable security');
  if ((before.aclFile === undefined) !== (options.aclFile === undefined)) {
    // Without an ACL file at start, clients got a guard that caches nothing and asks no rules.
    throw new ConfigError(`--acl-file was ${before.aclFile === undefined ? 'added' : 'removed'}: that needs a restart (a changed file or path reloads)`);
  }
  const quiet = log.child({ reload: true });
  const next = await buildAuthentication(options, quiet);
  const rules = aclRules(options);

  const oldProviders = providersOf(live);
  const newProviders = new Map((next.authenticator instanceof AuthChain ? next.authenticator.providers : []).map((p) => [p.name, p]));
  for (const [name, fresh] of newProviders) {
    const old = oldProviders.get(name);
    if (old !== undefined) fresh.inherit?.(old);
  }
  const changes: string[] = [];
  for (const [name, old] of oldProviders) {
    const fresh = newProviders.get(name);
    if (fresh === undefined) changes.push(`${name}: removed from the chain`);
    else {
      const diff = describeDiff(old, fresh);
      if (diff !== null) changes.push(`${name}: ${diff}`);
    }
  }
  for (const name of newProviders.keys()) if (!oldProviders.has(name)) changes.push(`${name}: added to the chain`);
  const anonymousBefore = live.admitsAnonymous;
  if (anonymousBefore !== next.admitsAnonymous) changes.push(`anonymous clients: ${next.admitsAnonymous ? 'now admitted' : 'no longer admitted'}`);
  const rulesChanged = before.aclFile !== undefined;
  if (rulesChanged) changes.push(`acl-file: rules read again from ${options.aclFile}`);

  // Everything read and checked: switch.
  live.authenticator = next.authenticator;
  live.admitsAnonymous = next.admitsAnonymous;
  live.providers = next.providers;
  authorizer.replaceRules(rules);

  const oldCredentials = new Map<string, ReadonlyMap<string, string>>();
  const newCredentials = new Map<string, ReadonlyMap<string, string> | null>();
  for (const [name, p] of oldProviders) {
    const creds = p.credentials?.();
    if (creds !== undefined) oldCredentials.set(name, creds);
  }
  for (const name of oldCredentials.keys()) newCredentials.set(name, newProviders.get(name)?.credentials?.() ?? null);
  return {
    changes,
    rulesChanged,
    revoked(username, provider) {
      if (provider === null) return anonymousBefore && !next.admitsAnonymous ? 'anonymous clients are no longer admitted' : null;
      const old = oldCredentials.get(provider);
      if (old === undefined) return null;
      const fresh = newCredentials.get(provider) ?? null;
      if (fresh === null) return `${provider} was removed from the chain`;
      const key = old.has('*') ? '*' : username;
      if (key === null) return null;
      const before = old.get(key);
      if (before === undefined) return null;
      const after = fresh.get(key);
      if (after === undefined) return `${provider}: the credentials of ${key === '*' ? 'every client' : `"${key}"`} were removed`;
      return after === before ? null : `${provider}: the credentials of ${key === '*' ? 'every client' : `"${key}"`} changed`;
    },
  };
}

function providersOf(security: Security): Map<string, AuthProvider> {
  const chain = security.authenticator;
  return new Map((chain instanceof AuthChain ? chain.providers : []).map((p) => [p.name, p]));
}

/** "3 identities: 1 added, 1 removed, 1 changed", or null when nothing changed. */
function describeDiff(old: AuthProvider, fresh: AuthProvider): string | null {
  const a = old.credentials?.();
  const b = fresh.credentials?.();
  if (a === undefined || b === undefined) return null;
  let added = 0;
  let removed = 0;
  let changed = 0;
  for (const [id, digest] of b) {
    const before = a.get(id);
    if (before === undefined) added++;
    else if (before !== digest) changed++;
  }
  for (const id of a.keys()) if (!b.has(id)) removed++;
  if (added + removed + changed === 0) return null;
  if (a.has('*')) return 'the key changed';
  return `${b.size} identities (${added} added, ${removed} removed, ${changed} changed)`;
}

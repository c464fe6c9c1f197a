/**
 * ACL file in mosquitto's format, for operators who bring theirs along:
 *
 *   # topic lines before the first `user` line apply to anonymous clients
 *   topic read $SYS/#
 *   user alice
 *   topic readwrite home/#          (access may be left out: readwrite)
 *   topic deny home/secret
 *   pattern write devices/%c/up     (every client; %c = client id, %u = username)
 *
 * A deny rule wins over any grant; without a matching grant the answer is no.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { validateTopicFilter } from '../core/topic.js';
import type { Authorizer, TopicGrants } from '../core/auth.js';
import { anyCoversFilter, anyMatchesTopic, expandPattern, filtersIntersect, plainFilter, ruleCoversFilter, ruleMatchesTopic } from './topic-rules.js';

/** What a rule allows: read = subscribe, write = publish; deny refuses both. */
export type AclAccess = 'read' | 'write' | 'readwrite' | 'deny';

export interface AclRule {
  readonly access: AclAccess;
  readonly topic: string;
}

/** A parsed ACL file. */
export interface AclTable {
  /** Rules before the first `user` line. */
  readonly anonymous: readonly AclRule[];
  readonly users: ReadonlyMap<string, readonly AclRule[]>;
  /** `pattern` rules, for every client, with %c and %u still in them. */
  readonly patterns: readonly AclRule[];
}

const ACCESS_WORDS: ReadonlySet<string> = new Set(['read', 'write', 'readwrite', 'deny']);

/** Parses ACL text; throws ConfigError naming the file and line of the first mistake. */
export function parseAcl(text: string, source = 'ACL file'): AclTable {
  const anonymous: AclRule[] = [];
  const users = new Map<string, AclRule[]>();
  const patterns: AclRule[] = [];
  let current: AclRule[] = anonymous;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source} line ${i + 1}`;
    const space = line.search(/\s/);
    const word = space === -1 ? line : line.slice(0, space);
    const rest = space === -1 ? '' : line.slice(space).trim();
    if (word === 'user') {
      if (rest === '') throw new ConfigError(`${where}: "user" needs a user name`);
      current = users.get(rest) ?? [];
      users.set(rest, current);
      continue;
    }
    if (word !== 'topic' && word !== 'pattern') {
      throw new ConfigError(`${where}: unknown directive "${word}" (expected topic, pattern or user)`);
    }
    const rule = parseRule(rest, where);
    (word === 'pattern' ? patterns : current).push(rule);
  }
  return { anonymous, users, patterns };
}

function parseRule(rest: string, where: string): AclRule {
  const space = rest.search(/\s/);
  const first = space === -1 ? rest : rest.slice(0, space);
  let access: AclAccess = 'readwrite';
  let topic = rest;
  if (ACCESS_WORDS.has(first)) {
    access = first as AclAccess;
    topic = space === -1 ? '' : rest.slice(space).trim();
  } else if (space !== -1) {
    // Two words without a known access word first: a mistyped access ("Deny", "rw") would
    // otherwise become a grant on a topic named "Deny alice/secret".
    const hint = ACCESS_WORDS.has(first.toLowerCase()) ? ` (access words are lower case: "${first.toLowerCase()}")` : '';
    throw new ConfigError(`${where}: unknown access "${first}"${hint}; expected read, write, readwrite or deny (a topic holding a space needs the access word first: topic readwrite ${rest})`);
  }
  if (topic === '') throw new ConfigError(`${where}: the rule has no topic`);
  // %c / %u are placeholders of a whole level, valid as they stand.
  const problem = validateTopicFilter(topic);
  if (problem !== null) throw new ConfigError(`${where}: topic "${topic}" is not a valid filter: ${problem}`);
  return { access, topic };
}

/** Reads and parses an ACL file. */
export function loadAclFile(path: string): AclTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read --acl-file ${path}: ${(err as Error).message}`);
  }
  return parseAcl(text, path);
}

/** Decides from an ACL table; asked through each connection's decision cache. */
export class AclAuthorizer implements Authorizer {
  constructor(private readonly table: AclTable) {}

  canPublish(clientId: string, username: string | null, topic: string): boolean {
    let granted = false;
    for (const rule of this.rulesFor(clientId, username)) {
      if (!ruleMatchesTopic(rule.topic, topic)) continue;
      if (rule.access === 'deny') return false;
      if (rule.access !== 'read') granted = true;
    }
    return granted;
  }

  canSubscribe(clientId: string, username: string | null, filter: string): boolean {
    const plain = plainFilter(filter);
    let granted = false;
    for (const rule of this.rulesFor(clientId, username)) {
      if (rule.access === 'deny') {
        if (filtersIntersect(rule.topic, plain)) return false;
      } else if (rule.access !== 'write' && ruleCoversFilter(rule.topic, plain)) {
        granted = true;
      }
    }
    return granted;
  }

  private *rulesFor(clientId: string, username: string | null): Generator<AclRule> {
    const own = username === null ? this.table.anonymous : this.table.users.get(username);
    if (own !== undefined) yield* own;
    for (const p of this.table.patterns) {
      const topic = expandPattern(p.topic, clientId, username);
      if (topic !== null) yield topic === p.topic ? p : { access: p.access, topic };
    }
  }
}

/** No ACL file: everything, except publishing into the broker's own `$SYS/brokers/` events. */
export const OPEN_AUTHORIZER: Authorizer = Object.freeze({
  canPublish: (_clientId: string, _username: string | null, topic: string) => !topic.startsWith('$SYS/brokers/'),
  canSubscribe: () => true,
});

/**
 * Clients with topic lists from their token or JWT are held to exactly those; everyone else
 * goes to `inner` (the ACL file, or the open policy).
 */
export class GrantsFirstAuthorizer implements Authorizer {
  constructor(private inner: Authorizer) {}

  /** Swaps the rules for clients without grants (a reloaded ACL file); guards must forget their cached decisions. */
  replaceRules(inner: Authorizer): void {
    this.inner = inner;
  }

  canPublish(clientId: string, username: string | null, topic: string, grants?: TopicGrants | null): boolean {
    if (grants) return anyMatchesTopic(grants.publish, topic);
    return this.inner.canPublish(clientId, username, topic);
  }

  canSubscribe(clientId: string, username: string | null, filter: string, grants?: TopicGrants | null): boolean {
    if (grants) return anyCoversFilter(grants.subscribe, plainFilter(filter));
    return this.inner.canSubscribe(clientId, username, filter);
  }
}

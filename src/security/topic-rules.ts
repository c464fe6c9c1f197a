/**
 * Topic tests for access rules. A rule is an MQTT filter; a PUBLISH is allowed by a rule that
 * matches its topic, a SUBSCRIBE by a rule that covers its whole filter (every topic the filter
 * can match is matched by the rule). Decisions are taken at SUBSCRIBE time, never per delivery,
 * so a filter that overlaps a deny rule anywhere is refused. As in mosquitto, a rule reaches
 * `$` topics only when it starts with `$` itself.
 */
import { filterMatches, parseSharedFilter } from '../core/topic.js';

/** True when the rule (a filter) matches the topic name, `$` topics only by `$` rules. */
export function ruleMatchesTopic(rule: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 0x24 && rule.charCodeAt(0) !== 0x24) return false;
  return filterMatches(rule, topic);
}

/** True when every topic `filter` can match is matched by `rule`. */
export function ruleCoversFilter(rule: string, filter: string): boolean {
  if (filter.charCodeAt(0) === 0x24 && rule.charCodeAt(0) !== 0x24) return false;
  const r = rule.split('/');
  const f = filter.split('/');
  for (let i = 0; i < r.length; i++) {
    const level = r[i]!;
    if (level === '#') return true;
    if (i >= f.length) return false;
    const want = f[i]!;
    if (want === '#') return false;
    if (level === '+') continue;
    if (want === '+' || want !== level) return false;
  }
  return r.length === f.length;
}

/** True when some topic is matched by both filters (a deny rule overlapping a subscription). */
export function filtersIntersect(a: string, b: string): boolean {
  // `$` topics are only reached by filters that spell `$` out.
  const aDollar = a.charCodeAt(0) === 0x24;
  const bDollar = b.charCodeAt(0) === 0x24;
  if ((aDollar && !bDollar && isWildLevel(b)) || (bDollar && !aDollar && isWildLevel(a))) return false;
  const x = a.split('/');
  const y = b.split('/');
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return false;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
  return true;
}

function isWildLevel(filter: string): boolean {
  const c = filter.charCodeAt(0);
  return c === 0x2b || c === 0x23;
}

/** The filter a subscription really matches: `$share/{group}/f` and `$queue/f` give `f`. */
export function plainFilter(filter: string): string {
  return parseSharedFilter(filter)?.filter ?? filter;
}

/**
 * Fills %c (client id) and %u (username) in a pattern rule; null when the rule cannot apply:
 * %u for an anonymous client, or a value holding `/`, `+` or `#`, which would widen the rule
 * (mosquitto refuses those too, CVE-2017-7650).
 */
export function expandPattern(pattern: string, clientId: string, username: string | null): string | null {
  if (pattern.indexOf('%') === -1) return pattern;
  if (pattern.includes('%u')) {
    if (username === null || !safeLevel(username)) return null;
  }
  if (pattern.includes('%c') && !safeLevel(clientId)) return null;
  return pattern.replace(/%[cu]/g, (m) => (m === '%c' ? clientId : username!));
}

function safeLevel(value: string): boolean {
  return value !== '' && !/[/+#]/.test(value);
}

/** True when one of `rules` matches the topic. */
export function anyMatchesTopic(rules: readonly string[], topic: string): boolean {
  for (const rule of rules) if (ruleMatchesTopic(rule, topic)) return true;
  return false;
}

/** True when one of `rules` covers the whole (plain) filter. */
export function anyCoversFilter(rules: readonly string[], filter: string): boolean {
  for (const rule of rules) if (ruleCoversFilter(rule, filter)) return true;
  return false;
}

/**
 * Topic name and filter rules (MQTT 5 section 4.7), shared-subscription parsing, and the
 * reference matcher. `filterMatches` is deliberately the plain split-and-compare form: it is the
 * oracle the trie and the retained index are tested against, so it must stay obviously right.
 */

/** Longest topic or filter on the wire: a UTF-8 string with a two-byte length [MQTT-1.5.4-1]. */
const MAX_TOPIC_BYTES = 65535;

const SHARE_PREFIX = '$share/';
const QUEUE_PREFIX = '$queue/';

/** A shared subscription split into its group and inner filter. */
export interface SharedFilter {
  /** The share name; `$queue` for the legacy `$queue/` form. */
  group: string;
  /** The filter the group subscribes to, without the `$share/{group}/` prefix. */
  filter: string;
}

/** Returns null when `topic` may be published to, else a message naming the problem. */
export function validateTopicName(topic: string): string | null {
  if (topic.length === 0) return 'topic is empty'; // [MQTT-4.7.3-1]
  if (topic.indexOf('+') !== -1) return "topic contains '+' wildcard"; // [MQTT-3.3.2-2]
  if (topic.indexOf('#') !== -1) return "topic contains '#' wildcard";
  if (topic.indexOf('\u0000') !== -1) return 'topic contains U+0000'; // [MQTT-4.7.3-2]
  if (exceedsMaxBytes(topic)) return `topic longer than ${MAX_TOPIC_BYTES} bytes`;
  return null;
}

/** Returns null when `filter` may be subscribed to (plain or shared), else a message naming the problem. */
export function validateTopicFilter(filter: string): string | null {
  if (filter.length === 0) return 'filter is empty'; // [MQTT-4.7.3-1]
  if (filter.indexOf('\u0000') !== -1) return 'filter contains U+0000'; // [MQTT-4.7.3-2]
  if (exceedsMaxBytes(filter)) return `filter longer than ${MAX_TOPIC_BYTES} bytes`;
  if (filter === '$share' || filter.startsWith(SHARE_PREFIX)) {
    const rest = filter.slice(SHARE_PREFIX.length);
    const slash = rest.indexOf('/');
    const group = slash === -1 ? rest : rest.slice(0, slash);
    if (group.length === 0) return 'shared subscription group is empty'; // [MQTT-4.8.2-1]
    if (group.indexOf('+') !== -1 || group.indexOf('#') !== -1) {
      return "shared subscription group contains '+' or '#'"; // [MQTT-4.8.2-2]
    }
    const inner = slash === -1 ? '' : rest.slice(slash + 1);
    if (inner.length === 0) return 'shared subscription has no filter';
    return validatePlainFilter(inner);
  }
  if (filter === '$queue' || filter.startsWith(QUEUE_PREFIX)) {
    const inner = filter.slice(QUEUE_PREFIX.length);
    if (inner.length === 0) return 'shared subscription has no filter';
    return validatePlainFilter(inner);
  }
  return validatePlainFilter(filter);
}

/** Checks wildcard placement level by level; the caller has checked emptiness and length. */
function validatePlainFilter(filter: string): string | null {
  let start = 0;
  for (;;) {
    let end = filter.indexOf('/', start);
    const last = end === -1;
    if (last) end = filter.length;
    const len = end - start;
    const hash = filter.indexOf('#', start);
    if (hash !== -1 && hash < end) {
      if (len !== 1) return "'#' must be alone in its level"; // [MQTT-4.7.1-1]
      if (!last) return "'#' must be the last level";
    }
    const plus = filter.indexOf('+', start);
    if (plus !== -1 && plus < end && len !== 1) return "'+' must be alone in its level"; // [MQTT-4.7.1-2]
    if (last) return null;
    start = end + 1;
  }
}

/** Byte length check without encoding: only strings that might be too long are measured. */
function exceedsMaxBytes(s: string): boolean {
  // A UTF-16 code unit encodes to at most three UTF-8 bytes.
  if (s.length * 3 <= MAX_TOPIC_BYTES) return false;
  return Buffer.byteLength(s, 'utf8') > MAX_TOPIC_BYTES;
}

/**
 * Splits `$share/{group}/{filter}` or `$queue/{filter}`; null for a plain filter or a shared one
 * without a group or filter (validate first to learn why).
 */
export function parseSharedFilter(filter: string): SharedFilter | null {
  if (filter.startsWith(SHARE_PREFIX)) {
    const slash = filter.indexOf('/', SHARE_PREFIX.length);
    if (slash <= SHARE_PREFIX.length || slash === filter.length - 1) return null;
    return { group: filter.slice(SHARE_PREFIX.length, slash), filter: filter.slice(slash + 1) };
  }
  if (filter.startsWith(QUEUE_PREFIX)) {
    if (filter.length === QUEUE_PREFIX.length) return null;
    return { group: '$queue', filter: filter.slice(QUEUE_PREFIX.length) };
  }
  return null;
}

/** True when `filter` contains a `+` or `#` wildcard. */
export function hasWildcard(filter: string): boolean {
  return filter.indexOf('+') !== -1 || filter.indexOf('#') !== -1;
}

/**
 * Reference matcher: does the (valid, non-shared) `filter` match the topic name `topic`?
 * `#` also matches the parent level (`a/#` matches `a`); a filter starting with a wildcard
 * never matches a topic starting with `$` [MQTT-4.7.2-1].
 */
export function filterMatches(filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 0x24 /* $ */ && (filter.charCodeAt(0) === 0x2b /* + */ || filter.charCodeAt(0) === 0x23) /* # */) {
    return false;
  }
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true; // [MQTT-4.7.1-1] matches this level, its children and the parent
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Number of levels in a topic name or filter (`a/b/c` has 3; `/` alone has 2). */
export function topicLevels(topic: string): number {
  let n = 1;
  for (let i = topic.indexOf('/'); i !== -1; i = topic.indexOf('/', i + 1)) n++;
  return n;
}

/**
 * TopicTrie: topic filters -> (int32 subscriber id, int32 options) pairs, the TypeScript twin of
 * the native trie (modelled on nats-server sublist.go). The router assigns ids and owns every
 * per-id datum; shared groups are inserted by the router as their inner filter with a group id,
 * so this file never parses `$share`.
 *
 * Shape: one Node per level. Literal children live in `one` (the common single-child case, no
 * Map) or in `map` once there are two or more; `+` and `#` have dedicated slots so wildcards
 * never enter the map. Subscribers sit in one interleaved array [id, opt, id, opt, ...] per node
 * (no object per subscriber), grown by doubling, except that the first pair is stored inline in
 * the node (most nodes hold exactly one subscriber); an id -> position Map (in a WeakMap side
 * table) is kept only for nodes past INDEX_MIN subscribers so huge fan-out nodes keep O(1)
 * insert/remove. Empty nodes are pruned on remove. A topic starting with `$` is never offered to the root `+`/`#` slots
 * [MQTT-4.7.2-1], so that rule costs one check per match, not one per candidate.
 *
 * Match cache rules (../shared/STYLE.md, "Trie + cache"):
 * 1. Cached results are immutable; match() hands out arrays callers must never write into.
 * 2. Inserting a literal filter refreshes only that topic's entry; a wildcard refreshes every
 *    cached topic it matches; a removal deletes every entry it matches. A refreshed entry is a
 *    new array computed by a walk, so results never depend on cache history (cache on and off
 *    return the same arrays in the same order).
 * 3. Every mutation bumps `generation`; per-connection caches compare it and reset wholesale.
 * 4. Bounded (default 1024 entries); when full it drops the oldest entries down to 256. One
 *    shared empty result for topics with no subscriber.
 * 5. removeAll() (disconnect) turns the cache off, mutates, and turns it back on empty.
 *
 * Not reentrant across threads by nature (JS), and match() uses module-level scratch, which is
 * safe because nothing inside match() calls back into user code.
 */

import { TrieNode as Node } from './topic-trie-node.js';
import { filterMatches } from './topic.js';

/** Default cache capacity, as sublist.go slCacheMax. */
const DEFAULT_CACHE_SIZE = 1024;
/** Entries kept when a full cache is swept, as sublist.go slCacheSweep. */
const CACHE_SWEEP_TO = 256;

/** The one result for every topic without subscribers. Never written to. */
const EMPTY_RESULT = new Int32Array(0);

/** Options for {@link TopicTrie}. */
export interface TopicTrieOptions {
  /** Maximum cached topics; 0 turns the cache off. Default 1024. */
  cacheSize?: number;
}

/** One (filter, id) pair for {@link TopicTrie.removeAll}. */
export type FilterIdPair = readonly [filter: string, id: number];

// Module-level scratch for match(): split levels, the walk stack and the result buffer are
// reused across calls and tries, so a cache miss allocates only its result.
const levels: string[] = [];
let levelCount = 0;
const stackNodes: Array<Node | null> = [];
const stackDepth: number[] = [];
let out = new Int32Array(256);
let outLen = 0;

function splitTopic(topic: string): void {
  let start = 0;
  let n = 0;
  for (;;) {
    const slash = topic.indexOf('/', start);
    if (slash === -1) {
      levels[n++] = topic.slice(start);
      break;
    }
    levels[n++] = topic.slice(start, slash);
    start = slash + 1;
  }
  levelCount = n;
}

function emit(node: Node): void {
  const n = node.count;
  if (n === 0) return;
  const need = outLen + n * 2;
  if (need > out.length) {
    let size = out.length * 2;
    while (size < need) size *= 2;
    const grown = new Int32Array(size);
    grown.set(out.subarray(0, outLen));
    out = grown;
  }
  const buf = out;
  let o = outLen;
  buf[o++] = node.id0;
  buf[o++] = node.opt0;
  if (n > 1) {
    const rest = node.rest as number[];
    for (let i = 0, end = (n - 1) * 2; i < end; i++) buf[o++] = rest[i];
  }
  outLen = o;
}

/** Walks `root` for the topic in `levels`, leaving the matching pairs in `out[0..outLen)`. */
function collect(root: Node, dollar: boolean): void {
  outLen = 0;
  const n = levelCount;
  let sp = 0;
  stackNodes[sp] = root;
  stackDepth[sp++] = 0;
  while (sp > 0) {
    const node = stackNodes[--sp] as Node;
    // Cleared on pop so the scratch stack never keeps a pruned branch alive.
    stackNodes[sp] = null;
    const depth = stackDepth[sp];
    if (depth === n) {
      emit(node);
      // `#` also matches its parent level: `a/#` matches `a` [MQTT-4.7.1-1].
      if (node.hash !== null) emit(node.hash);
      continue;
    }
    if (depth !== 0 || !dollar) {
      // [MQTT-4.7.2-1] a `$` topic skips the root wildcards.
      if (node.hash !== null) emit(node.hash);
      if (node.plus !== null) {
        stackNodes[sp] = node.plus;
        stackDepth[sp++] = depth + 1;
      }
    }
    const child = node.literal(levels[depth]);
    if (child !== null) {
      stackNodes[sp] = child;
      stackDepth[sp++] = depth + 1;
    }
  }
}

/** Topic filter -> subscriber id index with a bounded match cache. */
export class TopicTrie {
  /** Bumped on every mutation; per-connection caches compare it and reset when it moved. */
  generation = 0;
  readonly #root = new Node('');
  #size = 0;
  #cache: Map<string, Int32Array> | null;
  readonly #cacheMax: number;

  /** Creates an empty trie; `cacheSize` 0 turns the match cache off. */
  constructor(options: TopicTrieOptions = {}) {
    const max = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`cacheSize must be a non-negative integer, got ${max}`);
    this.#cacheMax = max;
    this.#cache = max > 0 ? new Map() : null;
  }

  /** Number of (filter, id) entries. */
  get size(): number {
    return this.#size;
  }

  /** Number of cached topics. */
  get cacheSize(): number {
    return this.#cache === null ? 0 : this.#cache.size;
  }

  /** Empties the match cache without changing what match() returns. */
  clearCache(): void {
    this.#cache?.clear();
  }

  /**
   * Adds `id` under the valid, non-shared `filter` with `options` (int32); true if the pair is
   * new, false if it existed and only its options were replaced.
   */
  insert(filter: string, id: number, options: number): boolean {
    let node = this.#root;
    let start = 0;
    for (;;) {
      const slash = filter.indexOf('/', start);
      const level = slash === -1 ? filter.slice(start) : filter.slice(start, slash);
      let next: Node | null;
      if (level === '+') {
        next = node.plus ??= new Node(level);
      } else if (level === '#') {
        next = node.hash ??= new Node(level);
      } else {
        next = node.literal(level);
        if (next === null) {
          next = new Node(level);
          node.addLiteral(next);
        }
      }
      node = next;
      if (slash === -1) break;
      start = slash + 1;
    }
    const added = node.put(id | 0, options | 0);
    if (added) this.#size++;
    this.generation++;
    this.#refreshCache(filter);
    return added;
  }

  /** Removes `id` from `filter`; true if the pair existed. Empty branches are pruned. */
  remove(filter: string, id: number): boolean {
    if (!this.#removeFromTree(filter, id | 0)) return false;
    this.#size--;
    this.generation++;
    this.#dropFromCache(filter);
    return true;
  }

  /**
   * Removes many (filter, id) pairs at once (a disconnect): the cache is switched off while
   * mutating and comes back empty. Returns how many pairs existed.
   */
  removeAll(pairs: Iterable<FilterIdPair>): number {
    const cache = this.#cache;
    this.#cache = null;
    let removed = 0;
    try {
      for (const [filter, id] of pairs) {
        if (this.#removeFromTree(filter, id | 0)) removed++;
      }
    } finally {
      this.#size -= removed;
      if (removed > 0) this.generation++;
      if (cache !== null) {
        cache.clear();
        this.#cache = cache;
      }
    }
    return removed;
  }

  /**
   * The pairs [id0, opt0, id1, opt1, ...] of every entry whose filter matches the topic name.
   * The array is shared (cached) and read-only: never write into it. An id appears once per
   * matching filter.
   */
  match(topic: string): Int32Array {
    const cache = this.#cache;
    if (cache !== null) {
      const hit = cache.get(topic);
      if (hit !== undefined) return hit;
    }
    const result = this.#compute(topic);
    if (cache !== null) {
      if (cache.size >= this.#cacheMax) this.#sweep(cache);
      cache.set(topic, result);
    }
    return result;
  }

  #compute(topic: string): Int32Array {
    splitTopic(topic);
    collect(this.#root, topic.charCodeAt(0) === 0x24 /* $ */);
    return outLen === 0 ? EMPTY_RESULT : out.slice(0, outLen);
  }

  /** Drops the oldest entries (Map order is insertion order) down to CACHE_SWEEP_TO. */
  #sweep(cache: Map<string, Int32Array>): void {
    let excess = cache.size - Math.min(CACHE_SWEEP_TO, this.#cacheMax - 1);
    for (const key of cache.keys()) {
      if (excess-- <= 0) break;
      cache.delete(key);
    }
  }

  /** Rule 2 for inserts: recompute each cached topic the new filter matches. */
  #refreshCache(filter: string): void {
    const cache = this.#cache;
    if (cache === null || cache.size === 0) return;
    if (filter.indexOf('+') === -1 && filter.indexOf('#') === -1) {
      // A literal filter matches exactly the topic spelled the same.
      if (cache.has(filter)) cache.set(filter, this.#compute(filter));
      return;
    }
    for (const topic of cache.keys()) {
      // Overwriting an existing key while iterating keys is safe: no entry is added or moved.
      if (filterMatches(filter, topic)) cache.set(topic, this.#compute(topic));
    }
  }

  /** Rule 2 for removals: delete every cached topic the filter matches. */
  #dropFromCache(filter: string): void {
    const cache = this.#cache;
    if (cache === null || cache.size === 0) return;
    if (filter.indexOf('+') === -1 && filter.indexOf('#') === -1) {
      cache.delete(filter);
      return;
    }
    for (const topic of cache.keys()) {
      if (filterMatches(filter, topic)) cache.delete(topic);
    }
  }

  /** Tree part of remove(): finds the node, drops the id, prunes empty nodes bottom-up. */
  #removeFromTree(filter: string, id: number): boolean {
    // The path is kept locally: remove is not the hot path and must tolerate any depth.
    const path: Node[] = [this.#root];
    let node = this.#root;
    let start = 0;
    for (;;) {
      const slash = filter.indexOf('/', start);
      const level = slash === -1 ? filter.slice(start) : filter.slice(start, slash);
      const next = level === '+' ? node.plus : level === '#' ? node.hash : node.literal(level);
      if (next === null) return false;
      node = next;
      path.push(node);
      if (slash === -1) break;
      start = slash + 1;
    }
    if (!node.drop(id)) return false;
    for (let i = path.length - 1; i > 0; i--) {
      const child = path[i];
      if (!child.isEmpty()) break;
      const parent = path[i - 1];
      if (parent.plus === child) parent.plus = null;
      else if (parent.hash === child) parent.hash = null;
      else parent.removeLiteral(child.name);
    }
    return true;
  }
}

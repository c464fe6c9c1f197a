/**
 * NativeTopicTrie: the Rust trie behind the same API as the TypeScript twin
 * (src/core/topic-trie.ts): same results in the same order, same cache and generation rules.
 * One difference by design: match() returns a view over a result buffer this wrapper owns and
 * reuses, valid until the next match() on this trie (the router's TopicMatcher contract), so
 * no array is allocated per match.
 */
import type { FilterIdPair, TopicTrieOptions } from '../core/topic-trie.js';
import { TopicTrie } from '../core/topic-trie.js';
import type { NativeBinding, RawNativeTopicTrie } from './binding.js';

const DEFAULT_CACHE_SIZE = 1024;
const EMPTY_RESULT = new Int32Array(0);

/** Topic filter -> subscriber id index, in native memory. */
export class NativeTopicTrie {
  readonly #raw: RawNativeTopicTrie;
  #out = new Int32Array(64);

  /** Creates an empty trie in `native`; `cacheSize` 0 turns the match cache off. */
  constructor(native: NativeBinding, options: TopicTrieOptions = {}) {
    const max = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`cacheSize must be a non-negative integer, got ${max}`);
    this.#raw = new native.NativeTopicTrie(max);
  }

  /** Number of (filter, id) entries. */
  get size(): number {
    return this.#raw.size;
  }

  /** Bumped on every mutation. */
  get generation(): number {
    return this.#raw.generation;
  }

  /** Number of cached topics. */
  get cacheSize(): number {
    return this.#raw.cacheSize;
  }

  /** Live trie nodes (root included), for memory reports. */
  get nodeCount(): number {
    return this.#raw.nodeCount();
  }

  /** Empties the match cache without changing what match() returns. */
  clearCache(): void {
    this.#raw.clearCache();
  }

  /** Adds `id` under `filter` with `options`; true if new, false if options were replaced. */
  insert(filter: string, id: number, options: number): boolean {
    return this.#raw.insert(filter, id | 0, options | 0);
  }

  /** Removes `id` from `filter`; true if the pair existed. */
  remove(filter: string, id: number): boolean {
    return this.#raw.remove(filter, id | 0);
  }

  /** Removes many pairs with the cache off, one generation bump; returns how many existed. */
  removeAll(pairs: Iterable<FilterIdPair>): number {
    const raw = this.#raw;
    let removed = 0;
    raw.beginBulk();
    try {
      for (const [filter, id] of pairs) {
        if (raw.removeQuiet(filter, id | 0)) removed++;
      }
    } finally {
      raw.endBulk(removed);
    }
    return removed;
  }

  /** Pairs [id, opt, ...] of every matching filter; a read-only view valid until the next match. */
  match(topic: string): Int32Array {
    let n = this.#raw.matchInto(topic, this.#out);
    if (n === 0) return EMPTY_RESULT;
    if (n * 2 > this.#out.length) {
      this.#out = new Int32Array(growTo(n * 2));
      n = this.#raw.matchInto(topic, this.#out);
    }
    return this.#out.subarray(0, n * 2);
  }

  /** As match(), for a topic given as UTF-8 bytes buf[start, end) (e.g. straight from a frame). */
  matchBytes(buf: Uint8Array, start: number, end: number): Int32Array {
    let n = this.#raw.matchBytesInto(buf, start, end, this.#out);
    if (n === 0) return EMPTY_RESULT;
    if (n * 2 > this.#out.length) {
      this.#out = new Int32Array(growTo(n * 2));
      n = this.#raw.matchBytesInto(buf, start, end, this.#out);
    }
    return this.#out.subarray(0, n * 2);
  }
}

function growTo(need: number): number {
  let size = 64;
  while (size < need) size *= 2;
  return size;
}

/** The native trie when `native` is loaded, else the TypeScript twin. */
export function createTopicTrie(native: NativeBinding | null, options: TopicTrieOptions = {}): NativeTopicTrie | TopicTrie {
  return native === null ? new TopicTrie(options) : new NativeTopicTrie(native, options);
}

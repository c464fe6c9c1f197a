/**
 * NativeTopicTrie: the Rust trie behind the same API as the TypeScript twin
 * (src/core/topic-trie.ts): same results in the same order, same cache and generation rules.
 * One difference by design: match() returns a view over a result buffer this wrapper owns and
 * reuses, valid until the next match() on this trie (the router's TopicMatcher contract), so
 * no array is allocated per match.
 */
import type { FilterIdPair, TopicTrieOptions } from '../core/topic-trie.js';
import type { NativeBinding, NativeTrieHandle } from './binding.js';

const DEFAULT_CACHE_SIZE = 1024;
const EMPTY_RESULT = new Int32Array(0);
const INITIAL_PAIRS = 32;
/** Result sizes (in pairs) below which the view is kept for reuse. */
const VIEW_CACHE_MAX = 1024;

/** Topic filter -> subscriber id index, in native memory. */
export class NativeTopicTrie {
  readonly #n: NativeBinding;
  readonly #h: NativeTrieHandle;
  #out = new Int32Array(INITIAL_PAIRS * 2);
  /** views[k] = #out.subarray(0, 2k), made once per k so match() allocates nothing. */
  #views: Int32Array[] = [];
  readonly #stats = new Uint32Array(5);

  /** Creates an empty trie in `native`; `cacheSize` 0 turns the match cache off. */
  constructor(native: NativeBinding, options: TopicTrieOptions = {}) {
    const max = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`cacheSize must be a non-negative integer, got ${max}`);
    this.#n = native;
    this.#h = native.trieNew(max);
  }

  #stat(i: number): number {
    this.#n.trieStats(this.#h, this.#stats);
    return this.#stats[i];
  }

  /** Number of (filter, id) entries. */
  get size(): number {
    return this.#stat(0);
  }

  /** Number of cached topics. */
  get cacheSize(): number {
    return this.#stat(1);
  }

  /** Live trie nodes (root included), for memory reports. */
  get nodeCount(): number {
    return this.#stat(2);
  }

  /** Bumped on every mutation. */
  get generation(): number {
    this.#n.trieStats(this.#h, this.#stats);
    return this.#stats[3] + this.#stats[4] * 0x1_0000_0000;
  }

  /** Empties the match cache without changing what match() returns. */
  clearCache(): void {
    this.#n.trieClearCache(this.#h);
  }

  /** Adds `id` under `filter` with `options`; true if new, false if options were replaced. */
  insert(filter: string, id: number, options: number): boolean {
    return this.#n.trieInsert(this.#h, filter, id | 0, options | 0);
  }

  /** Removes `id` from `filter`; true if the pair existed. */
  remove(filter: string, id: number): boolean {
    return this.#n.trieRemove(this.#h, filter, id | 0);
  }

  /** Removes many pairs with the cache off, one generation bump; returns how many existed. */
  removeAll(pairs: Iterable<FilterIdPair>): number {
    const n = this.#n;
    const h = this.#h;
    let removed = 0;
    n.trieBeginBulk(h);
    try {
      for (const [filter, id] of pairs) {
        if (n.trieRemoveQuiet(h, filter, id | 0)) removed++;
      }
    } finally {
      n.trieEndBulk(h, removed);
    }
    return removed;
  }

  /** Pairs [id, opt, ...] of every matching filter; a read-only view valid until the next match. */
  match(topic: string): Int32Array {
    let k = this.#n.trieMatchInto(this.#h, topic, this.#out);
    if (k * 2 > this.#out.length) {
      this.#grow(k);
      k = this.#n.trieMatchInto(this.#h, topic, this.#out);
    }
    return this.#view(k);
  }

  /** As match(), for a topic given as UTF-8 bytes buf[start, end) (e.g. straight from a frame). */
  matchBytes(buf: Uint8Array, start: number, end: number): Int32Array {
    let k = this.#n.trieMatchBytesInto(this.#h, buf, start, end, this.#out);
    if (k * 2 > this.#out.length) {
      this.#grow(k);
      k = this.#n.trieMatchBytesInto(this.#h, buf, start, end, this.#out);
    }
    return this.#view(k);
  }

  #view(k: number): Int32Array {
    if (k === 0) return EMPTY_RESULT;
    if (k >= VIEW_CACHE_MAX) return this.#out.subarray(0, k * 2);
    const v = this.#views[k];
    if (v !== undefined) return v;
    return (this.#views[k] = this.#out.subarray(0, k * 2));
  }

  #grow(pairs: number): void {
    let size = this.#out.length;
    while (size < pairs * 2) size *= 2;
    this.#out = new Int32Array(size);
    this.#views = [];
  }
}

/**
 * A JavaScript-side match cache in front of the native trie. A native call costs ~140 ns of
 * marshalling, while a Map hit costs a few ns; device fleets publish the same topics again and
 * again. The cache is dropped wholesale on any subscription change (NATS' per-connection
 * readCache rule), except that a literal filter can only change its own topic's entry, so that
 * one entry is dropped: device fleets mostly churn literal subscriptions (devices/{id}/cmd).
 */
import { hasWildcard } from './topic.js';
import type { TopicMatcher } from './router.js';

const EMPTY = new Int32Array(0);

export class CachedMatcher implements TopicMatcher {
  private readonly inner: TopicMatcher;
  private readonly max: number;
  private cache = new Map<string, Int32Array>();

  constructor(inner: TopicMatcher, max = 4096) {
    this.inner = inner;
    this.max = max;
  }

  get size(): number {
    return this.inner.size;
  }

  insert(filter: string, id: number, options: number): boolean {
    this.invalidate(filter);
    return this.inner.insert(filter, id, options);
  }

  remove(filter: string, id: number): boolean {
    this.invalidate(filter);
    return this.inner.remove(filter, id);
  }

  private invalidate(filter: string): void {
    if (this.cache.size === 0) return;
    if (hasWildcard(filter)) this.cache = new Map();
    else this.cache.delete(filter);
  }

  match(topic: string): Int32Array {
    const hit = this.cache.get(topic);
    if (hit !== undefined) return hit;
    const found = this.inner.match(topic);
    // The inner view is reused by its next call: keep a copy (or the shared empty result).
    const result = found.length === 0 ? EMPTY : found.slice();
    // Full: start over rather than evict one by one (eviction would cost more than a miss).
    if (this.cache.size >= this.max) this.cache = new Map();
    this.cache.set(topic, result);
    return result;
  }
}

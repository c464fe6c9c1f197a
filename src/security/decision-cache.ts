/**
 * Bounded caches for security decisions. `LruCache` (HTTP hook answers) keeps at most `capacity`
 * entries, each for `ttlMs`, evicting the least recently used: a Map's insertion order is the
 * recency order. `DecisionCache` (one per connection, topic -> allowed) is smaller and simpler:
 * when full it starts over, as nats-server's per-connection read cache does.
 */

/** Least-recently-used cache with a time to live. */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }
}

/** Per-connection topic decisions, at most `capacity`; cleared wholesale when full. */
export class DecisionCache {
  private map: Map<string, boolean> | null = null;

  constructor(private readonly capacity: number) {}

  get(topic: string): boolean | undefined {
    return this.map?.get(topic);
  }

  set(topic: string, allowed: boolean): void {
    if (this.capacity <= 0) return;
    const map = (this.map ??= new Map());
    if (map.size >= this.capacity) map.clear();
    map.set(topic, allowed);
  }

  get size(): number {
    return this.map?.size ?? 0;
  }

  /** Forgets every decision. */
  clear(): void {
    this.map = null;
  }
}

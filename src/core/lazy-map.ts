/**
 * A Map that allocates its table on the first insert. Most sessions of an idle fleet never
 * hold an inflight message, and an empty Map still costs a hash table per connection.
 */
const EMPTY: ReadonlyMap<unknown, unknown> = new Map<unknown, unknown>();

export class LazyMap<K, V> {
  private map: Map<K, V> | null = null;

  get size(): number {
    return this.map === null ? 0 : this.map.size;
  }

  get(key: K): V | undefined {
    return this.map === null ? undefined : this.map.get(key);
  }

  has(key: K): boolean {
    return this.map?.has(key) === true;
  }

  set(key: K, value: V): this {
    (this.map ??= new Map()).set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (this.map === null || !this.map.delete(key)) return false;
    if (this.map.size === 0) this.map = null;
    return true;
  }

  keys(): IterableIterator<K> {
    return (this.map ?? (EMPTY as unknown as ReadonlyMap<K, V>)).keys();
  }

  values(): IterableIterator<V> {
    return (this.map ?? (EMPTY as unknown as ReadonlyMap<K, V>)).values();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return (this.map ?? (EMPTY as unknown as ReadonlyMap<K, V>)).entries();
  }
}

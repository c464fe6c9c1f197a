/**
 * What was seen lately, for dropping a copy sent again: the ids of QoS 2 messages received from
 * other nodes, the journal sequences a session completed. Two generations of a set, the older
 * dropped each period: no timer, no per-entry bookkeeping.
 */
export class RecentSet<T> {
  private current = new Set<T>();
  private previous = new Set<T>();
  private since = Date.now();

  constructor(
    /** how long an entry is kept at least */
    private readonly periodMs: number,
    /** entries per generation at most (the older generation goes early past it) */
    private readonly maxEntries: number,
  ) {}

  has(x: T): boolean {
    return this.current.has(x) || this.previous.has(x);
  }

  add(x: T): void {
    const now = Date.now();
    if (now - this.since > this.periodMs || this.current.size >= this.maxEntries) {
      this.previous = this.current;
      this.current = new Set();
      this.since = now;
    }
    this.current.add(x);
  }

  /** True when `x` was seen within the period; else remembers it. */
  seen(x: T): boolean {
    if (this.has(x)) return true;
    this.add(x);
    return false;
  }
}

/** RecentSet's twin that keeps a value with each key (the journal sequence a record id came with). */
export class RecentMap<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private since = Date.now();

  constructor(
    /** how long an entry is kept at least */
    private readonly periodMs: number,
    /** entries per generation at most (the older generation goes early past it) */
    private readonly maxEntries: number,
  ) {}

  get(k: K): V | undefined {
    const v = this.current.get(k);
    return v !== undefined ? v : this.previous.get(k);
  }

  set(k: K, v: V): void {
    const now = Date.now();
    if (now - this.since > this.periodMs || this.current.size >= this.maxEntries) {
      this.previous = this.current;
      this.current = new Map();
      this.since = now;
    }
    this.current.set(k, v);
  }
}

/**
 * What was seen lately, for dropping a copy sent again: the ids of QoS 2 messages received from
 * other nodes, the journal sequences a session completed. Two generations of a set, the older
 * dropped each period: no timer, no per-entry bookkeeping.
 */
export class RecentSet<T> {
  private readonly seenAt: RecentMap<T, true>;

  constructor(
    /** how long an entry is kept at least */
    periodMs: number,
    /** entries per generation at most (the older generation goes early past it) */
    maxEntries: number,
  ) {
    this.seenAt = new RecentMap<T, true>(periodMs, maxEntries);
  }

  has(x: T): boolean {
    return this.seenAt.get(x) !== undefined;
  }

  add(x: T): void {
    this.seenAt.set(x, true);
  }

  /** True when `x` was seen within the period; else remembers it. */
  seen(x: T): boolean {
    if (this.has(x)) return true;
    this.add(x);
    return false;
  }
}

/**
 * What RecentSet keeps, with a value per key (the journal sequence a record id came with). Its
 * maps are made with the first entry: every journal-fed session has two of these, most idle.
 */
export class RecentMap<K, V> {
  private current: Map<K, V> | null = null;
  private previous: Map<K, V> | null = null;
  private since = Date.now();

  constructor(
    private readonly periodMs: number,
    private readonly maxEntries: number,
  ) {}

  get(k: K): V | undefined {
    const v = this.current?.get(k);
    return v !== undefined ? v : this.previous?.get(k);
  }

  set(k: K, v: V): void {
    const now = Date.now();
    let current = this.current;
    if (current === null || now - this.since > this.periodMs || current.size >= this.maxEntries) {
      this.previous = current;
      current = this.current = new Map();
      this.since = now;
    }
    current.set(k, v);
  }
}

/**
 * The ids of the QoS 2 messages a node received lately from the others, to drop a copy sent
 * again (its publisher's NATS server died before confirming the first, which had got through).
 * Two generations of a set, the older dropped each period: no timer, no per-entry bookkeeping.
 */
export class RecentIds {
  private current = new Set<string>();
  private previous = new Set<string>();
  private since = Date.now();

  constructor(
    /** how long an id is kept at least */
    private readonly periodMs: number,
    /** entries per generation at most (the older generation goes early past it) */
    private readonly maxEntries: number,
  ) {}

  /** True when `id` was seen within the period; else remembers it. */
  seen(id: string): boolean {
    if (this.current.has(id) || this.previous.has(id)) return true;
    const now = Date.now();
    if (now - this.since > this.periodMs || this.current.size >= this.maxEntries) {
      this.previous = this.current;
      this.current = new Set();
      this.since = now;
    }
    this.current.add(id);
    return false;
  }
}

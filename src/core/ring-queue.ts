// Shared by every queue that was never pushed to; grow() replaces it before any write.
const NO_ITEMS: never[] = [];

/** A growable FIFO ring: O(1) push/shift without Array#shift's copying. */
export class RingQueue<T> {
  private items: Array<T | undefined>;
  private head = 0;
  private count = 0;

  /** The backing array is allocated on the first push: most queues of an idle fleet stay empty. */
  constructor(capacity = 0) {
    this.items = capacity === 0 ? NO_ITEMS : new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
  }

  /** Puts an item back at the front (a message returned from another member's inflight). */
  unshift(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) % this.items.length;
    this.items[this.head] = item;
    this.count++;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  /** Removes every item for which keep returns false, preserving order. */
  filter(keep: (item: T) => boolean): number {
    let removed = 0;
    const n = this.count;
    for (let i = 0; i < n; i++) {
      const item = this.shift() as T;
      if (keep(item)) this.push(item);
      else removed++;
    }
    return removed;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) % this.items.length] as T;
  }

  clear(): void {
    this.items = NO_ITEMS;
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length === 0 ? 8 : this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}

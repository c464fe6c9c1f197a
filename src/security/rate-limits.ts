/**
 * Overload protection before a client is admitted: connection attempts per source address per
 * second, and memory (above --max-memory RSS, or near V8's heap limit, new connections are told
 * "server busy" instead of the process dying later).
 */
import { getHeapStatistics } from 'node:v8';

/** Counts connection attempts per address in one-second windows, for a bounded number of addresses. */
export class ConnectionRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private refusalWindow = 0;
  private refusals = 0;

  constructor(
    private readonly perSecond: number,
    private readonly maxAddresses = 100_000,
    /** Refusals per second answered with CONNACK 0x9F before the rest are closed at accept. */
    private readonly answeredRefusalsPerSecond = 100,
  ) {}

  /** False when no rate is set: every connection is allowed without looking at its address. */
  get limited(): boolean {
    return this.perSecond > 0;
  }

  /** Counts an attempt from `address`; false when it is over the rate. */
  allow(address: string, now: number): boolean {
    if (this.perSecond <= 0) return true;
    let w = this.windows.get(address);
    if (w === undefined) {
      if (this.windows.size >= this.maxAddresses) this.prune(now);
      w = { start: now, count: 0 };
      this.windows.set(address, w);
    } else if (now - w.start >= 1000) {
      w.start = now;
      w.count = 0;
    }
    return ++w.count <= this.perSecond;
  }

  /** True when `address` already used its attempts this second (counts nothing). */
  overRate(address: string, now: number): boolean {
    const w = this.windows.get(address);
    return w !== undefined && now - w.start < 1000 && w.count >= this.perSecond;
  }

  /**
   * Counts a refusal answered with CONNACK 0x9F; true once this second's answers are spent.
   * Past that, a storm's further connections are closed at accept, before any parsing, so the
   * clients already connected keep the event loop.
   */
  noteRefusal(now: number): void {
    if (now - this.refusalWindow >= 1000) {
      this.refusalWindow = now;
      this.refusals = 0;
    }
    this.refusals++;
  }

  refusalsSpent(now: number): boolean {
    return now - this.refusalWindow < 1000 && this.refusals >= this.answeredRefusalsPerSecond;
  }

  /** Drops finished windows; if every one is current (a flood from many addresses), starts over. */
  private prune(now: number): void {
    for (const [address, w] of this.windows) if (now - w.start >= 1000) this.windows.delete(address);
    if (this.windows.size >= this.maxAddresses) this.windows.clear();
  }
}

/** Reads the process's memory at most every `sampleMs`, so a connect storm costs no syscalls each. */
export class MemoryGuard {
  private checkedAt = -Infinity;
  private busy = false;
  private readonly heapLimit = getHeapStatistics().heap_size_limit;

  constructor(
    private readonly maxRss: number,
    private readonly sampleMs = 250,
    private readonly sample: () => { rss: number; heapUsed: number } = () => ({ rss: process.memoryUsage.rss(), heapUsed: getHeapStatistics().used_heap_size }),
  ) {}

  /** True while memory is above the limit (RSS over --max-memory or heap over 90% of its limit). */
  overLimit(now: number): boolean {
    if (this.maxRss <= 0) return false;
    if (now - this.checkedAt >= this.sampleMs) {
      this.checkedAt = now;
      const m = this.sample();
      this.busy = m.rss > this.maxRss || m.heapUsed > this.heapLimit * 0.9;
    }
    return this.busy;
  }
}

/**
 * Resumes clients paused by their publish rate as their budget refills: one shared timer every
 * 10 ms for all of them, never a timer per client. Fine-grained on purpose: resuming every
 * paused client at a one-second window edge (or a 250 ms wheel tick) would hand the event loop
 * all their backlogs at once, and the other clients' latency would pay for it.
 */
import { performance } from 'node:perf_hooks';

/** A paused client: `refill` returns true once it resumed (and leaves the pacer). */
export interface Refillable {
  refill(now: number): boolean;
}

export class PublishPacer {
  private readonly waiting = new Set<Refillable>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Milliseconds, monotonic. */
    readonly now: () => number = () => performance.now(),
    private readonly tickMs = 10,
  ) {}

  /** Checks `item` every tick until it resumes. */
  wait(item: Refillable): void {
    this.waiting.add(item);
    if (this.timer === null) {
      this.timer = setInterval(this.tick, this.tickMs);
      this.timer.unref();
    }
  }

  /** Number of clients waiting for their budget. */
  get size(): number {
    return this.waiting.size;
  }

  /** One round: every waiting client refills, those with budget again resume. */
  readonly tick = (): void => {
    const now = this.now();
    for (const item of this.waiting) if (item.refill(now)) this.waiting.delete(item);
    if (this.waiting.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  };
}

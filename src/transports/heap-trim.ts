/**
 * After a connect storm on the native TCP transport, the C heap's free pages go back to the
 * kernel. The storm's reads and logins leave glibc's malloc holding memory it freed (0.78 MB
 * after 10,000 MQTT logins here: malloc_trim called from gdb, docs/PERFORMANCE.md), kept for good; with
 * the devices idle after the storm that is resident memory no connection uses, the fixed part of
 * the per-connection figure. One trim per storm, once accepting has been quiet for a while, so a
 * steady trickle of reconnects never pays for it.
 */

/** Accepts that make a storm worth a trim. */
const STORM_ACCEPTS = 1000;
/** How long accepting must be quiet before the trim (checked every this long: the trim comes one to two of them after the last accept). */
const QUIET_MS = 5000;

export class HeapTrim {
  /** Accepts since the last trim. */
  private accepted = 0;
  /** `accepted` when the quiet check was armed: unchanged at the check means quiet. */
  private seen = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Trims done (read by tests). */
  trims = 0;

  constructor(
    private readonly trim: () => boolean,
    private readonly stormAccepts = STORM_ACCEPTS,
    private readonly quietMs = QUIET_MS,
  ) {}

  /** Counts `n` accepted connections; arms the quiet check once a storm's worth arrived. */
  accepts(n: number): void {
    this.accepted += n;
    if (this.timer === null && this.accepted >= this.stormAccepts) this.arm();
  }

  private arm(): void {
    this.seen = this.accepted;
    this.timer = setTimeout(this.check, this.quietMs);
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = null;
    if (this.accepted !== this.seen) {
      this.arm();
      return;
    }
    this.accepted = 0;
    if (this.trim()) this.trims++;
  };

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

let shared: HeapTrim | null = null;

/** The process's one HeapTrim over the native module's trimHeap, or null when the module has none. */
export function processHeapTrim(trimHeap: (() => boolean) | undefined): HeapTrim | null {
  if (typeof trimHeap !== 'function') return null;
  shared ??= new HeapTrim(trimHeap);
  return shared;
}

/**
 * One hashed timer wheel for every deadline in the broker: keep-alive, connect timeout,
 * will delay and session expiry. A single interval timer drives it (undici's timers.js is the
 * model), so a million idle connections cost no timers. An item filed for a later lap is
 * re-filed lazily when its slot comes round (one comparison per tick per due item).
 *
 * Deadlines are kept as tick numbers counted from the wheel's start: milliseconds since the Unix
 * epoch do not fit a small integer, and V8 would box each one in a heap number of its own (16
 * bytes per connection); a tick count does, for 17 years at 250 ms.
 */

/** A place in one of the wheel's lists: an item, or the head of a slot. */
export interface WheelLink {
  /** neighbours in the slot's ring while filed, null when not in the wheel (owned by the wheel) */
  wheelPrev: WheelLink | null;
  wheelNext: WheelLink | null;
}

/** Something with a deadline. `onTimer` returns the next deadline in ms, or 0 to leave the wheel. */
export interface WheelItem extends WheelLink {
  /** the tick it is due, counted from the wheel's start (owned by the wheel: TimerWheel.deadlineOf gives it in ms since the epoch) */
  wheelDeadline: number;
  onTimer(now: number): number;
}

/** The head of a slot's ring (or of the ring being fired): an empty ring points at itself. */
class SlotHead implements WheelLink {
  wheelPrev: WheelLink = this;
  wheelNext: WheelLink = this;
}

/** Takes `item` out of whatever ring holds it. */
function unlink(item: WheelLink): void {
  item.wheelPrev!.wheelNext = item.wheelNext;
  item.wheelNext!.wheelPrev = item.wheelPrev;
  item.wheelPrev = null;
  item.wheelNext = null;
}

/** Puts `item` (not in any ring) last in `head`'s ring. */
function append(head: WheelLink, item: WheelLink): void {
  const last = head.wheelPrev!;
  item.wheelPrev = last;
  item.wheelNext = head;
  last.wheelNext = item;
  head.wheelPrev = item;
}

/** A tick this many resolutions after the previous one is late: the process stalled. */
const LATE_TICKS = 2;

/**
 * Slots are intrusive rings, not Sets: a Set that churns (every connect, close and keep-alive
 * move is a delete and an add) is rehashed every few dozen adds, and V8 links each old table to
 * its successor, so one promoted table keeps every later table and everything in them alive
 * through each scavenge: in a connect storm every connection's objects were promoted and
 * scavenges took 8-15 ms.
 */
export class TimerWheel {
  readonly resolution: number;
  private readonly slots: SlotHead[];
  /** The last tick visited, counted from `base`. */
  private cursor: number;
  private timer: NodeJS.Timeout | null = null;
  /** Coarse clock refreshed every tick; cheaper than Date.now() per packet. */
  now: number;
  /** A late tick's firing waits for the next check phase. */
  private deferred = false;
  /** What ticks count from (ms since the epoch, a whole number of ticks). */
  private readonly base: number;

  constructor(resolutionMs = 250, slotCount = 4096) {
    this.resolution = resolutionMs;
    this.slots = [];
    for (let i = 0; i < slotCount; i++) this.slots.push(new SlotHead());
    this.now = Date.now();
    this.base = Math.floor(this.now / resolutionMs) * resolutionMs;
    this.cursor = 0;
  }

  /** The tick `ms` (since the epoch) falls in, counted from `base`, rounded up. */
  private tickOf(ms: number): number {
    const t = Math.ceil((ms - this.base) / this.resolution);
    // `| 0` makes it a small integer (V8 boxes arithmetic results otherwise, and a field that
    // once held a boxed number boxes every value after): good for 17 years of ticks.
    return t < 0x7fffffff && t > -0x7fffffff ? t | 0 : t;
  }

  /** The slot of tick `t` (ticks before `base` too: a clock set back, a test). */
  private slotOf(t: number): number {
    const n = this.slots.length;
    return (((t % n) + n) % n) | 0;
  }

  /** The deadline `item` is filed for, in ms since the epoch (rounded up to its tick). */
  deadlineOf(item: WheelItem): number {
    return this.base + item.wheelDeadline * this.resolution;
  }

  /** Starts ticking; the timer is unref'd so it never keeps the process alive alone. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.onInterval(Date.now()), this.resolution);
    this.timer.unref();
  }

  /**
   * The interval's tick. A late one means the process stalled (a long GC, a starved CPU): what
   * clients sent meanwhile waits in their sockets, and libuv runs timers before it polls for I/O,
   * so firing now would close a client for a silence that was ours (its PINGREQ unread). The
   * clock moves on at once (those reads get the fresh time) and the deadlines fire right after
   * the poll phase (setImmediate). Public for tests.
   */
  onInterval(now: number): void {
    if (now - this.now <= this.resolution * LATE_TICKS) {
      this.tick(now);
      return;
    }
    this.now = now;
    if (this.deferred) return;
    this.deferred = true;
    setImmediate(this.fireDeferred);
  }

  private readonly fireDeferred = (): void => {
    this.deferred = false;
    this.tick(Math.max(Date.now(), this.now));
  };

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** True while `item` is filed in the wheel. */
  static filed(item: WheelItem): boolean {
    return item.wheelNext !== null;
  }

  /** Files item for `deadline` (ms since the epoch), or moves it there. */
  schedule(item: WheelItem, deadline: number): void {
    const tick = this.tickOf(deadline);
    item.wheelDeadline = tick;
    if (item.wheelNext !== null) unlink(item);
    append(this.slots[this.slotOf(tick > this.cursor ? tick : this.cursor + 1)]!, item);
  }

  cancel(item: WheelItem): void {
    if (item.wheelNext !== null) unlink(item);
  }

  /** Advances to `now`, firing every item whose deadline has passed. Public for tests. */
  tick(now: number): void {
    this.now = now;
    const target = Math.floor((now - this.base) / this.resolution);
    // After a long stall (suspended process) visit each slot at most once.
    let from = this.cursor + 1;
    if (target - from >= this.slots.length) from = target - this.slots.length + 1;
    for (let t = from; t <= target; t++) {
      // A deadline filed by a callback for a tick already passed lands in the slot being fired.
      this.cursor = t - 1;
      this.fire(this.slotOf(t), target, now);
    }
    this.cursor = target;
  }

  /** Fires the items of one slot due by tick `due` (the time `now` is passed on to them). */
  private fire(slotIndex: number, due: number, now: number): void {
    const head = this.slots[slotIndex]!;
    if (head.wheelNext === head) return;
    // The ring the slot's items move to while they fire (one per call: a callback may tick again).
    const firing = new SlotHead();
    // Again while callbacks file due items here (a deadline filed for a tick already passed).
    while (head.wheelNext !== head) {
      // The whole ring moves to `firing`; what callbacks file or cancel meanwhile cannot upset the walk.
      firing.wheelNext = head.wheelNext;
      firing.wheelPrev = head.wheelPrev;
      head.wheelNext!.wheelPrev = firing;
      head.wheelPrev!.wheelNext = firing;
      head.wheelNext = head;
      head.wheelPrev = head;
      let fired = false;
      let link: WheelLink;
      while ((link = firing.wheelNext) !== firing) {
        const item = link as WheelItem;
        unlink(item);
        if (item.wheelDeadline > due) {
          // Filed for a later lap: back to its slot.
          append(this.slots[this.slotOf(item.wheelDeadline)]!, item);
          continue;
        }
        fired = true;
        const next = item.onTimer(now);
        if (next > 0 && item.wheelNext === null) this.schedule(item, next);
      }
      if (!fired) return;
    }
  }
}

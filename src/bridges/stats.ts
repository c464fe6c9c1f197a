/**
 * Per bridge and rule counters: forwarded, consumed, failed, dead-lettered, buffered, dropped,
 * and the latency from Junction accepting a message to the backend acknowledging it. They are
 * logged every --bridge-stats-interval seconds (and at shutdown); the metrics endpoint and admin
 * API read the same objects once they exist.
 */

/** Counters of one forward rule. */
export class ForwardStats {
  forwarded = 0;
  /** refused by the backend for good */
  failed = 0;
  deadLettered = 0;
  /** not buffered: the outbox was full (QoS 1/2) or the QoS 0 buffer was (QoS 0) */
  dropped = 0;
  /** waiting in the outbox or the QoS 0 buffer now */
  buffered = 0;
  latencySumMs = 0;
  latencyMaxMs = 0;
  latencyCount = 0;

  constructor(readonly rule: string) {}

  /** The line's fields, resetting the latency window. */
  snapshot(): Record<string, unknown> {
    const avg = this.latencyCount === 0 ? 0 : Math.round((this.latencySumMs / this.latencyCount) * 10) / 10;
    const out = {
      rule: this.rule,
      forwarded: this.forwarded,
      failed: this.failed,
      deadLettered: this.deadLettered,
      dropped: this.dropped,
      buffered: this.buffered,
      latencyAvgMs: avg,
      latencyMaxMs: this.latencyMaxMs,
    };
    this.latencySumMs = this.latencyMaxMs = this.latencyCount = 0;
    return out;
  }
}

/** Counters of one consume rule. */
export class ConsumeStats {
  consumed = 0;
  /** refused by Junction (not authorized, bad topic, bad envelope) */
  failed = 0;
  deadLettered = 0;

  constructor(readonly rule: string) {}

  snapshot(): Record<string, unknown> {
    return { rule: this.rule, consumed: this.consumed, failed: this.failed, deadLettered: this.deadLettered };
  }
}

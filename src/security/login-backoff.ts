/**
 * Failed password checks per source address. After `allowed` failures in a row, the address's
 * next checks are refused without hashing for 1 s, doubling with each further failure up to
 * `maxMs`; a success from the address starts it over (so one misconfigured device behind a NAT
 * does not lock out the fleet beside it, which keeps logging in). Bounded in addresses.
 */

interface Failures {
  count: number;
  /** Refused until then (ms); 0 = not backing off. */
  until: number;
  last: number;
}

const FIRST_BACKOFF_MS = 1000;

export class LoginBackoff {
  private readonly addresses = new Map<string, Failures>();

  constructor(
    /** Failures in a row before backing off. */
    private readonly allowed: number,
    /** Longest backoff; 0 = never back off. */
    private readonly maxMs: number,
    private readonly maxAddresses = 100_000,
  ) {}

  /** False when backoff is off (--auth-failure-backoff 0). */
  get enabled(): boolean {
    return this.maxMs > 0;
  }

  /** Milliseconds `address` must still wait, or 0. */
  waitMs(address: string, now: number): number {
    if (this.maxMs <= 0) return 0;
    const f = this.addresses.get(address);
    return f === undefined || f.until <= now ? 0 : f.until - now;
  }

  /** Counts a failed check from `address`. */
  failed(address: string, now: number): void {
    if (this.maxMs <= 0) return;
    let f = this.addresses.get(address);
    if (f === undefined || now - f.last > this.maxMs * 2) {
      if (f === undefined && this.addresses.size >= this.maxAddresses) this.prune(now);
      f = { count: 0, until: 0, last: now };
      this.addresses.set(address, f);
    }
    f.count++;
    f.last = now;
    const over = f.count - this.allowed;
    if (over >= 0) f.until = now + Math.min(FIRST_BACKOFF_MS * 2 ** Math.min(over, 30), this.maxMs);
  }

  /** A check from `address` passed: its failures are forgotten. */
  succeeded(address: string): void {
    if (this.addresses.size > 0) this.addresses.delete(address);
  }

  /** Drops addresses quiet for a while; if every one is recent (a flood from many addresses), starts over. */
  private prune(now: number): void {
    for (const [address, f] of this.addresses) if (now - f.last > this.maxMs * 2 && f.until <= now) this.addresses.delete(address);
    if (this.addresses.size >= this.maxAddresses) this.addresses.clear();
  }
}

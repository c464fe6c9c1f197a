/**
 * One admitted connection's security state: topic decisions cached per connection (bounded), and
 * the publish pace. Over --max-publish-rate or --max-publish-bytes-rate within a one-second window
 * the link is paused until the window ends (a wheel item, never a timer per client); a client
 * still over the rate for more than --publish-quota-strikes windows in a row is flooding.
 */
import type { Authorizer, ClientGuard, Pausable, TopicGrants } from '../core/auth.js';
import type { TimerWheel, WheelItem } from '../core/timer-wheel.js';
import { DecisionCache } from './decision-cache.js';

export interface PublishRate {
  /** messages per second; 0 = unlimited */
  readonly messages: number;
  /** payload bytes per second; 0 = unlimited */
  readonly bytes: number;
  /** windows over the rate in a row before countPublish says "flooding" */
  readonly strikes: number;
}

export class ConnectionGuard implements ClientGuard, WheelItem {
  private readonly publishDecisions: DecisionCache;
  private readonly subscribeDecisions: DecisionCache;
  private windowStart = -Infinity;
  private messages = 0;
  private bytes = 0;
  private exceeded = false;
  private strikes = 0;
  private paused = false;
  wheelSlot = -1;
  wheelDeadline = 0;

  constructor(
    private readonly authorizer: Authorizer,
    private readonly clientId: string,
    private readonly username: string | null,
    readonly grants: TopicGrants | null,
    cacheSize: number,
    private readonly rate: PublishRate,
    private readonly link: Pausable,
    private readonly wheel: TimerWheel,
  ) {
    this.publishDecisions = new DecisionCache(cacheSize);
    this.subscribeDecisions = new DecisionCache(cacheSize);
  }

  canPublish(topic: string): boolean {
    let allowed = this.publishDecisions.get(topic);
    if (allowed === undefined) {
      allowed = this.authorizer.canPublish(this.clientId, this.username, topic, this.grants);
      this.publishDecisions.set(topic, allowed);
    }
    return allowed;
  }

  canSubscribe(filter: string): boolean {
    let allowed = this.subscribeDecisions.get(filter);
    if (allowed === undefined) {
      allowed = this.authorizer.canSubscribe(this.clientId, this.username, filter, this.grants);
      this.subscribeDecisions.set(filter, allowed);
    }
    return allowed;
  }

  countPublish(bytes: number): boolean {
    const rate = this.rate;
    if (rate.messages <= 0 && rate.bytes <= 0) return true;
    const now = this.wheel.now;
    if (now - this.windowStart >= 1000) {
      // Strikes count consecutive windows over the rate; a calm window (or a gap) forgives.
      if (!this.exceeded || now - this.windowStart >= 2000) this.strikes = 0;
      this.windowStart = now;
      this.messages = 0;
      this.bytes = 0;
      this.exceeded = false;
    }
    this.messages++;
    this.bytes += bytes;
    if ((rate.messages > 0 && this.messages > rate.messages) || (rate.bytes > 0 && this.bytes > rate.bytes)) {
      if (!this.exceeded) {
        this.exceeded = true;
        this.strikes++;
      }
      if (this.strikes > rate.strikes) return false;
      if (!this.paused) {
        this.paused = true;
        this.link.pause();
        this.wheel.schedule(this, this.windowStart + 1000);
      }
    }
    return true;
  }

  /** The window is over: read again. */
  onTimer(): number {
    if (this.paused) {
      this.paused = false;
      this.link.resume();
    }
    return 0;
  }
}

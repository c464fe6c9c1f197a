/**
 * One admitted connection's security state: topic decisions cached per connection (bounded), and
 * the publish pace: a token bucket per limit (--max-publish-rate, --max-publish-bytes-rate)
 * holding a tenth of a second's worth. An empty bucket pauses the link; the shared PublishPacer
 * resumes it once half the bucket has refilled, so a flooding client is served a little at a
 * time at its rate instead of a second's worth at once. A client that ran dry in more than
 * --publish-quota-strikes one-second windows in a row is flooding.
 */
import type { Authorizer, ClientGuard, Pausable, TopicGrants } from '../core/auth.js';
import { DecisionCache } from './decision-cache.js';
import type { PublishPacer, Refillable } from './publish-pacer.js';

export interface PublishRate {
  /** messages per second; 0 = unlimited */
  readonly messages: number;
  /** payload bytes per second; 0 = unlimited */
  readonly bytes: number;
  /** windows over the rate in a row before countPublish says "flooding" */
  readonly strikes: number;
}

/** Bucket size for a rate: a tenth of a second's worth, but bursts of a few are always fine. */
function bucketSize(perSecond: number, smallBurst: number): number {
  return Math.max(perSecond / 10, Math.min(perSecond, smallBurst));
}

export class ConnectionGuard implements ClientGuard, Refillable {
  private readonly publishDecisions: DecisionCache;
  private readonly subscribeDecisions: DecisionCache;
  private readonly messageBucket: number;
  private readonly byteBucket: number;
  private messageTokens: number;
  private byteTokens: number;
  private refilledAt: number;
  private windowStart = -Infinity;
  private exceeded = false;
  private strikes = 0;
  private paused = false;

  constructor(
    private readonly authorizer: Authorizer,
    private readonly clientId: string,
    private readonly username: string | null,
    readonly grants: TopicGrants | null,
    cacheSize: number,
    private readonly rate: PublishRate,
    private readonly link: Pausable,
    private readonly pacer: PublishPacer,
  ) {
    this.publishDecisions = new DecisionCache(cacheSize);
    this.subscribeDecisions = new DecisionCache(cacheSize);
    this.messageBucket = bucketSize(rate.messages, 10);
    this.byteBucket = bucketSize(rate.bytes, 65_536);
    this.messageTokens = this.messageBucket;
    this.byteTokens = this.byteBucket;
    this.refilledAt = pacer.now();
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

  forget(): void {
    this.publishDecisions.clear();
    this.subscribeDecisions.clear();
  }

  countPublish(bytes: number): boolean {
    const rate = this.rate;
    if (rate.messages <= 0 && rate.bytes <= 0) return true;
    const now = this.pacer.now();
    this.addTokens(now);
    if (now - this.windowStart >= 1000) {
      // Strikes count consecutive windows in which the bucket ran dry; a calm window (or a
      // gap) forgives.
      if (!this.exceeded || now - this.windowStart >= 2000) this.strikes = 0;
      this.windowStart = now;
      this.exceeded = false;
    }
    this.messageTokens -= 1;
    this.byteTokens -= bytes;
    if ((rate.messages > 0 && this.messageTokens < 0) || (rate.bytes > 0 && this.byteTokens < 0)) {
      if (!this.exceeded) {
        this.exceeded = true;
        this.strikes++;
      }
      if (this.strikes > rate.strikes) return false;
      if (!this.paused) {
        this.paused = true;
        this.link.pause();
        this.pacer.wait(this);
      }
    }
    return true;
  }

  /** Pacer tick while paused: resumes once each limited bucket is at least half full again. */
  refill(now: number): boolean {
    if (!this.paused) return true;
    this.addTokens(now);
    const rate = this.rate;
    if (rate.messages > 0 && this.messageTokens < this.messageBucket / 2) return false;
    if (rate.bytes > 0 && this.byteTokens < this.byteBucket / 2) return false;
    this.paused = false;
    this.link.resume();
    return true;
  }

  private addTokens(now: number): void {
    const seconds = (now - this.refilledAt) / 1000;
    this.refilledAt = now;
    if (seconds <= 0) return;
    this.messageTokens = Math.min(this.messageBucket, this.messageTokens + seconds * this.rate.messages);
    this.byteTokens = Math.min(this.byteBucket, this.byteTokens + seconds * this.rate.bytes);
  }
}

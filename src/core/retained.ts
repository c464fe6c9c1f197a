/**
 * Retained messages: an index by topic level for filter searches, mirrored into the store.
 * Bounded by --max-retained-messages: a new topic past the bound is not retained (logged,
 * counted); replacing or clearing an existing one always works.
 */
import type { Message } from './message.js';
import { RetainedIndex } from './retained-index.js';
import { storedMessage } from './records.js';
import type { Metrics } from './metrics.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../log/logger.js';
import { filterMatches } from './topic.js';

export class RetainedMessages {
  private readonly index = new RetainedIndex<Message>();
  private lastRefusalLog = 0;

  constructor(
    private readonly max: number,
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.index.size;
  }

  /** Loads without writing back (startup). */
  restore(msg: Message): void {
    this.index.set(msg.topic, msg);
  }

  /** Sets, replaces or (empty payload) clears; returns true if the store was written. */
  update(msg: Message, now: number): boolean {
    if (msg.payload.length === 0) {
      if (this.index.get(msg.topic) === undefined) return false;
      this.index.delete(msg.topic);
      this.store.deleteRetained(msg.topic);
      return true;
    }
    if (this.max > 0 && this.index.size >= this.max && this.index.get(msg.topic) === undefined) {
      this.metrics.retainedRefused++;
      if (now - this.lastRefusalLog >= 1000) {
        this.lastRefusalLog = now;
        this.log.warn('retained message not stored: --max-retained-messages reached', {
          topic: msg.topic,
          limit: this.max,
          refusedTotal: this.metrics.retainedRefused,
        });
      }
      return false;
    }
    this.index.set(msg.topic, msg);
    this.store.putRetained(storedMessage(msg));
    return true;
  }

  /** The live retained message of `topic`, or undefined. */
  get(topic: string, now: number): Message | undefined {
    const msg = this.index.get(topic);
    return msg === undefined || msg.isExpired(now) ? undefined : msg;
  }

  /** Removes the retained message of `topic` without publishing anything (an operator's delete); true if there was one. */
  remove(topic: string): boolean {
    if (!this.index.delete(topic)) return false;
    this.store.deleteRetained(topic);
    return true;
  }

  /** Visits every live retained message matching filter; expired ones are removed on the way. */
  search(filter: string, now: number, visit: (msg: Message) => void): void {
    const expired: string[] = [];
    this.index.search(filter, (topic, msg) => {
      if (msg.expiresAt !== 0 && msg.isExpired(now)) expired.push(topic);
      else visit(msg);
    });
    for (const topic of expired) {
      this.index.delete(topic);
      this.store.deleteRetained(topic);
    }
  }

  /**
   * Retained messages matching filter, one step at a time, for a bulk delivery spread over many
   * event-loop turns. Changes between steps are safe: the walk keeps no Map iterator across a
   * step, a deleted topic is skipped (its node no longer holds a topic), a replaced one yields its
   * newest value, and a topic added behind the walk is not visited (it was routed live).
   */
  *cursor(filter: string): Generator<Message, void, undefined> {
    for (const [topic, msg] of this.index.entries()) if (filterMatches(filter, topic)) yield msg;
  }
}

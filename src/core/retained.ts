/**
 * Retained messages: an index by topic level for filter searches, mirrored into the store.
 * Bounded by --max-retained-messages: a new topic past the bound is not retained (logged,
 * counted); replacing or clearing an existing one always works. Bounded by --max-retained-bytes
 * (topic and payload bytes, held in memory and on disk): a message that would bring the total
 * past it is not retained (logged, counted) and any earlier one of its topic stays; clearing
 * always works. Either way the message is still delivered to current subscribers.
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
  /** Topic and payload bytes of every retained message (topics counted as UTF-16 length, near enough). */
  private bytes = 0;

  constructor(
    private readonly max: number,
    private readonly maxBytes: number,
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.index.size;
  }

  /** Topic and payload bytes held. */
  get sizeBytes(): number {
    return this.bytes;
  }

  /** Loads without writing back (startup). */
  restore(msg: Message): void {
    this.bytes += weight(msg) - weightOf(this.index.get(msg.topic));
    this.index.set(msg.topic, msg);
  }

  /** Sets, replaces or (empty payload) clears; returns true if the store was written. */
  update(msg: Message, now: number): boolean {
    const old = this.index.get(msg.topic);
    if (msg.payload.length === 0) {
      if (old === undefined) return false;
      this.bytes -= weight(old);
      this.index.delete(msg.topic);
      this.store.deleteRetained(msg.topic);
      return true;
    }
    if (this.max > 0 && this.index.size >= this.max && old === undefined) {
      this.refuse(msg, now, '--max-retained-messages reached', this.max);
      return false;
    }
    const grown = this.bytes + weight(msg) - weightOf(old);
    if (this.maxBytes > 0 && grown > this.maxBytes && grown > this.bytes) {
      this.refuse(msg, now, '--max-retained-bytes reached', this.maxBytes);
      return false;
    }
    this.bytes = grown;
    this.index.set(msg.topic, msg);
    this.store.putRetained(storedMessage(msg));
    return true;
  }

  private refuse(msg: Message, now: number, why: string, limit: number): void {
    this.metrics.retainedRefused++;
    if (now - this.lastRefusalLog >= 1000) {
      this.lastRefusalLog = now;
      this.log.warn(`retained message not stored: ${why}`, { topic: msg.topic, limit, refusedTotal: this.metrics.retainedRefused });
    }
  }

  /** The live retained message of `topic`, or undefined. */
  get(topic: string, now: number): Message | undefined {
    const msg = this.index.get(topic);
    return msg === undefined || msg.isExpired(now) ? undefined : msg;
  }

  /** Removes the retained message of `topic` without publishing anything (an operator's delete); true if there was one. */
  remove(topic: string): boolean {
    const old = this.index.get(topic);
    if (!this.index.delete(topic)) return false;
    this.bytes -= weightOf(old);
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
      this.bytes -= weightOf(this.index.get(topic));
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

/** What a retained message counts against --max-retained-bytes. */
function weight(msg: Message): number {
  return msg.topic.length + msg.payload.length;
}

function weightOf(msg: Message | undefined): number {
  return msg === undefined ? 0 : weight(msg);
}

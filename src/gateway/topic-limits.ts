/**
 * The topic rules every protocol is held to before authorization: at most --max-topic-levels
 * levels and --max-topic-length bytes, and no client ever publishes under `$SYS` (the broker's
 * own events and statistics live there).
 */
import { topicLevels } from '../core/topic.js';
import { plainFilter } from '../security/topic-rules.js';
import { Refusal } from './refusal.js';

export class TopicLimits {
  /** Why the last check refused, for the log line. */
  detail = '';

  constructor(
    readonly maxLevels: number,
    readonly maxLength: number,
  ) {}

  /** Refusal.None, or why `topic` cannot be published to. */
  checkTopic(topic: string): Refusal {
    if (topic.charCodeAt(0) === 0x24 && topic.startsWith('$SYS')) {
      this.detail = 'clients do not publish under $SYS';
      return Refusal.NotAuthorized;
    }
    return this.checkShape(topic, topic, 'topic');
  }

  /** Refusal.None, or why `filter` cannot be subscribed to (levels counted without $share/{group}/). */
  checkFilter(filter: string): Refusal {
    const plain = filter.charCodeAt(0) === 0x24 ? plainFilter(filter) : filter;
    return this.checkShape(filter, plain, 'filter');
  }

  /** Length of the whole text, levels of `levelled` (the filter without a shared prefix). */
  private checkShape(text: string, levelled: string, what: string): Refusal {
    // Counting bytes costs a pass over the string: only for strings that could be too long.
    if (text.length > this.maxLength / 3 && Buffer.byteLength(text) > this.maxLength) {
      this.detail = `${what} is longer than ${this.maxLength} bytes (--max-topic-length)`;
      return Refusal.TopicInvalid;
    }
    if (topicLevels(levelled) > this.maxLevels) {
      this.detail = `${what} has more than ${this.maxLevels} levels (--max-topic-levels)`;
      return Refusal.TopicInvalid;
    }
    return Refusal.None;
  }
}

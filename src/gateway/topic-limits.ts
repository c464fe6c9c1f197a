/**
 * The publish and topic rules every protocol is held to before authorization: at most
 * --max-topic-levels levels and --max-topic-length bytes; no client publishes to a topic
 * starting with `$`, which belongs to the server ($SYS events and statistics; MQTT section
 * 4.7.2: the server should stop clients exchanging messages there); and no retained publish
 * while --retain-available is false.
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
    readonly retainAvailable: boolean,
  ) {}

  /** Refusal.None, or why `topic` (retained when `retain`) cannot be published to. */
  checkPublish(topic: string, retain: boolean): Refusal {
    if (topic.charCodeAt(0) === 0x24) {
      // No feature defines a `$` topic clients publish to yet; one that does adds it here.
      this.detail = topic.startsWith('$SYS') ? 'clients do not publish under $SYS' : 'clients do not publish to topics starting with $ (reserved for the server)';
      return Refusal.NotAuthorized;
    }
    if (retain && !this.retainAvailable) {
      this.detail = 'retained messages are not available (--retain-available is false)';
      return Refusal.RetainNotSupported;
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

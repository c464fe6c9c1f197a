/**
 * At-least-once across dropped connections. STOMP sessions end with their connection, so the
 * messages a client or client-individual subscription had not acknowledged when its connection
 * dropped (or its subscription ended) are held here and delivered, marked `redelivered:true`,
 * to the next at-least-once subscription whose filter matches: the same client id's when the
 * client named one (`client-id` header), else any connection's. Held messages are bounded
 * (--stomp-redelivery-limit, the oldest dropped first) and expire (--stomp-redelivery-ttl).
 */
import type { Message } from '../../core/message.js';
import { RingQueue } from '../../core/ring-queue.js';
import { filterMatches, parseSharedFilter } from '../../core/topic.js';
import type { Logger, LogRateLimit } from '../../log/logger.js';

interface Held {
  readonly msg: Message;
  /** the client id it waits for, or null for any subscriber */
  readonly owner: string | null;
  /** ms since the epoch */
  readonly deadline: number;
}

export class RedeliveryPool {
  private readonly held = new RingQueue<Held>();
  private dropped = 0;

  constructor(
    private readonly limit: number,
    private readonly ttlMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {}

  get size(): number {
    return this.held.length;
  }

  /** Keeps `msg` for the next matching subscriber (of `owner` when not null). */
  hold(msg: Message, owner: string | null, now: number): void {
    if (this.limit === 0) return;
    if (this.held.length >= this.limit) {
      this.held.shift();
      this.dropped++;
      if (this.logLimit.allow('stomp-redelivery-full')) {
        this.log.warn('STOMP redelivery pool full, oldest unacknowledged message dropped', { limit: this.limit, droppedTotal: this.dropped });
      }
    }
    this.held.push({ msg, owner, deadline: now + this.ttlMs });
  }

  /** Removes and hands to `deliver` every held message `filter` matches, for `clientId`. */
  take(filter: string, clientId: string, now: number, deliver: (msg: Message) => void): void {
    if (this.held.length === 0) return;
    const plain = parseSharedFilter(filter)?.filter ?? filter;
    const taken: Message[] = [];
    this.held.filter((h) => {
      if (h.deadline <= now || h.msg.isExpired(now)) return false;
      if (h.owner !== null && h.owner !== clientId) return true;
      if (!filterMatches(plain, h.msg.topic)) return true;
      taken.push(h.msg);
      return false;
    });
    for (const msg of taken) deliver(msg);
  }
}

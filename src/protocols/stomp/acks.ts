/**
 * Deliveries waiting for the client's ACK or NACK. Every MESSAGE of a client or
 * client-individual subscription gets its own ack id (a per-connection counter: the core's
 * packet ids wrap and one packet id may go to several subscriptions of the connection); the
 * entry remembers the core packet id, which is acknowledged once every subscription it went to
 * has answered.
 */
import type { Message } from '../../core/message.js';
import { AckMode, type StompSubscription } from './subscriptions.js';

export class PendingAck {
  readonly id: number;
  readonly packetId: number;
  readonly sub: StompSubscription;
  readonly msg: Message;

  constructor(id: number, packetId: number, sub: StompSubscription, msg: Message) {
    this.id = id;
    this.packetId = packetId;
    this.sub = sub;
    this.msg = msg;
  }
}

/** One core delivery (packet id) and how many subscriptions still owe an answer for it. */
interface Owed {
  count: number;
  readonly msg: Message;
}

export class AckTracker {
  /** By ack id, in send order (Map keeps insertion order). */
  private readonly pending = new Map<number, PendingAck>();
  private readonly owed = new Map<number, Owed>();

  get size(): number {
    return this.pending.size;
  }

  add(entry: PendingAck): void {
    this.pending.set(entry.id, entry);
    const owed = this.owed.get(entry.packetId);
    if (owed === undefined) this.owed.set(entry.packetId, { count: 1, msg: entry.msg });
    else owed.count++;
  }

  /**
   * Settles the delivery `id` (and, for a client-mode subscription, every earlier one of that
   * subscription). Returns the settled entries; empty for an unknown id (already settled).
   */
  settle(id: number): PendingAck[] {
    const target = this.pending.get(id);
    if (target === undefined) return [];
    if (target.sub.ack !== AckMode.Client) {
      this.pending.delete(id);
      return [target];
    }
    const settled: PendingAck[] = [];
    for (const entry of this.pending.values()) {
      if (entry.id > id) break;
      if (entry.sub === target.sub) settled.push(entry);
    }
    for (const entry of settled) this.pending.delete(entry.id);
    return settled;
  }

  /** Settles everything owed by one subscription (it ended). */
  settleSubscription(sub: StompSubscription): PendingAck[] {
    const settled: PendingAck[] = [];
    for (const entry of this.pending.values()) if (entry.sub === sub) settled.push(entry);
    for (const entry of settled) this.pending.delete(entry.id);
    return settled;
  }

  /** One subscription answered for packetId; true when none still owes (ack the core now). */
  release(packetId: number): boolean {
    const owed = this.owed.get(packetId);
    if (owed === undefined) return false;
    if (--owed.count > 0) return false;
    this.owed.delete(packetId);
    return true;
  }

  /** Messages still owed an answer (the connection dropped); clears the tracker. */
  drain(): Message[] {
    const msgs: Message[] = [];
    for (const owed of this.owed.values()) msgs.push(owed.msg);
    this.pending.clear();
    this.owed.clear();
    return msgs;
  }
}

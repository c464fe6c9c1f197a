/**
 * One connection's STOMP subscriptions. STOMP subscribes by id, the core by topic filter, and
 * two ids may share a filter: each distinct filter is one core subscription (a "slot") whose
 * MQTT Subscription Identifier is the slot's number, so a delivery's subIds name the slots it
 * matched and the connection fans it out to the STOMP subscriptions in them.
 */
import type { QoS } from '../../core/message.js';
import type { DestinationStyle } from './destination.js';

/** SUBSCRIBE `ack` header values. */
export const enum AckMode {
  Auto = 0,
  /** cumulative: an ACK covers every earlier message of the subscription */
  Client = 1,
  ClientIndividual = 2,
}

/** Parses an `ack` header (absent = auto); null for an unknown mode. */
export function parseAckMode(value: string | undefined): AckMode | null {
  if (value === undefined || value === 'auto') return AckMode.Auto;
  if (value === 'client') return AckMode.Client;
  if (value === 'client-individual') return AckMode.ClientIndividual;
  return null;
}

export class StompSubscription {
  readonly id: string;
  /** the destination as the client wrote it */
  readonly destination: string;
  readonly style: DestinationStyle;
  readonly ack: AckMode;
  readonly slot: FilterSlot;

  constructor(id: string, destination: string, style: DestinationStyle, ack: AckMode, slot: FilterSlot) {
    this.id = id;
    this.destination = destination;
    this.style = style;
    this.ack = ack;
    this.slot = slot;
  }
}

/** One core subscription: a filter and the STOMP subscriptions on it. */
export class FilterSlot {
  readonly filter: string;
  /** the core subscription's Subscription Identifier */
  readonly number: number;
  readonly subs: StompSubscription[] = [];

  constructor(filter: string, number: number) {
    this.filter = filter;
    this.number = number;
  }

  /** QoS 1 when any subscription acknowledges (at-least-once), else 0. */
  get qos(): QoS {
    for (const sub of this.subs) if (sub.ack !== AckMode.Auto) return 1;
    return 0;
  }
}

export class SubscriptionTable {
  readonly byId = new Map<string, StompSubscription>();
  private readonly byFilter = new Map<string, FilterSlot>();
  private readonly byNumber = new Map<number, FilterSlot>();
  private nextNumber = 1;

  get size(): number {
    return this.byId.size;
  }

  /** The slot for a filter, made on first use. */
  slotFor(filter: string): FilterSlot {
    let slot = this.byFilter.get(filter);
    if (slot === undefined) {
      slot = new FilterSlot(filter, this.nextNumber++);
      this.byFilter.set(filter, slot);
      this.byNumber.set(slot.number, slot);
    }
    return slot;
  }

  add(sub: StompSubscription): void {
    this.byId.set(sub.id, sub);
    sub.slot.subs.push(sub);
  }

  /** Removes a subscription; returns true when its slot is now empty (and forgotten). */
  remove(sub: StompSubscription): boolean {
    this.byId.delete(sub.id);
    const subs = sub.slot.subs;
    const at = subs.indexOf(sub);
    if (at !== -1) subs.splice(at, 1);
    if (subs.length > 0) return false;
    this.byFilter.delete(sub.slot.filter);
    this.byNumber.delete(sub.slot.number);
    return true;
  }

  slot(number: number): FilterSlot | undefined {
    return this.byNumber.get(number);
  }

  slots(): IterableIterator<FilterSlot> {
    return this.byNumber.values();
  }
}

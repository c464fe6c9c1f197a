/**
 * Subscriptions and routing. The topic matcher (native trie or its TypeScript twin) maps filters
 * to int ids; the router owns what an id means: a plain subscription, or a shared group whose
 * members take turns. Overlapping subscriptions of one session merge into one delivery per
 * PUBLISH (highest QoS, every Subscription Identifier), without a Map per message: each session
 * carries a route stamp.
 */
import type { Message, QoS } from './message.js';
import { ROUTE_RETAIN, type Session, type SessionSubscription, type SharedGroupRef } from './session.js';
import type { StoredSubscription } from '../store/types.js';
import { parseSharedFilter } from './topic.js';
import type { Hooks } from './hooks.js';

/** What route() delivers to: plain subscriptions, shared groups, or both. */
export const ROUTE_PLAIN = 1;
export const ROUTE_SHARED = 2;
export const ROUTE_ALL = ROUTE_PLAIN | ROUTE_SHARED;

/** The matcher contract shared by the native trie and its TypeScript twin. */
export interface TopicMatcher {
  insert(filter: string, id: number, options: number): boolean;
  remove(filter: string, id: number): boolean;
  /** Matching [id, options] pairs; a read-only view valid until the next call. */
  match(topic: string): Int32Array;
  readonly size: number;
}

/** Where the router hands each delivery it decides on. */
export interface RouteSink {
  deliver(session: Session, msg: Message, qos: QoS, retain: boolean, subIds: number[] | null, group: SharedGroup | null): void;
}

export class Subscription implements SessionSubscription {
  id: number;
  readonly session: Session;
  readonly filter: string;
  /** The filter the trie holds (without $share/{group}/). */
  readonly topicFilter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionId: number;
  readonly group: SharedGroup | null;

  constructor(id: number, session: Session, sub: StoredSubscription, topicFilter: string, group: SharedGroup | null) {
    this.id = id;
    this.session = session;
    this.filter = sub.filter;
    this.topicFilter = topicFilter;
    this.qos = sub.qos;
    this.noLocal = sub.noLocal;
    this.retainAsPublished = sub.retainAsPublished;
    this.retainHandling = sub.retainHandling;
    this.subscriptionId = sub.subscriptionId;
    this.group = group;
  }
}

export class SharedGroup implements SharedGroupRef {
  readonly id: number;
  readonly name: string;
  readonly filter: string;
  readonly members: Subscription[] = [];
  next = 0;

  constructor(id: number, name: string, filter: string) {
    this.id = id;
    this.name = name;
    this.filter = filter;
  }

  /** Round robin, preferring connected members; `exclude` skips a member that is leaving. */
  pick(exclude: Session | null): Subscription | null {
    const n = this.members.length;
    let fallback: Subscription | null = null;
    for (let i = 0; i < n; i++) {
      const m = this.members[(this.next + i) % n]!;
      if (m.session === exclude) continue;
      if (m.session.online) {
        this.next = (this.next + i + 1) % n;
        return m;
      }
      if (fallback === null) fallback = m;
    }
    if (fallback !== null) this.next = (this.members.indexOf(fallback) + 1) % n;
    return fallback;
  }
}

export class Router {
  private readonly matcher: TopicMatcher;
  private readonly slots: Array<Subscription | SharedGroup | undefined> = [];
  private readonly freeIds: number[] = [];
  private readonly groups = new Map<string, SharedGroup>();
  private stamp = 0;
  private readonly targets: Session[] = [];
  /** Subscriptions whose filter starts with `$`: only they can match `$SYS/...` topics. */
  private dollarFilters = 0;

  private readonly hooks: Hooks | null;

  constructor(matcher: TopicMatcher, hooks: Hooks | null = null) {
    this.matcher = matcher;
    this.hooks = hooks;
  }

  get subscriptionCount(): number {
    return this.slots.length - this.freeIds.length;
  }

  /** False when no subscription could match a `$` topic (filters starting with a wildcard never do). */
  get hasDollarSubscriptions(): boolean {
    return this.dollarFilters > 0;
  }

  /** Adds or replaces a session's subscription; returns true if it already existed. */
  subscribe(session: Session, sub: StoredSubscription): boolean {
    const existing = session.subscriptions.get(sub.filter) as Subscription | undefined;
    if (existing !== undefined) {
      existing.qos = sub.qos;
      existing.noLocal = sub.noLocal;
      existing.retainAsPublished = sub.retainAsPublished;
      existing.retainHandling = sub.retainHandling;
      existing.subscriptionId = sub.subscriptionId;
      if (existing.group === null) this.matcher.insert(existing.topicFilter, existing.id, sub.qos);
      return true;
    }
    const shared = parseSharedFilter(sub.filter);
    let entry: Subscription;
    if (shared === null) {
      entry = new Subscription(this.allocate(), session, sub, sub.filter, null);
      this.slots[entry.id] = entry;
      this.matcher.insert(sub.filter, entry.id, sub.qos);
    } else {
      const key = shared.group + '\u0000' + shared.filter;
      let group = this.groups.get(key);
      if (group === undefined) {
        group = new SharedGroup(this.allocate(), shared.group, shared.filter);
        this.slots[group.id] = group;
        this.groups.set(key, group);
        this.matcher.insert(shared.filter, group.id, 2);
      }
      entry = new Subscription(-1, session, sub, shared.filter, group);
      group.members.push(entry);
    }
    session.setSubscription(sub.filter, entry);
    if (entry.topicFilter.charCodeAt(0) === 0x24) this.dollarFilters++;
    const added = this.hooks?.subscriptionAdded ?? null;
    if (added !== null) added(session, entry);
    return false;
  }

  /** Removes one subscription; false if the session had no such filter. */
  unsubscribe(session: Session, filter: string): boolean {
    const entry = session.subscriptions.get(filter) as Subscription | undefined;
    if (entry === undefined) return false;
    session.deleteSubscription(filter);
    if (entry.topicFilter.charCodeAt(0) === 0x24) this.dollarFilters--;
    const removed = this.hooks?.subscriptionRemoved ?? null;
    if (removed !== null) removed(session, entry);
    const group = entry.group;
    if (group === null) {
      this.matcher.remove(entry.topicFilter, entry.id);
      this.release(entry.id);
      return true;
    }
    const i = group.members.indexOf(entry);
    if (i >= 0) group.members.splice(i, 1);
    if (group.next >= group.members.length) group.next = 0;
    if (group.members.length === 0) {
      this.matcher.remove(group.filter, group.id);
      this.groups.delete(group.name + '\u0000' + group.filter);
      this.release(group.id);
    }
    return true;
  }

  /** Removes every subscription of a session (it ended). */
  unsubscribeAll(session: Session): void {
    // Most sessions that end (a connect storm's) never subscribed: no copy of nothing.
    if (session.subscriptions.size === 0) return;
    for (const filter of [...session.subscriptions.keys()]) this.unsubscribe(session, filter);
  }

  /**
   * Routes one message to every matching subscription of the `kinds` asked for (ROUTE_ALL, or
   * ROUTE_PLAIN when shared groups are served elsewhere); returns the number of deliveries.
   */
  route(msg: Message, sink: RouteSink, kinds = ROUTE_ALL): number {
    const pairs = this.matcher.match(msg.topic);
    if (pairs.length === 0) return 0;
    const stamp = ++this.stamp;
    const targets = this.targets;
    let deliveries = 0;
    for (let i = 0; i < pairs.length; i += 2) {
      const slot = this.slots[pairs[i]!];
      if (slot === undefined) continue;
      if (slot instanceof SharedGroup) {
        if ((kinds & ROUTE_SHARED) === 0) continue;
        const member = slot.pick(null);
        if (member === null) continue;
        const qos = (msg.qos < member.qos ? msg.qos : member.qos) as QoS;
        const retain = member.retainAsPublished ? msg.retain : false;
        sink.deliver(member.session, msg, qos, retain, member.subscriptionId > 0 ? [member.subscriptionId] : null, slot);
        deliveries++;
        continue;
      }
      if ((kinds & ROUTE_PLAIN) === 0) continue;
      const session = slot.session;
      if (slot.noLocal && msg.origin !== null && msg.origin === session.clientId) continue;
      const qos = (msg.qos < slot.qos ? msg.qos : slot.qos) as QoS;
      const retain = slot.retainAsPublished ? msg.retain : false;
      if (session.routeStamp !== stamp) {
        session.routeStamp = stamp;
        session.routeFlags = retain ? qos | ROUTE_RETAIN : qos;
        session.routeSubIds = slot.subscriptionId > 0 ? [slot.subscriptionId] : null;
        targets.push(session);
      } else {
        let flags = session.routeFlags;
        if (qos > (flags & 3)) flags = (flags & ROUTE_RETAIN) | qos;
        if (retain) flags |= ROUTE_RETAIN;
        session.routeFlags = flags;
        if (slot.subscriptionId > 0) {
          if (session.routeSubIds === null) session.routeSubIds = [slot.subscriptionId];
          else if (!session.routeSubIds.includes(slot.subscriptionId)) session.routeSubIds.push(slot.subscriptionId);
        }
      }
    }
    for (let i = 0; i < targets.length; i++) {
      const s = targets[i]!;
      sink.deliver(s, msg, (s.routeFlags & 3) as QoS, (s.routeFlags & ROUTE_RETAIN) !== 0, s.routeSubIds, null);
      s.routeSubIds = null;
    }
    deliveries += targets.length;
    targets.length = 0;
    return deliveries;
  }

  /** Hands a message to one member of the shared group `name` on `filter`; false when there is none. */
  routeShared(msg: Message, name: string, filter: string, sink: RouteSink): boolean {
    const group = this.groups.get(name + '\u0000' + filter);
    const member = group === undefined ? null : group.pick(null);
    if (member === null) return false;
    const qos = (msg.qos < member.qos ? msg.qos : member.qos) as QoS;
    const retain = member.retainAsPublished ? msg.retain : false;
    sink.deliver(member.session, msg, qos, retain, member.subscriptionId > 0 ? [member.subscriptionId] : null, group!);
    return true;
  }

  /** Picks another member of a group for a delivery its member gave back; null if none. */
  redispatchTarget(group: SharedGroupRef, leaving: Session): Subscription | null {
    const g = this.groups.get(group.name + '\u0000' + group.filter);
    return g === undefined ? null : g.pick(leaving);
  }

  private allocate(): number {
    const id = this.freeIds.pop();
    if (id !== undefined) return id;
    this.slots.push(undefined);
    return this.slots.length - 1;
  }

  private release(id: number): void {
    this.slots[id] = undefined;
    this.freeIds.push(id);
  }
}

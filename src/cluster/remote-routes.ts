/**
 * Messages between nodes, routed by interest: each node subscribes in NATS to the subjects of
 * its local filters (one NATS subscription per distinct filter, however many sessions hold it)
 * and routes what arrives through its local trie once. Overlapping filters (a/+ and a/#) make
 * NATS deliver a message once per subscription; a small trie of the distinct filters lets only
 * the first matching one through. A node ignores its own messages coming back (it routed them
 * locally already). Shared groups ($share/g/f) are NATS queue groups: each message goes to one
 * member node of the group cluster-wide, and that node picks one member session.
 *
 * While NATS is away the node is a standalone broker: nothing is sent, and its shared groups
 * are served locally again.
 */
import type { Msg, MsgHdrs, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import type { Message } from '../core/message.js';
import type { Session, SessionSubscription } from '../core/session.js';
import { filterMatches, parseSharedFilter } from '../core/topic.js';
import { TopicTrie } from '../core/topic-trie.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { bareMessage, bareQos1Headers, H_JOURNAL, H_MSG_ID, messageFrom, messageHeaders, plainMessage, readMsgHeaders, type HeaderFields } from './headers.js';
import type { Journal } from './journal.js';
import type { LinkListener, NatsLink } from './nats-link.js';
import { PlainPublisher } from './plain-publisher.js';
import { Qos2Copies } from './qos2-copies.js';
import { FALLBACK_PREFIX, FALLBACK_WILDCARD, fallbackSubject, fallbackTopic, filterToSubjects, subjectToTopic, topicToSubject } from './subject-map.js';

/** One distinct local filter (or shared group) and the NATS subscriptions that bring its messages. */
interface Interest {
  readonly id: number;
  /** the topic filter, without $share/{group}/ */
  readonly filter: string;
  readonly group: string | null;
  /** local subscriptions holding it */
  count: number;
  subs: NatsSubscription[];
}

/** What the routes counted since the start. */
export interface RouteCounters {
  /** messages sent to the other nodes */
  sent: number;
  /** not sent: NATS was away */
  notSent: number;
  /** not sent: larger than the NATS server's max_payload */
  tooLarge: number;
  /** messages from other nodes (or NATS clients) routed here */
  received: number;
  /** copies an overlapping NATS subscription brought again, or a QoS 2 copy sent again, dropped */
  duplicates: number;
  /** shared-group messages handed to a local member */
  sharedReceived: number;
  /** shared-group messages that found no local member any more */
  sharedUnmatched: number;
  /** NATS subjects that do not map back to a topic, dropped */
  unmappable: number;
}

/** Entries of each per-topic cache below; a full cache starts again empty (no LRU bookkeeping per message). */
const CACHE_MAX = 10_000;

export class RemoteRoutes implements LinkListener {
  private readonly plain = new Map<string, Interest>();
  private readonly shared = new Map<string, Interest>();
  /** The distinct plain filters, each with its interest id: the duplicate check. */
  private readonly trie = new TopicTrie();
  private nextId = 1;
  private nc: NatsConnection | null = null;
  /** topic -> subject, for sending */
  private readonly subjects = new Map<string, string>();
  /** subject -> topic, for what arrives: subjects that map back to themselves only */
  private readonly topics = new Map<string, string>();
  /** topic -> id of the first local plain interest it matches (the duplicate check); emptied when the plain interests change */
  private readonly firstMatch = new Map<string, number>();
  readonly counters: RouteCounters = { sent: 0, notSent: 0, tooLarge: 0, received: 0, duplicates: 0, sharedReceived: 0, sharedUnmatched: 0, unmappable: 0 };
  /** --cluster-durable-qos: QoS 1/2 messages are written to it too */
  journal: Journal | null = null;
  /** The id each QoS 2 message forwarded from here carries, the same on every copy. */
  private readonly qos2Ids = new WeakMap<Message, string>();
  /** QoS 2 ids made here and seen lately (shared with point-to-point messages). */
  readonly qos2Copies: Qos2Copies;
  /** What a QoS 1 message without properties carries, encoded once. */
  private readonly qos1Headers: MsgHdrs;
  /** QoS 0 messages without properties: PUBs with a cached control line. */
  readonly publisher = new PlainPublisher();

  constructor(
    private readonly broker: Broker,
    private readonly link: NatsLink,
    private readonly node: string,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {
    this.qos1Headers = bareQos1Headers(node);
    this.qos2Copies = new Qos2Copies(node);
  }

  /** Distinct filters and shared groups this node holds interest in. */
  get interests(): number {
    return this.plain.size + this.shared.size;
  }

  /** Takes the interest of the sessions restored so far, and listens to the hooks; returns the function that stops. */
  attach(): () => void {
    for (const session of this.broker.sessions.values()) for (const sub of session.subscriptions.values()) this.added(session, sub);
    const hooks = this.broker.hooks;
    const offs = [
      hooks.on('messagePublished', (msg) => this.forward(msg)),
      hooks.on('subscriptionAdded', (session, sub) => this.added(session, sub)),
      hooks.on('subscriptionRemoved', (session, sub) => this.removed(session, sub)),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  // --- the link ------------------------------------------------------------------------------

  up(nc: NatsConnection, first: boolean): void {
    this.nc = nc;
    if (first) {
      nc.subscribe(FALLBACK_WILDCARD, { callback: (err, m) => this.onFallback(err, m) });
      for (const it of this.plain.values()) this.subscribe(nc, it);
      for (const it of this.shared.values()) this.subscribe(nc, it);
    }
    // Shared groups are NATS queue groups again: one member cluster-wide.
    this.broker.serveSharedGroupsElsewhere(true);
  }

  down(): void {
    this.broker.serveSharedGroupsElsewhere(false);
  }

  // --- interest ------------------------------------------------------------------------------

  private added(_session: Session, sub: SessionSubscription): void {
    const shared = parseSharedFilter(sub.filter);
    const filter = shared === null ? sub.filter : shared.filter;
    // $SYS/... and other $ topics are this node's own.
    if (filter.charCodeAt(0) === 0x24) return;
    const map = shared === null ? this.plain : this.shared;
    const key = shared === null ? filter : shared.group + '\u0000' + filter;
    let it = map.get(key);
    if (it === undefined) {
      it = { id: this.nextId++, filter, group: shared === null ? null : shared.group, count: 0, subs: [] };
      map.set(key, it);
      if (shared === null) {
        this.trie.insert(filter, it.id, 0);
        this.firstMatch.clear();
      }
      if (this.nc !== null) this.subscribe(this.nc, it);
    }
    it.count++;
  }

  private removed(_session: Session, sub: SessionSubscription): void {
    const shared = parseSharedFilter(sub.filter);
    const filter = shared === null ? sub.filter : shared.filter;
    if (filter.charCodeAt(0) === 0x24) return;
    const map = shared === null ? this.plain : this.shared;
    const key = shared === null ? filter : shared.group + '\u0000' + filter;
    const it = map.get(key);
    if (it === undefined || --it.count > 0) return;
    map.delete(key);
    if (shared === null) {
      this.trie.remove(filter, it.id);
      this.firstMatch.clear();
    }
    for (const s of it.subs) s.unsubscribe();
    it.subs = [];
  }

  private subscribe(nc: NatsConnection, it: Interest): void {
    const subjects = filterToSubjects(it.filter);
    if (it.group === null) {
      // A filter NATS cannot express matches only topics that travel on the fallback subject.
      for (const subject of subjects ?? []) {
        // A subject without wildcards brings only itself: its topic is known now, not decoded and mapped per message.
        const literal = literalTopic(subject);
        it.subs.push(nc.subscribe(subject, { callback: (err, m) => this.onPlain(it, literal, err, m) }));
      }
      return;
    }
    // Queue subscriptions live on the link's second connection: the main one never receives this node's own messages.
    const shared = this.link.sharedNc ?? nc;
    const queue = queueName(it.group, it.filter);
    for (const subject of [...(subjects ?? []), FALLBACK_WILDCARD]) it.subs.push(shared.subscribe(subject, { queue, callback: (err, m) => this.onShared(it, err, m) }));
  }

  // --- out -----------------------------------------------------------------------------------

  /**
   * A message published on this node: to the other nodes (and NATS clients), unless it is a $
   * topic; with the journal, QoS 1/2 to it too. `resend`: sent again after NATS was away.
   */
  forward(msg: Message, resend = false): void {
    const topic = msg.topic;
    if (topic.charCodeAt(0) === 0x24) return;
    const nc = this.nc;
    if (nc === null || !this.link.up) {
      this.counters.notSent++;
      return;
    }
    try {
      // QoS 0 without properties goes as a plain PUB: the node's name alone is not worth a header block
      // (the main connection is noEcho, so the node's own messages never come back to it anyway).
      const subject = this.subjectOf(topic);
      const journal = this.journal;
      const durable = journal !== null && msg.qos !== 0 && journal.takes(msg, subject);
      if (plainMessage(msg)) this.publisher.publish(nc, subject, msg.payload);
      else if (msg.qos === 1 && !durable && bareMessage(msg)) nc.publish(subject, msg.payload, { headers: this.qos1Headers });
      else {
        const headers = messageHeaders(msg, this.node, Date.now());
        if (msg.qos === 2) {
          let id = this.qos2Ids.get(msg);
          if (id === undefined) {
            id = this.qos2Copies.newId();
            this.qos2Ids.set(msg, id);
          }
          headers.set(H_MSG_ID, id);
        }
        // Written again after an outage, a message this node's sessions had straight away must not reach them twice.
        if (durable && journal!.write(msg, subject, headers, resend && !msg.journaled ? this.node : null)) {
          if (!resend) msg.journaled = true;
          headers.set(H_JOURNAL, '1');
        }
        nc.publish(subject, msg.payload, { headers });
      }
      this.counters.sent++;
    } catch (err) {
      this.counters.tooLarge++;
      if (this.logLimit.allow('cluster-send')) this.log.warn('message not sent to the other nodes', { topic, bytes: msg.payload.length, error: (err as Error).message });
    }
  }

  private subjectOf(topic: string): string {
    let subject = this.subjects.get(topic);
    if (subject === undefined) {
      subject = topicToSubject(topic) ?? fallbackSubject(topic);
      if (this.subjects.size >= CACHE_MAX) this.subjects.clear();
      this.subjects.set(topic, subject);
    }
    return subject;
  }

  // --- in ------------------------------------------------------------------------------------

  /** The topic a subject carries, or null for subjects that are not device messages. */
  private topicOf(subject: string, fromNode: boolean): string | null {
    if (subject.startsWith(FALLBACK_PREFIX)) return fallbackTopic(subject);
    // JetStream's API, Junction's own subjects and request replies are not messages.
    if (subject.charCodeAt(0) === 0x24 || subject.startsWith('_INBOX.')) return null;
    // A subject that maps back to itself gives the same topic whoever sent it: cached.
    let topic = this.topics.get(subject);
    if (topic === undefined) {
      const t = subjectToTopic(subject);
      // A NATS client may publish a subject no topic maps to (a.b/c): it would not reach the same subscribers.
      // A node's subject always maps back (topicToSubject made it); the check stays for safety, uncached.
      if (topicToSubject(t) !== subject) {
        if (fromNode) return t;
        this.counters.unmappable++;
        return null;
      }
      if (this.topics.size >= CACHE_MAX) this.topics.clear();
      this.topics.set(subject, t);
      topic = t;
    }
    return topic;
  }

  /** The id of the first local plain interest `topic` matches (0x7fffffff for none). */
  private firstInterest(topic: string): number {
    let first = this.firstMatch.get(topic);
    if (first === undefined) {
      const pairs = this.trie.match(topic);
      first = 0x7fffffff;
      for (let i = 0; i < pairs.length; i += 2) if (pairs[i]! < first) first = pairs[i]!;
      if (this.firstMatch.size >= CACHE_MAX) this.firstMatch.clear();
      this.firstMatch.set(topic, first);
    }
    return first;
  }

  private onPlain(it: Interest, literal: string | null, err: Error | null, m: Msg): void {
    if (err !== null) return;
    this.link.ingest.took();
    const f = readMsgHeaders(m);
    if (f.node === this.node) return;
    const topic = literal ?? this.topicOf(m.subject, f.node !== '');
    if (topic === null) return;
    // Only the first of the overlapping local filters that match lets the message through.
    if (this.firstInterest(topic) !== it.id) {
      this.counters.duplicates++;
      return;
    }
    if (this.repeated(f)) return;
    this.counters.received++;
    const msg = messageFrom(topic, Buffer.from(m.data), f, Date.now(), null);
    if (f.journal === '1') msg.journaled = true;
    // A message fanned out to many sessions here weighs what its deliveries cost.
    this.link.ingest.took(this.broker.routeRemote(msg));
  }

  private onFallback(err: Error | null, m: Msg): void {
    if (err !== null) return;
    this.link.ingest.took();
    const f = readMsgHeaders(m);
    if (f.node === this.node || this.repeated(f)) return;
    this.counters.received++;
    this.link.ingest.took(this.broker.routeRemote(messageFrom(fallbackTopic(m.subject), Buffer.from(m.data), f, Date.now(), null)));
  }

  private onShared(it: Interest, err: Error | null, m: Msg): void {
    if (err !== null) return;
    this.link.sharedIngest.took();
    const f = readMsgHeaders(m);
    const topic = this.topicOf(m.subject, f.node !== '');
    // On the fallback subject the queue group sees every unmappable topic: only its own count.
    if (topic === null || (m.subject.startsWith(FALLBACK_PREFIX) && !filterMatches(it.filter, topic))) return;
    if (this.broker.routeShared(messageFrom(topic, Buffer.from(m.data), f, Date.now(), null), it.group!, it.filter)) this.counters.sharedReceived++;
    else this.counters.sharedUnmatched++;
  }

  /** True for a QoS 2 copy this node had already (sent again by its publisher's node); counted. */
  private repeated(f: HeaderFields): boolean {
    if (!this.qos2Copies.repeated(f.msgId)) return false;
    this.counters.duplicates++;
    return true;
  }

  /** Unsubscribes everything (the link is closing). */
  close(): void {
    for (const it of [...this.plain.values(), ...this.shared.values()]) it.subs = [];
    this.nc = null;
  }
}

/**
 * The topic every message on `subject` carries when the subject has no wildcard and maps back to
 * itself (what topicOf would answer for it, whoever publishes); null otherwise (decided per message).
 */
function literalTopic(subject: string): string | null {
  if (subject.startsWith(FALLBACK_PREFIX) || subject.charCodeAt(0) === 0x24 || subject.startsWith('_INBOX.')) return null;
  const tokens = subject.split('.');
  if (tokens.includes('*') || tokens.includes('>')) return null;
  const topic = subjectToTopic(subject);
  return topicToSubject(topic) === subject ? topic : null;
}

/** The NATS queue group of a shared group: its name and filter (base64url when the filter holds white space). */
export function queueName(group: string, filter: string): string {
  const f = /[\s]/.test(filter) ? Buffer.from(filter, 'utf8').toString('base64url') : filter;
  return `junction.${group}.${f}`;
}

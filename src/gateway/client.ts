/**
 * An admitted client: what a protocol connection holds once the gateway let it in, and its only
 * way to the core. Identity, grants, the ACL decisions and the publish pace are bound here at
 * admission, so every publish, subscription, point-to-point message, will and downlink of every
 * protocol is checked the same way; a protocol cannot reach the broker around it.
 */
import type { Broker } from '../core/broker.js';
import type { DropReason } from '../core/hooks.js';
import type { Message, QoS } from '../core/message.js';
import { receiveQos2, releaseQos2 } from '../core/qos2-receipt.js';
import type { Session, SessionOwner } from '../core/session.js';
import type { Will } from '../core/will.js';
import type { ClientGuard, SecurityPolicy, TopicGrants } from '../core/auth.js';
import type { SessionIdentity, StoredSubscription } from '../store/types.js';
import { Refusal } from './refusal.js';
import type { TopicLimits } from './topic-limits.js';

/** What one publish came to; reused between calls (read it before the next publish). */
export interface PublishOutcome {
  /** Refusal.None when the message was routed. */
  refusal: Refusal;
  /** deliveries made (0 = no matching subscriber) */
  matched: number;
  /** the store was written: acknowledge the publisher only after the commit */
  stored: boolean;
}

/** What one subscribe came to. */
export interface SubscribeOutcome {
  refusal: Refusal;
  /** The filter was already subscribed (its options were replaced). */
  existed: boolean;
}

/** What a client's subscriptions wait for before their acknowledgement (rare: a cluster's new durable route), not a field per client. */
const subscribeHolds = new WeakMap<Client, Promise<void>[]>();

/** The services a client reaches through the gateway (one per server). */
export interface ClientServices {
  readonly broker: Broker;
  readonly policy: SecurityPolicy;
  readonly limits: TopicLimits;
}

const outcome: PublishOutcome = { refusal: Refusal.None, matched: 0, stored: false };

/** The connection side of a Client: the core delivers to it, and it counts the client's publishes (admin metrics). */
export interface ClientOwner extends SessionOwner {
  messagesIn: number;
}

export class Client {
  /** The session once attached. */
  session: Session | null = null;
  /** When the credentials it logged in with expire (ms since the epoch); 0 = never. */
  expiresAt = 0;

  constructor(
    private readonly services: ClientServices,
    private readonly owner: ClientOwner,
    readonly clientId: string,
    readonly grants: TopicGrants | null,
    private readonly guard: ClientGuard,
    /** e.g. 'mqtt/5', 'jt808/2019': the protocol a new session is stored with */
    private readonly protocol: string,
    /** The --auth-chain provider that admitted it; null for the anonymous rule or a protocol's own decision. */
    readonly provider: string | null,
    /** Who a session this client creates belongs to; its name is the client's username. */
    readonly identity: SessionIdentity,
  ) {}

  /** The identity authentication settled on: the ACL's user, the events' username (its identity's name: not a field of its own). */
  get username(): string | null {
    return this.identity.name;
  }

  // --- checks ------------------------------------------------------------------------------

  /** Refusal.None, or why this client may not publish to `topic`, retained when `retain` (limits, `$` topics, --retain-available, ACL, grants). */
  checkPublish(topic: string, retain: boolean): Refusal {
    const shape = this.services.limits.checkPublish(topic, retain);
    if (shape !== Refusal.None) return shape;
    return this.guard.canPublish(topic) ? Refusal.None : Refusal.NotAuthorized;
  }

  /** Refusal.None, or why this client may not subscribe to `filter`. */
  checkSubscribe(filter: string): Refusal {
    const shape = this.services.limits.checkFilter(filter);
    if (shape !== Refusal.None) return shape;
    return this.guard.canSubscribe(filter) ? Refusal.None : Refusal.NotAuthorized;
  }

  /** Why the last check refused, for a log line or an error text. */
  get refusalDetail(): string {
    return this.services.limits.detail;
  }

  /**
   * The topic rules changed (a reload): forgets cached decisions, then drops every subscription
   * the client may no longer hold, so it stops delivering; returns the filters dropped.
   */
  reauthorize(): string[] {
    this.guard.forget?.();
    return this.dropRefusedSubscriptions();
  }

  /** Unsubscribes every filter of the session this client may not hold (now); returns them. */
  private dropRefusedSubscriptions(): string[] {
    const session = this.session;
    if (session === null || session.subscriptions.size === 0) return [];
    const dropped: string[] = [];
    for (const sub of [...session.subscriptions.values()]) {
      if (this.checkSubscribe(sub.filter) === Refusal.None) continue;
      this.services.broker.unsubscribe(session, sub.filter);
      dropped.push(sub.filter);
    }
    return dropped;
  }

  // --- session -----------------------------------------------------------------------------

  /**
   * Attaches the session of this client id (taking over a connected one); true when one was
   * resumed. A resumed session's stored subscriptions are checked against this client's rights
   * now (rules change, identities may differ): the refused ones are dropped and logged.
   */
  attach(cleanStart: boolean, expiryInterval: number): boolean {
    const broker = this.services.broker;
    const { session, sessionPresent } = broker.connect(this.clientId, this.protocol, cleanStart, expiryInterval, this.owner, this.identity);
    this.session = session;
    if (sessionPresent) {
      const dropped = this.dropRefusedSubscriptions();
      if (dropped.length > 0)
        broker.log.info('stored subscriptions dropped at resume: the client may no longer subscribe to them', { clientId: this.clientId, username: this.username, filters: dropped });
    }
    return sessionPresent;
  }

  /** After the protocol's login answer: resends what was unacknowledged and drains the queue. */
  resume(): void {
    if (this.session !== null) this.services.broker.resume(this.session);
  }

  /** Changes the session's expiry (capped by --max-session-expiry). */
  setExpiry(expiryInterval: number): void {
    if (this.session !== null) this.services.broker.setExpiry(this.session, expiryInterval);
  }

  /** The expiry this client would get for `expiryInterval`, after the operator's cap. */
  cappedExpiry(expiryInterval: number): number {
    return this.services.broker.cappedExpiry(expiryInterval);
  }

  /** The connection is online with this will (null: none): the cluster keeps it so a survivor publishes it if this node dies. */
  declareWill(will: Will | null): void {
    if (this.session !== null) this.services.broker.declareWill(this.session, will);
  }

  /**
   * The connection ended: the will is published now, later, or with the session. It was checked
   * at login; it is checked again here, as a reload may have revoked the right since.
   */
  detach(will: Will | null): void {
    const session = this.session;
    if (session === null) return;
    this.session = null;
    const broker = this.services.broker;
    if (will !== null && this.checkPublish(will.message.topic, will.message.retain) !== Refusal.None) {
      broker.log.info('will not published: the client may no longer publish there', {
        clientId: this.clientId,
        username: this.username,
        topic: will.message.topic,
        detail: this.refusalDetail || 'not authorized',
      });
      will = null;
    }
    // A delayed will is asked once more when due: a reload may revoke the right during the delay.
    if (will !== null && will.delay > 0) {
      const msg = will.message;
      will.stillAllowed = () => this.stillAllowed(msg);
    }
    broker.detach(session, this.owner, will);
  }

  /** After detach: may this client still publish `msg` (the rules now, no cached decision)? */
  private stillAllowed(msg: Message): boolean {
    this.guard.forget?.();
    return this.checkPublish(msg.topic, msg.retain) === Refusal.None;
  }

  // --- messages in -------------------------------------------------------------------------

  /**
   * Publishes a message from this client: counts it against the publish pace (flooding refuses
   * it), checks the topic and the client's rights, then routes it; `{parent}/p2p/{clientId}`
   * goes to that one client, and to a device only if this client may publish on its downlink.
   * `paced` false: already counted (a protocol that cannot refuse for quota publishes it anyway).
   */
  publish(msg: Message, paced = true): PublishOutcome {
    const out = outcome;
    out.matched = 0;
    out.stored = false;
    this.owner.messagesIn++;
    if (paced && !this.guard.countPublish(msg.payload.length)) {
      out.refusal = Refusal.QuotaExceeded;
      return out;
    }
    const refusal = this.checkPublish(msg.topic, msg.retain);
    out.refusal = refusal;
    if (refusal !== Refusal.None) return out;
    const broker = this.services.broker;
    const target = this.services.policy.pointToPoint(msg.topic);
    if (target !== null) {
      const downlink = broker.sessions.get(target)?.owner?.downlinkTopic ?? null;
      if (downlink !== null && !this.guard.canPublish(downlink)) {
        this.services.limits.detail = `not authorized to publish on ${downlink}, the downlink of ${target}`;
        out.refusal = Refusal.NotAuthorized;
        return out;
      }
    }
    const routed = target === null ? broker.publish(msg) : broker.publishTo(target, msg, this.guard);
    out.matched = routed.matched;
    out.stored = routed.stored;
    return out;
  }

  /** Inbound QoS 2: true the first time packet id `id` is seen (publish it), false for a duplicate. */
  receiveQos2(id: number): boolean {
    return receiveQos2(this.services.broker.store, this.session!, id);
  }

  /** Inbound QoS 2 release: forgets packet id `id`; false if it was unknown. */
  releaseQos2(id: number): boolean {
    const session = this.session!;
    if (!releaseQos2(this.services.broker.store, session, id)) return false;
    const released = this.services.broker.hooks.qos2Released;
    if (released !== null) released(session, id);
    return true;
  }

  // --- subscriptions -----------------------------------------------------------------------

  /** Subscribes after checking the filter, the client's rights and --max-subscriptions. */
  subscribe(sub: StoredSubscription): SubscribeOutcome {
    const refusal = this.checkSubscribe(sub.filter);
    if (refusal !== Refusal.None) return { refusal, existed: false };
    const session = this.session!;
    const max = this.services.policy.maxSubscriptions;
    if (max > 0 && session.subscriptions.size >= max && !session.subscriptions.has(sub.filter)) {
      this.services.limits.detail = `the client holds ${max} subscriptions (--max-subscriptions)`;
      return { refusal: Refusal.QuotaExceeded, existed: false };
    }
    const broker = this.services.broker;
    const existed = broker.subscribe(session, sub);
    const held = broker.takeSubscribeHolds();
    if (held !== null) {
      const holds = subscribeHolds.get(this);
      if (holds === undefined) subscribeHolds.set(this, held);
      else holds.push(...held);
    }
    return { refusal: Refusal.None, existed };
  }

  /**
   * What the subscriptions this client just added wait for before their acknowledgement (a
   * cluster's durable route reaching every node, bounded by --cluster-route-wait), or null: ack now.
   */
  subscribed(): Promise<void> | null {
    const holds = subscribeHolds.get(this);
    if (holds === undefined) return null;
    subscribeHolds.delete(this);
    return holds.length === 1 ? holds[0]! : Promise.all(holds).then(() => undefined);
  }

  /** Sends the retained messages a subscription this client holds asks for. */
  sendRetained(sub: StoredSubscription, existed: boolean): void {
    const session = this.session;
    if (session === null || !session.subscriptions.has(sub.filter)) return;
    this.services.broker.sendRetained(session, sub, existed);
  }

  unsubscribe(filter: string): boolean {
    return this.session !== null && this.services.broker.unsubscribe(this.session, filter);
  }

  // --- messages out ------------------------------------------------------------------------

  /** The client acknowledged QoS 1 delivery `id`. */
  acknowledge(id: number): boolean {
    return this.session !== null && this.services.broker.acknowledge(this.session, id);
  }

  /** The client received QoS 2 delivery `id`; returns the release's reason code or NO_RELEASE. */
  received(id: number, reasonCode: number): number {
    return this.services.broker.received(this.session!, id, reasonCode);
  }

  /** The client completed QoS 2 delivery `id`. */
  completed(id: number): boolean {
    return this.session !== null && this.services.broker.completed(this.session, id);
  }

  /** Delivers again to this client's own session a message it already received (a STOMP NACK). */
  redeliver(msg: Message, qos: QoS, subscriptionIds: number[] | null): void {
    if (this.session !== null) this.services.broker.deliver(this.session, msg, qos, false, subscriptionIds, null);
  }

  /** A message for this client could not be carried (counted, and told to the hooks). */
  dropped(msg: Message, reason: DropReason): void {
    this.services.broker.dropped(this.session, msg, reason);
  }
}

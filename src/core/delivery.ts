/**
 * Outbound delivery for sessions: QoS 0 straight to the connection, QoS 1/2 through an inflight
 * window bounded by min(--max-inflight, the client's Receive Maximum) and a bounded queue behind
 * it. Persistent sessions mirror every QoS 1/2 delivery into the store, so that what the broker
 * acknowledged survives a crash. Every drop goes through one place, which counts it and tells
 * the hooks why.
 */
import type { Message, QoS } from './message.js';
import type { Metrics } from './metrics.js';
import { Delivered, NO_RELEASE, OutState, Outgoing, journalPacketId, type Delivery, type JournalRef, type Session, type SharedGroupRef } from './session.js';
import type { DropReason, Hooks } from './hooks.js';
import { queuedRecord } from './records.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../log/logger.js';
import type { TimerWheel } from './timer-wheel.js';

export interface DeliveryLimits {
  maxInflight: number;
  /** per session; 0 = unlimited */
  maxQueuedMessages: number;
  /** payload bytes queued per session; 0 = unlimited */
  maxQueuedBytes: number;
}

/** The descriptor of every QoS 0 delivery, refilled for each (owners read it during the call only). */
class Qos0Delivery implements Delivery {
  msg: Message = null as unknown as Message;
  readonly qos = 0 as const;
  retain = false;
  readonly id = 0;
  readonly redelivered = false;
  subscriptionIds: readonly number[] | null = null;
}

/** The drop reason of each Delivered value but Written, by `value - 1`. */
const DROP_REASONS: readonly DropReason[] = ['too-large', 'socket-buffer', 'refused'];

/** Every session's deliveries: windows, queues, resends and drops. */
export class Deliveries {
  /** Set when a delivery wrote to the store; the publisher's ack must then wait for the commit. */
  stored = false;
  private lastDropLog = 0;
  private readonly qos0 = new Qos0Delivery();

  constructor(
    private readonly limits: DeliveryLimits,
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly hooks: Hooks,
    private readonly log: Logger,
    private readonly clock: TimerWheel,
  ) {}

  /** Hands one message to a session at the given QoS. */
  deliver(session: Session, msg: Message, qos: QoS, retain: boolean, subIds: number[] | null, group: SharedGroupRef | null): void {
    const owner = session.owner;
    if (qos === 0) {
      // QoS 0 is not queued for offline sessions (as mosquitto's default).
      if (owner === null) return;
      if (msg.expiresAt !== 0 && msg.isExpired(this.clock.now)) {
        this.dropped(session, msg, 'expired');
        return;
      }
      const d = this.qos0;
      d.msg = msg;
      d.retain = retain;
      d.subscriptionIds = subIds;
      const result = owner.deliver(d);
      d.msg = null as unknown as Message;
      if (result === Delivered.Written) this.written(session, msg, 0);
      else this.dropped(session, msg, DROP_REASONS[result - 1]!);
      return;
    }
    if (owner === null && !session.persistent) return;
    const limit = this.limits.maxQueuedMessages;
    const canSendNow = owner !== null && session.queue.length === 0 && session.inflight.size < this.window(session);
    if (!canSendNow) {
      const maxBytes = this.limits.maxQueuedBytes;
      if ((limit > 0 && session.queue.length >= limit) || (maxBytes > 0 && session.queuedBytes + msg.payload.length > maxBytes)) {
        this.dropped(session, msg, 'queue-full');
        return;
      }
    }
    const out = new Outgoing(session.nextSeq++, msg, qos, retain, subIds, group);
    if (canSendNow) {
      if (!this.send(session, out)) return;
    } else {
      session.enqueue(out);
      session.queuedBytes += msg.payload.length;
    }
    if (session.persistent) {
      this.store.putQueued(session.clientId, queuedRecord(out));
      this.stored = true;
    }
  }

  /**
   * Hands a session one delivery its journal feed brought: sent under the packet id its journal
   * sequence fixes, or queued behind the window (the feed's own limit bounds how many); never
   * written to the store, since the journal holds it until the client is done with it.
   */
  deliverJournaled(session: Session, msg: Message, qos: 1 | 2, retain: boolean, subIds: number[] | null, ref: JournalRef, redelivered: boolean): void {
    if (msg.expiresAt !== 0 && msg.isExpired(this.clock.now)) {
      this.dropped(session, msg, 'expired');
      ref.done();
      return;
    }
    const out = new Outgoing(session.nextSeq++, msg, qos, retain, subIds, null);
    out.journal = ref;
    out.id = journalPacketId(ref.seq);
    out.redelivered = redelivered;
    if (session.owner !== null && session.queue.length === 0 && session.inflight.size < this.window(session) && !session.inflight.has(out.id)) this.send(session, out);
    else {
      session.enqueue(out);
      session.queuedBytes += msg.payload.length;
    }
  }

  /** Acknowledgement of a QoS 1 delivery (PUBACK). */
  acknowledge(session: Session, id: number): boolean {
    const out = session.inflight.get(id);
    if (out === undefined || out.qos !== 1) return false;
    this.complete(session, out);
    return true;
  }

  /** Receipt of a QoS 2 delivery (PUBREC); returns the release's reason code, or NO_RELEASE. */
  received(session: Session, id: number, reasonCode: number): number {
    const out = session.inflight.get(id);
    if (out === undefined || out.qos !== 2) return 0x92; // Packet Identifier not found
    if (reasonCode >= 0x80) {
      // The client refused the message: the flow ends here, no PUBREL [MQTT-4.3.3-?].
      this.complete(session, out);
      return NO_RELEASE;
    }
    if (out.state !== OutState.Released) {
      out.state = OutState.Released;
      const ref = out.journal;
      if (ref !== null) {
        // PUBREL only once the journal recorded the receipt: a node taking over then sends PUBREL, not the message.
        ref.received(() => {
          if (session.inflight.get(id) === out) session.owner?.release?.(id);
        });
        return NO_RELEASE;
      }
      if (session.persistent) this.store.putQueued(session.clientId, queuedRecord(out));
    }
    return 0;
  }

  /** Completion of a QoS 2 delivery (PUBCOMP). */
  completed(session: Session, id: number): boolean {
    const out = session.inflight.get(id);
    if (out === undefined || out.qos !== 2) return false;
    this.complete(session, out);
    return true;
  }

  /** After a (re)connect: resends the inflight window as redeliveries, then drains the queue. */
  resume(session: Session): void {
    const owner = session.owner;
    if (owner === null) return;
    for (const out of session.inflight.values()) {
      if (out.state === OutState.Released) {
        owner.release?.(out.id);
        continue;
      }
      out.redelivered = true;
      const result = owner.deliver(out);
      if (result !== Delivered.Written) {
        this.complete(session, out);
        this.dropped(session, out.msg, DROP_REASONS[result - 1]!);
      }
    }
    this.pump(session);
  }

  /** Sends queued deliveries while the window has room. */
  pump(session: Session): void {
    const window = this.window(session);
    while (session.owner !== null && session.inflight.size < window) {
      const head = session.queue.peek();
      // A journal delivery waits for its fixed packet id to be free.
      if (head === undefined || (head.journal !== null && session.inflight.has(head.id))) return;
      const out = session.dequeue()!;
      session.queuedBytes -= out.msg.payload.length;
      const stored = session.persistent && out.journal === null;
      if (out.msg.expiresAt !== 0 && out.msg.isExpired(this.clock.now)) {
        this.dropped(session, out.msg, 'expired');
        if (stored) this.store.deleteQueued(session.clientId, out.seq);
        else out.journal?.done();
        continue;
      }
      if (this.send(session, out)) {
        if (stored) this.store.putQueued(session.clientId, queuedRecord(out));
      } else if (stored) {
        this.store.deleteQueued(session.clientId, out.seq);
      }
    }
  }

  /**
   * Takes back the deliveries of a session that arrived through shared groups and may move to
   * another member: everything queued, and QoS 1 already sent. A QoS 2 delivery already sent
   * must complete with this client [MQTT-4.8.2-4].
   */
  takeShared(session: Session): Outgoing[] {
    const taken: Outgoing[] = [];
    for (const out of session.inflight.values()) {
      if (out.group !== null && out.qos === 1) {
        session.deleteInflight(out.id);
        taken.push(out);
      }
    }
    session.dropQueued((out) => {
      if (out.group === null) return true;
      taken.push(out);
      session.queuedBytes -= out.msg.payload.length;
      return false;
    });
    if (session.persistent) for (const out of taken) this.store.deleteQueued(session.clientId, out.seq);
    return taken;
  }

  private window(session: Session): number {
    const owner = session.owner;
    const limit = this.limits.maxInflight;
    if (owner === null) return limit;
    return owner.sendWindow < limit ? owner.sendWindow : limit;
  }

  private send(session: Session, out: Outgoing): boolean {
    const owner = session.owner!;
    const id = out.journal === null ? session.allocateId() : out.id;
    out.id = id;
    out.state = OutState.Sent;
    session.setInflight(id, out);
    const result = owner.deliver(out);
    if (result === Delivered.Written) {
      this.written(session, out.msg, out.qos);
      return true;
    }
    session.deleteInflight(id);
    this.dropped(session, out.msg, DROP_REASONS[result - 1]!);
    // What this client cannot take it would not take from another node either.
    out.journal?.done();
    return false;
  }

  private complete(session: Session, out: Outgoing): void {
    session.deleteInflight(out.id);
    if (out.journal !== null) out.journal.done();
    else if (session.persistent) this.store.deleteQueued(session.clientId, out.seq);
    this.pump(session);
  }

  private written(session: Session, msg: Message, qos: QoS): void {
    this.metrics.messagesSent++;
    const hook = this.hooks.messageDelivered;
    if (hook !== null) hook(session, msg, qos);
  }

  /** Counts a drop by its reason and tells the hooks; a full queue is also logged (once a second). */
  dropped(session: Session | null, msg: Message, reason: DropReason): void {
    const m = this.metrics;
    m.messagesDropped++;
    switch (reason) {
      case 'queue-full':
        m.queueOverflowDrops++;
        if (session !== null) this.logQueueFull(session, msg);
        break;
      case 'expired':
        m.expiredDrops++;
        break;
      case 'too-large':
        m.oversizeDrops++;
        break;
      case 'socket-buffer':
        m.slowConsumerDrops++;
        break;
      case 'refused':
        m.refusedDrops++;
        break;
      case 'unanswered':
        m.unansweredDrops++;
        break;
    }
    const hook = this.hooks.messageDropped;
    if (hook !== null) hook(session, msg, reason);
  }

  private logQueueFull(session: Session, msg: Message): void {
    session.droppedMessages++;
    const now = this.clock.now;
    if (now - this.lastDropLog < 1000) return;
    this.lastDropLog = now;
    this.log.warn('session queue full, message dropped', {
      clientId: session.clientId,
      topic: msg.topic,
      maxQueuedMessages: this.limits.maxQueuedMessages,
      maxQueuedBytes: this.limits.maxQueuedBytes,
      droppedForSession: session.droppedMessages,
      droppedTotal: this.metrics.queueOverflowDrops,
    });
  }
}

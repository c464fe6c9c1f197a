/**
 * Outbound delivery for sessions: QoS 0 straight to the wire, QoS 1/2 through an inflight window
 * bounded by min(--max-inflight, the client's Receive Maximum) and a bounded queue behind it.
 * Persistent sessions mirror every QoS 1/2 delivery into the store, so that what the broker
 * acknowledged survives a crash.
 */
import type { Message, QoS } from './message.js';
import type { Metrics } from './metrics.js';
import { OutState, Outgoing, type Session, type SharedGroupRef } from './session.js';
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

/** Result of PUBREC handling: send PUBREL with this reason code, or nothing (-1). */
export const NO_RELEASE = -1;

export class Delivery {
  /** Set when a delivery wrote to the store; the publisher's ack must then wait for the commit. */
  stored = false;
  private lastDropLog = 0;

  constructor(
    private readonly limits: DeliveryLimits,
    private readonly store: Store,
    private readonly metrics: Metrics,
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
        this.metrics.expiredDrops++;
        return;
      }
      if (owner.sendMessage(msg, 0, retain, 0, false, subIds)) this.metrics.messagesSent++;
      else this.metrics.messagesDropped++;
      return;
    }
    if (owner === null && !session.persistent) return;
    const limit = this.limits.maxQueuedMessages;
    const canSendNow = owner !== null && session.queue.length === 0 && session.inflight.size < this.window(session);
    if (!canSendNow) {
      const maxBytes = this.limits.maxQueuedBytes;
      if ((limit > 0 && session.queue.length >= limit) || (maxBytes > 0 && session.queuedBytes + msg.payload.length > maxBytes)) {
        this.dropOverflow(session, msg);
        return;
      }
    }
    const out = new Outgoing(session.nextSeq++, msg, qos, retain, subIds, group);
    if (canSendNow) {
      if (!this.send(session, out)) return;
    } else {
      session.queue.push(out);
      session.queuedBytes += msg.payload.length;
    }
    if (session.persistent) {
      this.store.putQueued(session.clientId, queuedRecord(out));
      this.stored = true;
    }
  }

  /** PUBACK from the client. */
  acknowledge(session: Session, packetId: number): boolean {
    const out = session.inflight.get(packetId);
    if (out === undefined || out.qos !== 1) return false;
    this.complete(session, out);
    return true;
  }

  /** PUBREC from the client; returns the PUBREL reason code, or NO_RELEASE. */
  received(session: Session, packetId: number, reasonCode: number): number {
    const out = session.inflight.get(packetId);
    if (out === undefined || out.qos !== 2) return 0x92; // Packet Identifier not found
    if (reasonCode >= 0x80) {
      // The client refused the message: the flow ends here, no PUBREL [MQTT-4.3.3-?].
      this.complete(session, out);
      return NO_RELEASE;
    }
    if (out.state !== OutState.Released) {
      out.state = OutState.Released;
      if (session.persistent) this.store.putQueued(session.clientId, queuedRecord(out));
    }
    return 0;
  }

  /** PUBCOMP from the client. */
  completed(session: Session, packetId: number): boolean {
    const out = session.inflight.get(packetId);
    if (out === undefined || out.qos !== 2) return false;
    this.complete(session, out);
    return true;
  }

  /** After a (re)connect: resends the inflight window with DUP, then drains the queue. */
  resume(session: Session): void {
    const owner = session.owner;
    if (owner === null) return;
    for (const out of session.inflight.values()) {
      if (out.state === OutState.Released) owner.sendRelease(out.packetId);
      else if (!owner.sendMessage(out.msg, out.qos, out.retain, out.packetId, true, out.subIds)) {
        this.complete(session, out);
        this.metrics.oversizeDrops++;
      }
    }
    this.pump(session);
  }

  /** Sends queued deliveries while the window has room. */
  pump(session: Session): void {
    const window = this.window(session);
    while (session.owner !== null && session.inflight.size < window) {
      const out = session.queue.shift();
      if (out === undefined) return;
      session.queuedBytes -= out.msg.payload.length;
      if (out.msg.expiresAt !== 0 && out.msg.isExpired(this.clock.now)) {
        this.metrics.expiredDrops++;
        if (session.persistent) this.store.deleteQueued(session.clientId, out.seq);
        continue;
      }
      if (this.send(session, out)) {
        if (session.persistent) this.store.putQueued(session.clientId, queuedRecord(out));
      } else if (session.persistent) {
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
        session.inflight.delete(out.packetId);
        taken.push(out);
      }
    }
    session.queue.filter((out) => {
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
    const pid = session.allocatePacketId();
    out.packetId = pid;
    out.state = OutState.Sent;
    session.inflight.set(pid, out);
    if (owner.sendMessage(out.msg, out.qos, out.retain, pid, false, out.subIds)) {
      this.metrics.messagesSent++;
      return true;
    }
    session.inflight.delete(pid);
    this.metrics.oversizeDrops++;
    return false;
  }

  private complete(session: Session, out: Outgoing): void {
    session.inflight.delete(out.packetId);
    if (session.persistent) this.store.deleteQueued(session.clientId, out.seq);
    this.pump(session);
  }

  private dropOverflow(session: Session, msg: Message): void {
    session.droppedMessages++;
    this.metrics.queueOverflowDrops++;
    this.metrics.messagesDropped++;
    const now = this.clock.now;
    if (now - this.lastDropLog >= 1000) {
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
}

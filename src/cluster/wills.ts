/**
 * Wills of the cluster: the will a connection declared at CONNECT is kept in its client's record
 * (JetStream), so when its node dies a survivor publishes it (after its Will Delay Interval,
 * unless the client came back first), as the node itself would have when the connection dropped.
 */
import { Message, type MessageProperties, type QoS } from '../core/message.js';
import type { Will } from '../core/will.js';

/** A will as the client record keeps it (checked against the client's rights at CONNECT). */
export interface WillRecord {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: MessageProperties | null;
  /** Will Delay Interval, seconds */
  delay: number;
  /** Message Expiry Interval, seconds from publication; 0 = none */
  expiryInterval: number;
}

/** The record of a will. */
export function willRecord(will: Will): WillRecord {
  const m = will.message;
  return { topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, properties: m.properties, delay: will.delay, expiryInterval: will.expiryInterval };
}

/** The message a survivor publishes for a will record of client `clientId`, its expiry counted from now. */
export function willMessage(r: WillRecord, clientId: string, now: number): Message {
  return new Message(r.topic, Buffer.isBuffer(r.payload) ? r.payload : Buffer.alloc(0), r.qos, r.retain, r.properties, r.expiryInterval > 0 ? now + r.expiryInterval * 1000 : 0, clientId);
}

/** Delayed wills of dead nodes' clients, cancelled when the client connects again first. */
export class RemoteWills {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly publish: (msg: Message) => void) {}

  /** Publishes the will now, or after its delay (capped by the session's expiry, as on the node itself). */
  fire(clientId: string, r: WillRecord, sessionExpiry: number): void {
    const delay = Math.min(r.delay, sessionExpiry);
    if (delay <= 0) {
      this.publish(willMessage(r, clientId, Date.now()));
      return;
    }
    this.cancel(clientId);
    const timer = setTimeout(() => {
      this.timers.delete(clientId);
      this.publish(willMessage(r, clientId, Date.now()));
    }, delay * 1000);
    timer.unref();
    this.timers.set(clientId, timer);
  }

  /** The client connected again: its delayed will is not published [MQTT-3.1.3-9]. */
  cancel(clientId: string): void {
    const t = this.timers.get(clientId);
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(clientId);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

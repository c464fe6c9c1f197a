/**
 * Wills waiting out their Will Delay Interval. A reconnect with the same client id cancels the
 * will [MQTT-3.1.3-9]; the session ending publishes it at once.
 */
import type { Logger } from '../log/logger.js';
import type { Message } from './message.js';
import type { TimerWheel, WheelItem, WheelLink } from './timer-wheel.js';

/** A will as a protocol hands it to the core. */
export interface Will {
  message: Message;
  /** Will Delay Interval, seconds */
  delay: number;
  /** Message Expiry Interval in seconds, counted from publication; 0 = none */
  expiryInterval: number;
  /** Asked when a delayed will is due: false drops it (the client's right to its topic was revoked meanwhile). */
  stillAllowed?: () => boolean;
}

export class PendingWill implements WheelItem {
  readonly clientId: string;
  readonly message: Message;
  readonly expiryInterval: number;
  readonly stillAllowed: (() => boolean) | null;
  wheelPrev: WheelLink | null = null;
  wheelNext: WheelLink | null = null;
  wheelDeadline = 0;
  private readonly fire: (will: PendingWill) => void;

  constructor(clientId: string, will: Will, fire: (will: PendingWill) => void) {
    this.clientId = clientId;
    this.message = will.message;
    this.expiryInterval = will.expiryInterval;
    this.stillAllowed = will.stillAllowed ?? null;
    this.fire = fire;
  }

  onTimer(): number {
    this.fire(this);
    return 0;
  }
}

/** The delayed wills of disconnected sessions, by client id: scheduled, cancelled or published at once. */
export class PendingWills {
  private readonly pending = new Map<string, PendingWill>();
  private readonly fire = (will: PendingWill): void => this.publishPending(will);

  constructor(
    private readonly wheel: TimerWheel,
    private readonly log: Logger,
    private readonly publish: (msg: Message) => void,
  ) {}

  /** A connection of `clientId` ended with `will`: published now, or after its delay capped by the session's expiry. */
  add(clientId: string, will: Will, sessionExpiry: number): void {
    const delay = Math.min(will.delay, sessionExpiry);
    if (delay <= 0) this.publishMessage(will.message, will.expiryInterval);
    else {
      const pending = new PendingWill(clientId, will, this.fire);
      this.pending.set(clientId, pending);
      this.wheel.schedule(pending, this.wheel.now + delay * 1000);
    }
  }

  /** Drops the delayed will of `clientId` unpublished (a new connection cancels it). */
  cancel(clientId: string): void {
    const will = this.pending.get(clientId);
    if (will !== undefined) {
      this.wheel.cancel(will);
      this.pending.delete(clientId);
    }
  }

  /** Publishes the delayed will of `clientId` at once (its session ends). */
  publishNow(clientId: string): void {
    const will = this.pending.get(clientId);
    if (will !== undefined) {
      this.wheel.cancel(will);
      this.publishPending(will);
    }
  }

  private publishPending(will: PendingWill): void {
    if (this.pending.get(will.clientId) === will) this.pending.delete(will.clientId);
    if (will.stillAllowed !== null && !will.stillAllowed()) {
      this.log.info('will not published: the client may no longer publish there', { clientId: will.clientId, topic: will.message.topic, delayed: true });
      return;
    }
    this.publishMessage(will.message, will.expiryInterval);
  }

  /** A will's Message Expiry Interval counts from when it is published. */
  private publishMessage(msg: Message, expiryInterval: number): void {
    if (expiryInterval > 0) msg.expiresAt = Date.now() + expiryInterval * 1000;
    this.publish(msg);
  }
}

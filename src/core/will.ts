/**
 * Wills waiting out their Will Delay Interval. A reconnect with the same client id cancels the
 * will [MQTT-3.1.3-9]; the session ending publishes it at once.
 */
import type { Message } from './message.js';
import type { WheelItem } from './timer-wheel.js';

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
  wheelSlot = -1;
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

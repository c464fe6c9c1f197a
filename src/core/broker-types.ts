/** The shapes the Broker takes and returns: its limits, a connect's result and a publish's outcome. */
import type { Session } from './session.js';

export interface BrokerLimits {
  maxInflight: number;
  maxQueuedMessages: number;
  /** payload bytes queued per session; 0 = unlimited */
  maxQueuedBytes: number;
  maxSessionExpiry: number;
  maxRetainedMessages: number;
  /** topic + payload bytes of all retained messages; 0 or absent = unlimited */
  maxRetainedBytes?: number;
}

export interface ConnectResult {
  session: Session;
  sessionPresent: boolean;
}

/** What one publish did, reused between calls (read it before the next publish). */
export interface PublishOutcome {
  /** deliveries made (0 = no matching subscribers) */
  matched: number;
  /** the store was written: acknowledge the publisher only after the commit */
  stored: boolean;
}

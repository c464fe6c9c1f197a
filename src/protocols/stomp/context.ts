/** What every STOMP connection of a server shares: the core, limits, security, logs, redelivery. */
import type { Broker } from '../../core/broker.js';
import type { Security } from '../../core/auth.js';
import type { ClientEvents } from '../../core/events.js';
import type { Logger, LogRateLimit } from '../../log/logger.js';
import type { RedeliveryPool } from './redelivery.js';

export interface StompLimits {
  maxHeaders: number;
  maxHeaderLength: number;
  maxBody: number;
  maxSubscriptions: number;
  maxTransactions: number;
  maxTransactionFrames: number;
  /** body bytes all open transactions of a connection may hold */
  maxTransactionBytes: number;
  /** ms we offer to send beats at (heart-beat sx); 0 = never */
  heartbeatOut: number;
  /** ms we ask the client to beat at (heart-beat sy); 0 = never */
  heartbeatIn: number;
  /** seconds a new connection has to send CONNECT */
  connectTimeout: number;
}

export interface StompContext {
  readonly broker: Broker;
  readonly limits: StompLimits;
  /** --stomp-mount: prefix of every destination's topic */
  readonly mount: string;
  readonly security: Security;
  readonly events: ClientEvents;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
  /** Unacknowledged messages of dropped connections, waiting for the next subscriber. */
  readonly redelivery: RedeliveryPool;
  /** Connections open over STOMP (every transport). */
  connections: number;
}

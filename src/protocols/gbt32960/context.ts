/** What every GB/T 32960 connection of a server shares: the core, security, limits, the AES key. */
import type { Broker } from '../../core/broker.js';
import type { Security } from '../../core/auth.js';
import type { ClientEvents } from '../../core/events.js';
import type { Logger, LogRateLimit } from '../../log/logger.js';
import type { AesKey } from './codec/crypto.js';

export interface Gbt32960Limits {
  maxFrameSize: number;
  loginTimeoutMs: number;
  /** 0 = never */
  idleTimeoutMs: number;
  retryIntervalMs: number;
  maxRetries: number;
  maxQueuedCommands: number;
  /** publish real-time numbers with units and offsets applied */
  scaled: boolean;
  utcOffsetMinutes: number;
}

export interface Gbt32960Context {
  readonly broker: Broker;
  readonly security: Security;
  readonly events: ClientEvents;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
  readonly limits: Gbt32960Limits;
  /** null when no --gbt32960-aes-key-file was given */
  readonly aes: AesKey | null;
  readonly maxConnections: number;
  /** open connections of every GB/T 32960 listener */
  connections: number;
}

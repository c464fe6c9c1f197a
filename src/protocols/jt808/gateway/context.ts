/** What every JT/T 808 connection of a server shares: the core, settings, and the registrar. */
import type { Broker } from '../../../core/broker.js';
import type { ClientEvents } from '../../../core/events.js';
import type { Logger, LogRateLimit } from '../../../log/logger.js';
import type { Registrar } from './registration.js';

/** Deadlines (ms) and limits from the --jt808-* flags. */
export interface Jt808Settings {
  heartbeatTimeoutMs: number;
  authTimeoutMs: number;
  retryIntervalMs: number;
  retryCount: number;
  maxInflight: number;
  maxQueued: number;
  maxFrameSize: number;
  maxSplitParts: number;
  splitTimeoutMs: number;
  maxViolations: number;
}

export interface Jt808Context {
  readonly broker: Broker;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
  readonly events: ClientEvents;
  readonly settings: Jt808Settings;
  readonly registrar: Registrar;
  /** `$SYS/brokers/{node}/jt808/` — dropped-command events go below it. */
  readonly sysPrefix: string;
  /** Open connections (for logs and metrics). */
  connections: number;
}

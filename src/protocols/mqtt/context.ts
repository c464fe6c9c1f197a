/** What every MQTT connection of a broker shares: the core, limits, security and logs. */
import type { Broker } from '../../core/broker.js';
import type { Security } from '../../core/auth.js';
import type { ClientEvents } from '../../core/events.js';
import type { ScanFrames } from '../../native/scanner.js';
import type { Logger, LogRateLimit } from '../../log/logger.js';

export interface MqttLimits {
  maxPacketSize: number;
  /** Receive Maximum we announce: inbound QoS 1/2 unacknowledged at once */
  receiveMaximum: number;
  topicAliasMaximum: number;
  maxKeepalive: number;
  /** seconds */
  connectTimeout: number;
  maxTopicLevels: number;
  /** write-buffer bytes above which QoS 0 deliveries to a slow client are dropped */
  maxSocketBuffer: number;
}

export interface MqttContext {
  readonly broker: Broker;
  readonly limits: MqttLimits;
  readonly security: Security;
  readonly events: ClientEvents;
  /** The frame scanner (native or the TypeScript twin; identical results). */
  readonly scan: ScanFrames;
  readonly log: Logger;
  /** Caps per-address log lines for protocol errors and refusals. */
  readonly logLimit: LogRateLimit;
  /** Connections currently open over MQTT. */
  connections: number;
}

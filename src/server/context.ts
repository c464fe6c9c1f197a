/**
 * What every protocol front end gets when the server starts: the core, the options, security,
 * events, the WebSocket route table and TLS. Gateways (STOMP, JT/T 808, GB/T 32960) are
 * clients of the same core as MQTT, through the same seam.
 */
import type { Broker } from '../core/broker.js';
import type { Security } from '../core/auth.js';
import type { ClientEvents } from '../core/events.js';
import type { StartOptions } from './options.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { WsRoutes } from '../transports/ws-routes.js';
import type { TlsProvider } from '../transports/tls.js';
import type { AcceptPacing } from '../transports/accept-gate.js';
import type { ScanFrames } from '../native/scanner.js';

/** One open listening socket, printed at start and closed at shutdown. */
export interface Listener {
  readonly protocol: string;
  readonly transport: 'tcp' | 'tls' | 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  close(): void;
}

export interface ServerContext {
  readonly broker: Broker;
  readonly options: StartOptions;
  readonly log: Logger;
  /** Shared limiter for log lines a hostile peer could trigger in a loop. */
  readonly logLimit: LogRateLimit;
  readonly security: Security;
  readonly events: ClientEvents;
  /** Register WebSocket paths here before the WebSocket listeners start. */
  readonly wsRoutes: WsRoutes;
  /** Certificates for TLS listeners; null when no --tls-cert/--tls-key were given. */
  readonly tls: TlsProvider | null;
  /** MQTT frame scanner: native (adaptive) when the addon loaded, else the TypeScript twin. */
  readonly scan: ScanFrames;
  /** Backlog and accept pacing of every node:net/node:tls listener (--listen-backlog, --max-accept-rate). */
  readonly pacing: AcceptPacing;
}

/** A protocol front end that opens its own listeners (and may register WebSocket routes). */
export interface Gateway {
  readonly name: string;
  start(ctx: ServerContext): Promise<Listener[]>;
  /** Called at shutdown before the broker stops (say goodbye to clients, flush). */
  stop?(): Promise<void>;
}

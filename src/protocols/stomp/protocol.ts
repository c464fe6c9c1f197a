/**
 * The STOMP protocol: TCP on --stomp-port, TLS on --stomps-port, and the /stomp WebSocket route
 * (subprotocols v12.stomp, v11.stomp, v10.stomp) served by the WebSocket listeners. All share
 * one configuration and one redelivery pool.
 */
import type { Protocol } from '../../gateway/protocol.js';
import type { Logger, LogRateLimit } from '../../log/logger.js';
import { StompConnection } from './connection.js';
import type { StompOptions } from './flags.js';
import { RedeliveryPool } from './redelivery.js';

/** WebSocket subprotocols of STOMP, preferred first. */
const STOMP_SUBPROTOCOLS: readonly string[] = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

export interface StompLimits {
  readonly maxHeaders: number;
  readonly maxHeaderLength: number;
  readonly maxBody: number;
  readonly maxSubscriptions: number;
  readonly maxTransactions: number;
  readonly maxTransactionFrames: number;
  /** body bytes all open transactions of a connection may hold */
  readonly maxTransactionBytes: number;
  /** ms we offer to send beats at (heart-beat sx); 0 = never */
  readonly heartbeatOut: number;
  /** ms we ask the client to beat at (heart-beat sy); 0 = never */
  readonly heartbeatIn: number;
  /** ms a new connection has to send CONNECT */
  readonly connectTimeoutMs: number;
}

/** What every STOMP connection of a server shares. */
export interface StompConfig {
  readonly limits: StompLimits;
  /** --stomp-mount: prefix of every destination's topic */
  readonly mount: string;
  /** Unacknowledged messages of dropped connections, waiting for the next subscriber. */
  readonly redelivery: RedeliveryPool;
}

/** The configuration of the STOMP connections, from the flags (and --connect-timeout in ms). */
export function stompConfig(o: StompOptions, connectTimeoutMs: number, log: Logger, logLimit: LogRateLimit): StompConfig {
  return {
    limits: {
      maxHeaders: o.stompMaxHeaders,
      maxHeaderLength: o.stompMaxHeaderLength,
      maxBody: o.stompMaxBody,
      maxSubscriptions: o.stompMaxSubscriptions,
      maxTransactions: o.stompMaxTransactions,
      maxTransactionFrames: o.stompMaxTransactionFrames,
      maxTransactionBytes: o.stompMaxTransactionBytes,
      heartbeatOut: o.stompHeartbeatOut,
      heartbeatIn: o.stompHeartbeatIn,
      connectTimeoutMs,
    },
    mount: o.stompMount,
    redelivery: new RedeliveryPool(o.stompRedeliveryLimit, o.stompRedeliveryTtl * 1000, log, logLimit),
  };
}

export const stompProtocol: Protocol<StompOptions> = {
  name: 'stomp',
  async start(kit, o) {
    const config = stompConfig(o, kit.connectTimeoutMs, kit.log, kit.logLimit);
    const accept = kit.acceptor('stomp', (link) => new StompConnection(link, kit, config));
    kit.addWebSocketRoute('/stomp', STOMP_SUBPROTOCOLS, accept);
    return kit.listenAll(
      [
        { protocol: 'stomp', transport: 'tcp', flag: '--stomp-port', port: o.stompPort },
        { protocol: 'stomp', transport: 'tls', flag: '--stomps-port', port: o.stompsPort },
      ],
      accept,
    );
  },
};

/**
 * STOMP's front end: TCP on --stomp-port, TLS on --stomps-port (refused without certificates),
 * and the /stomp WebSocket route (subprotocols v12.stomp, v11.stomp, v10.stomp) served by the
 * WebSocket listeners. All three share one StompContext and one redelivery pool.
 */
import type { Gateway, Listener, ServerContext } from '../../server/context.js';
import { PORT_OFF } from '../../config/flags.js';
import { ConfigError } from '../../errors.js';
import type { LinkAcceptor } from '../../transports/link.js';
import { listenTcp } from '../../transports/tcp.js';
import { listenTls } from '../../transports/tls.js';
import { netListener } from '../mqtt/gateway.js';
import type { StompContext } from './context.js';
import { StompConnection } from './connection.js';
import { RedeliveryPool } from './redelivery.js';

/** WebSocket subprotocols of STOMP, preferred first. */
export const STOMP_SUBPROTOCOLS: readonly string[] = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

/** The StompContext shared by every STOMP listener of a server. */
export function stompContext(ctx: ServerContext): StompContext {
  const o = ctx.options;
  return {
    broker: ctx.broker,
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
      connectTimeout: o.connectTimeout,
    },
    mount: o.stompMount,
    security: ctx.security,
    events: ctx.events,
    log: ctx.log,
    logLimit: ctx.logLimit,
    redelivery: new RedeliveryPool(o.stompRedeliveryLimit, o.stompRedeliveryTtl * 1000, ctx.log, ctx.logLimit),
    connections: 0,
  };
}

/** The acceptor every transport calls for a new STOMP link, within --max-connections. */
export function stompAcceptor(stomp: StompContext, maxConnections: number): LinkAcceptor {
  return (link) => {
    if (stomp.connections >= maxConnections) {
      stomp.broker.metrics.connectionsRefused++;
      if (stomp.logLimit.allow('max-connections')) {
        stomp.log.warn('STOMP connection refused: --max-connections reached', { limit: maxConnections, address: link.remoteAddress });
      }
      return null;
    }
    stomp.connections++;
    return new StompConnection(link, stomp);
  };
}

async function bind<T>(flag: string, port: number, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    throw new Error(`${flag} ${port}: cannot listen (${(err as Error).message})`);
  }
}

export const stompGateway: Gateway = {
  name: 'stomp',
  async start(ctx: ServerContext): Promise<Listener[]> {
    const o = ctx.options;
    if (o.stompsPort !== PORT_OFF && ctx.tls === null) {
      throw new ConfigError(`--stomps-port ${o.stompsPort} needs TLS certificates: give --tls-cert and --tls-key`);
    }
    const stomp = stompContext(ctx);
    const accept = stompAcceptor(stomp, o.maxConnections);
    ctx.wsRoutes.add({ path: '/stomp', subprotocols: STOMP_SUBPROTOCOLS, accept });
    const listeners: Listener[] = [];
    const net = { host: o.host, maxConnections: o.maxConnections, pacing: ctx.pacing };
    try {
      if (o.stompPort !== PORT_OFF) {
        const server = await bind('--stomp-port', o.stompPort, () => listenTcp({ ...net, port: o.stompPort }, accept));
        listeners.push(netListener('stomp', 'tcp', o.host, server));
      }
      if (o.stompsPort !== PORT_OFF && ctx.tls !== null) {
        const tls = ctx.tls;
        const server = await bind('--stomps-port', o.stompsPort, () => listenTls({ ...net, port: o.stompsPort }, tls, accept));
        listeners.push(netListener('stomp', 'tls', o.host, server));
      }
    } catch (err) {
      for (const l of listeners) l.close();
      throw err;
    }
    return listeners;
  },
};

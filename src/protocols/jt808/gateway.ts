/**
 * The JT/T 808 front end: a TCP listener on --jt808-port (standard 6207) and a TLS one on
 * --jt808-tls-port, each opening only when its flag is given. Terminals become MQTT clients
 * named by their phone number; see gateway/uplink.ts for the MQTT contract.
 */
import type { Gateway, Listener, ServerContext } from '../../server/context.js';
import { PORT_OFF } from '../../config/flags.js';
import type { StartOptions } from '../../server/options.js';
import { ConfigError } from '../../errors.js';
import { listenTcp, type BoundServer } from '../../transports/tcp.js';
import { listenTls } from '../../transports/tls.js';
import type { LinkAcceptor } from '../../transports/link.js';
import type { Logger } from '../../log/logger.js';
import { netListener } from '../mqtt/gateway.js';
import type { Jt808Context, Jt808Settings } from './gateway/context.js';
import { Jt808Connection } from './gateway/connection.js';
import { AnonymousRegistrar, ClosedRegistrar, HttpRegistrar, type Registrar } from './gateway/registration.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The --jt808-* deadlines (in ms) and limits. */
export function jt808Settings(o: StartOptions): Jt808Settings {
  return {
    heartbeatTimeoutMs: o.jt808HeartbeatTimeout * 1000,
    authTimeoutMs: o.jt808AuthTimeout * 1000,
    retryIntervalMs: o.jt808RetryInterval * 1000,
    retryCount: o.jt808RetryCount,
    maxInflight: o.jt808MaxInflight,
    maxQueued: o.jt808MaxQueued,
    maxFrameSize: o.jt808MaxFrameSize,
    maxSplitParts: o.jt808MaxSplitParts,
    splitTimeoutMs: o.jt808SplitTimeout * 1000,
    maxViolations: o.jt808MaxViolations,
  };
}

/** Anonymous without endpoints (when MQTT would allow anonymous clients), else the HTTP endpoints. */
export function jt808Registrar(o: StartOptions, log: Logger): Registrar {
  if (o.jt808RegistryUrl !== undefined || o.jt808AuthUrl !== undefined) {
    for (const [flag, url] of [['--jt808-registry-url', o.jt808RegistryUrl], ['--jt808-auth-url', o.jt808AuthUrl]] as const) {
      if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError(`${flag} must be an http:// or https:// URL`);
    }
    return new HttpRegistrar({ registryUrl: o.jt808RegistryUrl, authUrl: o.jt808AuthUrl, timeoutMs: o.jt808HttpTimeout * 1000, retries: o.jt808HttpRetries, retryDelayMs: 1000 }, log);
  }
  if (o.allowAnonymous || LOOPBACK.has(o.host)) return new AnonymousRegistrar();
  log.warn('JT/T 808 terminals will all be refused: give --jt808-registry-url/--jt808-auth-url, or --allow-anonymous');
  return new ClosedRegistrar();
}

function acceptor(ctx: Jt808Context, maxConnections: number): LinkAcceptor {
  return (link) => {
    if (ctx.connections >= maxConnections) return null;
    ctx.connections++;
    return new Jt808Connection(link, ctx);
  };
}

async function bind(flag: string, port: number, open: () => Promise<BoundServer>): Promise<BoundServer> {
  try {
    return await open();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : err instanceof Error ? err.message : String(err);
    throw new ConfigError(`${flag} ${port}: cannot listen (${why})`);
  }
}

export const jt808Gateway: Gateway = {
  name: 'jt808',
  async start(ctx: ServerContext): Promise<Listener[]> {
    const o = ctx.options;
    if (o.jt808Port === PORT_OFF && o.jt808TlsPort === PORT_OFF) return [];
    if (o.jt808TlsPort !== PORT_OFF && ctx.tls === null) throw new ConfigError('--jt808-tls-port needs --tls-cert and --tls-key (PEM files of the server certificate and its private key)');
    const jt: Jt808Context = {
      broker: ctx.broker,
      log: ctx.log,
      logLimit: ctx.logLimit,
      events: ctx.events,
      settings: jt808Settings(o),
      registrar: jt808Registrar(o, ctx.log),
      sysPrefix: `$SYS/brokers/${o.nodeName}/jt808/`,
      connections: 0,
    };
    const accept = acceptor(jt, o.maxConnections);
    const listeners: Listener[] = [];
    try {
      if (o.jt808Port !== PORT_OFF) {
        const server = await bind('--jt808-port', o.jt808Port, () => listenTcp({ host: o.host, port: o.jt808Port, maxConnections: o.maxConnections, pacing: ctx.pacing }, accept));
        listeners.push(netListener('jt808', 'tcp', o.host, server));
      }
      if (o.jt808TlsPort !== PORT_OFF && ctx.tls !== null) {
        const tls = ctx.tls;
        const server = await bind('--jt808-tls-port', o.jt808TlsPort, () => listenTls({ host: o.host, port: o.jt808TlsPort, maxConnections: o.maxConnections, pacing: ctx.pacing }, tls, accept));
        listeners.push(netListener('jt808', 'tls', o.host, server));
      }
    } catch (err) {
      for (const l of listeners) l.close();
      throw err;
    }
    ctx.log.info('JT/T 808 gateway ready', { registration: jt.registrar.mode });
    return listeners;
  },
};

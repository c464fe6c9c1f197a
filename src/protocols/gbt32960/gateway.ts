/**
 * The GB/T 32960 front end: TCP on --gbt32960-port and TLS on --gbt32960-tls-port (standard
 * port 7325), each vehicle a client of the same core as MQTT.
 */
import { readFileSync } from 'node:fs';
import type { Gateway, Listener, ServerContext } from '../../server/context.js';
import type { LinkAcceptor } from '../../transports/link.js';
import { listenTcp, type BoundServer } from '../../transports/tcp.js';
import { listenTls } from '../../transports/tls.js';
import { PORT_OFF } from '../../config/flags.js';
import { ConfigError } from '../../errors.js';
import { netListener } from '../mqtt/gateway.js';
import { parseAesKeyFile, type AesKey } from './codec/crypto.js';
import { VehicleConnection } from './connection.js';
import type { Gbt32960Context } from './context.js';

/** The context every GB/T 32960 connection of a server shares. */
export function gbt32960Context(ctx: ServerContext): Gbt32960Context {
  const o = ctx.options;
  return {
    broker: ctx.broker,
    security: ctx.security,
    events: ctx.events,
    log: ctx.log,
    logLimit: ctx.logLimit,
    limits: {
      maxFrameSize: o.gbt32960MaxFrameSize,
      loginTimeoutMs: o.gbt32960LoginTimeout * 1000,
      idleTimeoutMs: o.gbt32960IdleTimeout * 1000,
      retryIntervalMs: o.gbt32960RetryInterval * 1000,
      maxRetries: o.gbt32960MaxRetries,
      maxQueuedCommands: o.gbt32960MaxQueuedCommands,
      scaled: o.gbt32960Values === 'scaled',
      utcOffsetMinutes: o.gbt32960UtcOffset,
    },
    aes: readAesKey(o.gbt32960AesKeyFile, o.gbt32960AesMode),
    maxConnections: o.maxConnections,
    connections: 0,
  };
}

function readAesKey(path: string | undefined, mode: 'ecb' | 'cbc'): AesKey | null {
  if (path === undefined) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--gbt32960-aes-key-file: cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseAesKeyFile(text, mode);
  } catch (err) {
    throw new ConfigError(`--gbt32960-aes-key-file ${path}: ${(err as Error).message}`);
  }
}

/** The acceptor a transport calls for every new vehicle link, within --max-connections. */
export function gbt32960Acceptor(ctx: Gbt32960Context): LinkAcceptor {
  return (link) => {
    if (ctx.connections >= ctx.maxConnections) {
      ctx.broker.metrics.connectionsRefused++;
      if (ctx.logLimit.allow('max-connections')) ctx.log.warn('connection refused: --max-connections reached', { protocol: 'gbt32960', address: link.remoteAddress });
      return null;
    }
    ctx.connections++;
    return new VehicleConnection(link, ctx);
  };
}

/** Binds a listener, turning "address in use" and friends into a message naming the flag. */
async function bind(flag: string, port: number, listen: () => Promise<BoundServer>): Promise<BoundServer> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new ConfigError(`--${flag} ${port}: cannot listen (${code || (err as Error).message})`);
  }
}

export const gbt32960Gateway: Gateway = {
  name: 'gbt32960',
  async start(ctx: ServerContext): Promise<Listener[]> {
    const o = ctx.options;
    if (o.gbt32960Port === PORT_OFF && o.gbt32960TlsPort === PORT_OFF) return [];
    if (o.gbt32960TlsPort !== PORT_OFF && ctx.tls === null) {
      throw new ConfigError('--gbt32960-tls-port needs --tls-cert and --tls-key (PEM files of the server certificate and its private key)');
    }
    const gbt = gbt32960Context(ctx);
    const accept = gbt32960Acceptor(gbt);
    const listeners: Listener[] = [];
    try {
      if (o.gbt32960Port !== PORT_OFF) {
        const server = await bind('gbt32960-port', o.gbt32960Port, () => listenTcp({ host: o.host, port: o.gbt32960Port, maxConnections: o.maxConnections, pacing: ctx.pacing }, accept));
        listeners.push(netListener('gbt32960', 'tcp', o.host, server));
      }
      if (o.gbt32960TlsPort !== PORT_OFF && ctx.tls !== null) {
        const tls = ctx.tls;
        const server = await bind('gbt32960-tls-port', o.gbt32960TlsPort, () => listenTls({ host: o.host, port: o.gbt32960TlsPort, maxConnections: o.maxConnections, pacing: ctx.pacing }, tls, accept));
        listeners.push(netListener('gbt32960', 'tls', o.host, server));
      }
    } catch (err) {
      for (const l of listeners) l.close();
      throw err;
    }
    return listeners;
  },
};

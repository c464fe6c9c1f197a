/**
 * Opens the WebSocket listeners (ws and wss) serving every route the protocols registered.
 * uWebSockets.js is loaded only when one of them is configured, and must be the native build.
 * TLS of wss ends in node:tls (transports/ws-front.ts), so it shares the certificates, their
 * SIGHUP reload and --tls-require-client-cert with --mqtts-port; plain ws goes through a node:net
 * front too unless --ws-check-masks is false.
 */
import { PORT_OFF } from '../config/flags.js';
import { ConfigError } from '../errors.js';
import { loadNativeUws } from '../transports/uws-loader.js';
import { WsListener, parseAllowedOrigins, type WsListenOptions, type WsFrontedOptions } from '../transports/ws.js';
import type { Listener } from '../transports/listen.js';
import type { TlsProvider } from '../transports/tls.js';
import type { WsRoutes } from '../transports/ws-routes.js';
import type { TimerWheel } from '../core/timer-wheel.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { StartOptions } from './options.js';

/** What the WebSocket listeners need from the server. */
export interface WebSocketSetup {
  readonly options: StartOptions;
  readonly tls: TlsProvider | null;
  readonly wsRoutes: WsRoutes;
  readonly wheel: TimerWheel;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
}

/** uWebSockets.js terminates the process on an idle timeout between 1 and 7 s. */
const MIN_IDLE_TIMEOUT = 8;

/** Starts the ws/wss listeners whose port flags are given; throws ConfigError naming the flag when one cannot start. */
export async function startWebSocketListeners(ctx: WebSocketSetup): Promise<Listener[]> {
  const o = ctx.options;
  const wantWs = o.wsPort !== PORT_OFF;
  const wantWss = o.wssPort !== PORT_OFF;
  if (!wantWs && !wantWss) return [];
  if (o.wsIdleTimeout !== 0 && o.wsIdleTimeout < MIN_IDLE_TIMEOUT) {
    throw new ConfigError(`--ws-idle-timeout must be 0 (never) or between ${MIN_IDLE_TIMEOUT} and 960 seconds (got ${o.wsIdleTimeout})`);
  }
  const tls = ctx.tls;
  if (wantWss && tls === null) throw new ConfigError('--wss-port needs --tls-cert and --tls-key');
  const routes = ctx.wsRoutes.list();
  const { uws, binary } = loadNativeUws();
  ctx.log.info('WebSocket transport: native uWebSockets.js', { binary, paths: routes.map((r) => r.path) });

  const base = {
    host: o.host,
    routes,
    idleTimeout: o.wsIdleTimeout,
    maxBackpressure: o.wsMaxBackpressure,
    // A message may carry a whole packet of the largest size allowed; never below uWS's own 16 KiB default.
    maxPayloadLength: Math.max(o.maxPacketSize, 65_536),
    allowedOrigins: parseAllowedOrigins(o.wsAllowedOrigins),
    log: ctx.log,
    logLimit: ctx.logLimit,
  };
  const listeners: Listener[] = [];
  const describe = (transport: 'ws' | 'wss', listener: WsListener): Listener => ({
    protocol: 'websocket',
    transport,
    host: o.host,
    port: listener.port,
    close: () => listener.close(),
  });
  try {
    const front = { connectTimeout: o.connectTimeout, maxConnections: o.maxConnections, wheel: ctx.wheel };
    if (wantWs) {
      const options: WsListenOptions = { ...base, transport: 'ws', port: o.wsPort, flag: '--ws-port' };
      listeners.push(describe('ws', o.wsCheckMasks ? await WsListener.openFronted(uws, { ...options, ...front, tls: null }) : WsListener.open(uws, options)));
    }
    if (wantWss && tls !== null) {
      const options: WsFrontedOptions = { ...base, ...front, transport: 'wss', port: o.wssPort, flag: '--wss-port', tls };
      listeners.push(describe('wss', await WsListener.openFronted(uws, options)));
    }
  } catch (err) {
    for (const l of listeners) l.close();
    throw err;
  }
  return listeners;
}

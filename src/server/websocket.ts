/**
 * Opens the WebSocket listeners (ws and wss) serving every route registered in ctx.wsRoutes.
 * uWebSockets.js is loaded only when one of them is configured, and must be the native build.
 */
import { PORT_OFF } from '../cli/options.js';
import { ConfigError } from '../errors.js';
import { loadNativeUws } from '../transports/uws-loader.js';
import { WsListener, type WsListenOptions } from '../transports/ws.js';
import type { Listener, ServerContext } from './context.js';

/** uWebSockets.js terminates the process on an idle timeout between 1 and 7 s. */
const MIN_IDLE_TIMEOUT = 8;

/** Starts the ws/wss listeners whose port flags are given; throws ConfigError naming the flag when one cannot start. */
export async function startWebSocketListeners(ctx: ServerContext): Promise<Listener[]> {
  const o = ctx.options;
  const wantWs = o.wsPort !== PORT_OFF;
  const wantWss = o.wssPort !== PORT_OFF;
  if (!wantWs && !wantWss) return [];
  if (o.wsIdleTimeout !== 0 && o.wsIdleTimeout < MIN_IDLE_TIMEOUT) {
    throw new ConfigError(`--ws-idle-timeout must be 0 (never) or between ${MIN_IDLE_TIMEOUT} and 960 seconds (got ${o.wsIdleTimeout})`);
  }
  const tls = ctx.tls;
  if (wantWss && tls === null) throw new ConfigError('--wss-port needs --tls-cert and --tls-key');
  if (wantWss && tls !== null && tls.requireClientCert) {
    // uWS 20.30 verifies a presented client certificate against ca_file_name but lets a client
    // without one in, and cannot tell us who the client is: the flag's promise cannot be kept.
    throw new ConfigError(
      '--tls-require-client-cert cannot be enforced on --wss-port: uWebSockets.js 20.30 accepts secure WebSocket clients without a certificate ' +
        'and does not report the certificate identity; serve certificate-authenticated devices on --mqtts-port, or drop one of the two flags',
    );
  }
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
    if (wantWs) {
      const options: WsListenOptions = { ...base, transport: 'ws', port: o.wsPort, flag: '--ws-port' };
      listeners.push(describe('ws', WsListener.open(uws, options)));
    }
    if (wantWss && tls !== null) {
      const files = tls.paths;
      // Without --tls-require-client-cert the CA only verifies certificates clients choose to present.
      const tlsFiles = { cert: files.cert, key: files.key, ...(files.ca !== undefined ? { ca: files.ca } : {}) };
      const options: WsListenOptions = { ...base, transport: 'wss', port: o.wssPort, flag: '--wss-port', tls: tlsFiles };
      const listener = WsListener.open(uws, options);
      tls.onReload(() => {
        ctx.log.warn('secure WebSocket keeps the certificates it started with until restart: uWebSockets.js 20.30 cannot replace them without dropping connections', { port: listener.port });
      });
      listeners.push(describe('wss', listener));
    }
  } catch (err) {
    for (const l of listeners) l.close();
    throw err;
  }
  return listeners;
}

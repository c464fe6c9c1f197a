/**
 * WebSocket and secure WebSocket listeners on uWebSockets.js: one App (ws) or SSLApp (wss)
 * serving every registered route, with Sec-WebSocket-Protocol negotiated per route.
 *
 * Certificate reload (wss) is not possible with uWebSockets.js 20.30 without dropping
 * connections: an SSLApp reads its files once, when built, and has no call to replace its
 * default context. Binding a rebuilt SSLApp to the same port fails while any accepted
 * connection is open (uSockets binds without SO_REUSEADDR), and addServerName contexts serve
 * only clients that send that SNI name and need a router per domain. So wss keeps the
 * certificates it started with and says so in the log on SIGHUP (src/server/websocket.ts).
 */
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocketBehavior, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';
import { ConfigError } from '../errors.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { WsRoute } from './ws-routes.js';
import type { Uws } from './uws-loader.js';
import { WsLink, type WsLinkLimits, type WsUserData } from './ws-link.js';

export interface WsListenOptions {
  readonly transport: 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  /** The port flag, named in errors (--ws-port). */
  readonly flag: string;
  readonly routes: readonly WsRoute[];
  /** Seconds; 0 or 8..960. */
  readonly idleTimeout: number;
  readonly maxBackpressure: number;
  /** Largest WebSocket message (uWS closes the connection with 1009 past it). */
  readonly maxPayloadLength: number;
  /** wss only: the PEM files; `ca` makes uWS verify a client certificate when one is presented. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
}

type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => void;

/** A bound WebSocket listener. */
export class WsListener {
  private boundPort: number;
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | false = false;
  private readonly limits: WsLinkLimits;

  private constructor(private readonly uws: Uws, private readonly options: WsListenOptions, port: number) {
    this.boundPort = port;
    this.limits = { pausedLimit: options.maxPayloadLength };
    this.app = this.build();
  }

  /** Builds the app and binds it; throws ConfigError naming the flag when the port cannot be bound. */
  static open(uws: Uws, options: WsListenOptions): WsListener {
    let listener: WsListener;
    try {
      listener = new WsListener(uws, options, options.port);
    } catch (err) {
      throw new ConfigError(`${options.flag}: cannot set up the ${options.transport} listener: ${(err as Error).message ?? String(err)}`);
    }
    const socket = listener.bind(options.port);
    if (socket === false) {
      throw new ConfigError(`${options.flag}: cannot listen on ${options.host}:${options.port} (address in use or not available)`);
    }
    // Port 0 asks for any free port: learn which.
    listener.boundPort = listener.uws.us_socket_local_port(socket as never);
    return listener;
  }

  /** The port bound (the one chosen when 0 was asked for). */
  get port(): number {
    return this.boundPort;
  }

  /** Stops accepting; open connections are ended by their protocols. */
  close(): void {
    const socket = this.listenSocket;
    this.listenSocket = false;
    if (socket !== false) this.uws.us_listen_socket_close(socket);
  }

  private bind(port: number): us_listen_socket | false {
    let bound: us_listen_socket | false = false;
    // uSockets may set SO_REUSEPORT unless told otherwise, which would let a second broker share the port silently.
    const exclusive = (this.uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
    (this.app.listen as unknown as ListenWithOptions).call(this.app, this.options.host, port, exclusive, (socket) => {
      bound = socket;
    });
    this.listenSocket = bound;
    return bound;
  }

  private build(): TemplatedApp {
    const o = this.options;
    const app = o.tls === undefined
      ? this.uws.App()
      : this.uws.SSLApp({
          cert_file_name: o.tls.cert,
          key_file_name: o.tls.key,
          ...(o.tls.ca !== undefined ? { ca_file_name: o.tls.ca } : {}),
          // Frees each idle connection's TLS buffers (tens of KB) until it has traffic again.
          ssl_prefer_low_memory_usage: true,
        });
    for (const route of o.routes) app.ws<WsUserData>(route.path, this.behavior(route));
    const paths = o.routes.map((r) => r.path).join(', ');
    app.any('/*', (res: HttpResponse, req: HttpRequest) => {
      const upgrade = req.getHeader('upgrade') !== '';
      const status = upgrade ? '404 Not Found' : '426 Upgrade Required';
      refuse(res, status, `${upgrade ? `no WebSocket endpoint at ${clip(req.getUrl())}` : 'this port speaks WebSocket only'}; paths: ${paths}\n`);
    });
    return app;
  }

  private behavior(route: WsRoute): WebSocketBehavior<WsUserData> {
    const o = this.options;
    const limits = this.limits;
    return {
      compression: this.uws.DISABLED,
      maxPayloadLength: o.maxPayloadLength,
      idleTimeout: o.idleTimeout,
      maxBackpressure: o.maxBackpressure,
      sendPingsAutomatically: true,
      upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
        const offered = req.getHeader('sec-websocket-protocol');
        const chosen = chooseSubprotocol(offered, route.subprotocols);
        const address = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
        if (chosen === null) {
          const text = `${route.path} needs the WebSocket subprotocol ${route.subprotocols.join(' or ')}; the client offered ${offered === '' ? 'none' : `"${clip(offered)}"`}\n`;
          if (o.logLimit.allow('ws-subprotocol')) o.log.info('WebSocket upgrade refused: no matching subprotocol', { path: route.path, offered: clip(offered), address });
          refuse(res, '400 Bad Request', text);
          return;
        }
        const link = new WsLink(o.transport, address, limits);
        res.upgrade<WsUserData>({ link }, req.getHeader('sec-websocket-key'), chosen, req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        ws.getUserData().link.opened(ws, route.accept);
      },
      message: (ws, message) => ws.getUserData().link.received(message),
      drain: (ws) => ws.getUserData().link.drained(),
      close: (ws, code) => ws.getUserData().link.closed(code),
    };
  }
}

/** The first subprotocol the client offered that the route accepts, or null. */
export function chooseSubprotocol(offered: string, accepted: readonly string[]): string | null {
  if (offered === '') return null;
  for (const raw of offered.split(',')) {
    const name = raw.trim();
    if (accepted.includes(name)) return name;
  }
  return null;
}

function refuse(res: HttpResponse, status: string, text: string): void {
  res.writeStatus(status).writeHeader('Content-Type', 'text/plain; charset=utf-8').end(text, true);
}

/** Client-supplied text as it may appear in a reply or log line: printable and short. */
function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 120 ? `${printable.slice(0, 120)}...` : printable;
}

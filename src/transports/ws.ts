/**
 * WebSocket and secure WebSocket listeners on uWebSockets.js: one plain App per listener
 * serving every registered route, with Sec-WebSocket-Protocol negotiated per route.
 *
 * Secure WebSocket does not use uWS's SSLApp: uWebSockets.js 20.30 cannot replace an SSLApp's
 * certificates without dropping connections (it reads its files once; a rebuilt SSLApp cannot
 * bind the port while connections are open), admits clients without a certificate when one is
 * required, and does not report the certificate's identity. So TLS ends in node:tls
 * (ws-front.ts), which reloads on SIGHUP and enforces client certificates, and the decrypted
 * bytes reach this App over a private Unix socket; the upgrade handler takes the client's
 * address and identity from the front connection its header names (`claim`). Plain ws goes
 * through a node:net front the same way unless --ws-check-masks is false: uWS never looks at
 * the MASK bit, the front does.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, WebSocketBehavior, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';
import type { TimerWheel } from '../core/timer-wheel.js';
import { ConfigError } from '../errors.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { TlsProvider } from './tls.js';
import type { WsRoute } from './ws-routes.js';
import type { Uws } from './uws-loader.js';
import { WsLink, type WsLinkLimits, type WsUserData } from './ws-link.js';
import { listenFailure } from './listen.js';
import { FRONT_HEADER, WsFront, privateSocketPath, type FrontConnection } from './ws-front.js';

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
  /** Browser origins let in (--ws-allowed-origins); null = any. Requests without Origin and same-host pages always are. */
  readonly allowedOrigins: ReadonlySet<string> | null;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
}

/** What a listener behind a front adds: the certificates (wss) and the front's limits. */
export interface WsFrontedOptions extends WsListenOptions {
  /** The certificates of wss; null for plain ws behind a node:net front. */
  readonly tls: TlsProvider | null;
  /** Seconds a connection has for its TLS handshake, then for its upgrade request (--connect-timeout). */
  readonly connectTimeout: number;
  readonly maxConnections: number;
  readonly wheel: TimerWheel;
}

/**
 * Bytes a paused fronted link may still receive besides `pausedLimit`: what was already on its way
 * from the front when the client side stopped being read (the inner Unix socket's kernel
 * buffer, about 208 KiB by default, plus node's 16 KiB write buffer).
 */
const FRONT_IN_FLIGHT = 256 * 1024;

type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => void;

/** A bound WebSocket listener. */
export class WsListener {
  private boundPort: number;
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | false = false;
  private readonly limits: WsLinkLimits;
  /** The node:tls or node:net front whose connections this App serves; null for ws without one. */
  private front: WsFront | null = null;
  private removeSocketDir: (() => void) | null = null;

  private constructor(
    private readonly uws: Uws,
    private readonly options: WsListenOptions,
    port: number,
    fronted: boolean,
  ) {
    this.boundPort = port;
    this.limits = { pausedLimit: options.maxPayloadLength + (fronted ? FRONT_IN_FLIGHT : 0) };
    this.app = this.build(fronted);
  }

  /** Builds the app and binds it; throws ConfigError naming the flag when the port cannot be bound. */
  static open(uws: Uws, options: WsListenOptions): WsListener {
    let listener: WsListener;
    try {
      listener = new WsListener(uws, options, options.port, false);
    } catch (err) {
      throw new ConfigError(`${options.flag}: cannot set up the ${options.transport} listener: ${(err as Error).message ?? String(err)}`);
    }
    const socket = listener.bind(options.port);
    if (socket === false) {
      throw listenFailure(options.flag, options.host, options.port, 'the port is in use, or the address is not available');
    }
    // Port 0 asks for any free port: learn which.
    listener.boundPort = listener.uws.us_socket_local_port(socket as never);
    return listener;
  }

  /**
   * Binds the App to a private Unix socket, then the front (node:tls for wss, node:net for ws)
   * to the port; throws ConfigError naming the flag when either cannot be set up.
   */
  static async openFronted(uws: Uws, options: WsFrontedOptions): Promise<WsListener> {
    const socketPath = privateSocketPath();
    let listener: WsListener | null = null;
    try {
      listener = new WsListener(uws, options, options.port, true);
      listener.removeSocketDir = socketPath.remove;
      let bound = false as us_listen_socket | false;
      listener.app.listen_unix((socket) => {
        bound = socket;
      }, socketPath.path);
      listener.listenSocket = bound;
      if (bound === false) throw new Error(`the internal socket ${socketPath.path} cannot be bound`);
    } catch (err) {
      listener?.close();
      socketPath.remove();
      throw new ConfigError(`${options.flag}: cannot set up the ${options.transport} listener: ${(err as Error).message ?? String(err)}`);
    }
    try {
      const frontOptions = { host: options.host, port: options.port, maxConnections: options.maxConnections, connectTimeout: options.connectTimeout, wheel: options.wheel };
      listener.front = await WsFront.open(frontOptions, options.tls, socketPath.path);
    } catch (err) {
      listener.close();
      throw listenFailure(options.flag, options.host, options.port, err);
    }
    listener.boundPort = listener.front.port;
    return listener;
  }

  /** The port bound (the one chosen when 0 was asked for). */
  get port(): number {
    return this.boundPort;
  }

  /** Stops accepting; open connections are ended by their protocols. */
  close(): void {
    this.front?.close();
    const socket = this.listenSocket;
    this.listenSocket = false;
    if (socket !== false) this.uws.us_listen_socket_close(socket);
    // Connections already piped keep their inner sockets; the path is needed only to accept.
    this.removeSocketDir?.();
    this.removeSocketDir = null;
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

  private build(fronted: boolean): TemplatedApp {
    const o = this.options;
    const app = this.uws.App();
    for (const route of o.routes) app.ws<WsUserData>(route.path, fronted ? this.frontedBehavior(route) : this.behavior(route));
    const paths = o.routes.map((r) => r.path).join(', ');
    app.any('/*', (res: HttpResponse, req: HttpRequest) => {
      const upgrade = req.getHeader('upgrade') !== '';
      const status = upgrade ? '404 Not Found' : '426 Upgrade Required';
      refuse(res, status, `${upgrade ? `no WebSocket endpoint at ${clip(req.getUrl())}` : 'this port speaks WebSocket only'}; paths: ${paths}\n`);
    });
    return app;
  }

  /** ws without a front: the client is the socket's peer. */
  private behavior(route: WsRoute): WebSocketBehavior<WsUserData> {
    return this.behaviorWith(route, (res) => {
      const address = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
      return new WsLink(this.options.transport, address, 0, this.limits, null);
    });
  }

  /** Behind a front: the client is the front connection the request's front header names; nothing else gets in. */
  private frontedBehavior(route: WsRoute): WebSocketBehavior<WsUserData> {
    const transport = this.options.transport;
    return this.behaviorWith(route, (res, req) => {
      const conn: FrontConnection | null = this.front?.claim(req.getHeader(FRONT_HEADER)) ?? null;
      if (conn === null) {
        // Only a local process that bypassed the front can get here; the client never sees this.
        if (this.options.logLimit.allow('ws-front')) this.options.log.warn('WebSocket upgrade refused: it did not come through the front', { path: route.path, transport });
        refuse(res, '403 Forbidden', `connect through the ${this.options.flag} port\n`);
        return null;
      }
      const link = new WsLink(transport, conn.remoteAddress, conn.remotePort, this.limits, conn);
      link.peerIdentity = conn.identity;
      return link;
    });
  }

  /** The route's behaviour; `linkFor` makes the link of an upgrade request, or refuses it (null, having answered). */
  private behaviorWith(route: WsRoute, linkFor: (res: HttpResponse, req: HttpRequest) => WsLink | null): WebSocketBehavior<WsUserData> {
    const o = this.options;
    return {
      compression: this.uws.DISABLED,
      maxPayloadLength: o.maxPayloadLength,
      idleTimeout: o.idleTimeout,
      maxBackpressure: o.maxBackpressure,
      sendPingsAutomatically: true,
      upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
        // A page on another site must not reach the broker with its visitor's network position
        // (cross-site WebSocket hijacking): browsers always send Origin, other clients do not.
        const origin = req.getHeader('origin');
        if (origin !== '' && !originAllowed(origin, req.getHeader('host'), o.allowedOrigins)) {
          if (o.logLimit.allow('ws-origin')) o.log.info('WebSocket upgrade refused: origin not allowed', { path: route.path, origin: clip(origin) });
          refuse(res, '403 Forbidden', `origin ${clip(origin)} may not open a WebSocket here; the operator lists allowed pages in --ws-allowed-origins\n`);
          return;
        }
        const link = linkFor(res, req);
        if (link === null) return;
        const offered = req.getHeader('sec-websocket-protocol');
        const chosen = chooseSubprotocol(offered, route.subprotocols);
        if (chosen === null) {
          const text = `${route.path} needs the WebSocket subprotocol ${route.subprotocols.join(' or ')}; the client offered ${offered === '' ? 'none' : `"${clip(offered)}"`}\n`;
          if (o.logLimit.allow('ws-subprotocol')) o.log.info('WebSocket upgrade refused: no matching subprotocol', { path: route.path, offered: clip(offered), address: link.remoteAddress });
          refuse(res, '400 Bad Request', text);
          return;
        }
        res.upgrade<WsUserData>({ link }, req.getHeader('sec-websocket-key'), chosen, req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        ws.getUserData().link.opened(ws, route.accept);
      },
      message: route.binaryOnly === true ? binaryMessage : anyMessage,
      drain: (ws) => ws.getUserData().link.drained(),
      close: (ws, code) => ws.getUserData().link.closed(code),
    };
  }
}

function anyMessage(ws: WebSocket<WsUserData>, message: ArrayBuffer): void {
  ws.getUserData().link.received(message);
}

/** A route that takes binary frames only: a text frame closes with 1003 (unsupported data). */
function binaryMessage(ws: WebSocket<WsUserData>, message: ArrayBuffer, isBinary: boolean): void {
  if (isBinary) ws.getUserData().link.received(message);
  else ws.end(CLOSE_UNSUPPORTED_DATA, 'binary frames only');
}

/** 1003: the endpoint got data of a type it cannot accept (RFC 6455 7.4.1). */
const CLOSE_UNSUPPORTED_DATA = 1003;

/** Parses --ws-allowed-origins: `*` = any (null), else the origins listed, normalised; throws ConfigError for one that is not scheme://host[:port]. */
export function parseAllowedOrigins(text: string): ReadonlySet<string> | null {
  const origins = new Set<string>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === '*') return null;
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new ConfigError(`--ws-allowed-origins: "${item}" is not an origin like https://app.example.com`);
    }
    if (url.origin === 'null' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      throw new ConfigError(`--ws-allowed-origins: "${item}" is not an origin like https://app.example.com (scheme, host and port only)`);
    }
    origins.add(url.origin);
  }
  return origins;
}

/** True when a browser page from `origin` may connect: listed, any allowed, or the same host name the request went to. */
export function originAllowed(origin: string, host: string, allowed: ReadonlySet<string> | null): boolean {
  if (allowed === null) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (allowed.has(url.origin)) return true;
  // The same host name (any port): a page the operator serves from the broker's own machine.
  return host !== '' && url.hostname !== '' && url.hostname === hostName(host);
}

/** The host name of a Host header (without its port; IPv6 in brackets as URL writes it). */
function hostName(host: string): string {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return '';
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

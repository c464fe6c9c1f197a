/** MQTT (and later other protocols) over plain TCP with node:net. */
import net from 'node:net';
import type { Link, LinkAcceptor, LinkHandler, TransportName } from './link.js';
import { AcceptGate, type AcceptPacing } from './accept-gate.js';

class SocketLink implements Link {
  readonly transport: TransportName;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly socket: net.Socket;

  constructor(socket: net.Socket, transport: TransportName) {
    this.socket = socket;
    this.transport = transport;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
  }

  write(data: Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(data);
  }
  cork(): void {
    this.socket.cork();
  }
  uncork(): void {
    this.socket.uncork();
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    // An ended link never reads again: a paced client resumed after its DISCONNECT would
    // otherwise have its kernel buffers (megabytes for a flooder) read and dropped.
    if (!this.socket.writableEnded) this.socket.resume();
  }
  end(): void {
    this.socket.end();
    // A peer that never reads must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }
  destroy(): void {
    this.socket.destroy();
  }
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }
}

export interface TcpListenerOptions {
  host: string;
  port: number;
  maxConnections: number;
  pacing: AcceptPacing;
}

/** A bound listener: the port it got and how to stop it. */
export interface BoundServer {
  readonly port: number;
  close(): void;
}

// Listeners are shared module functions reading the handler off the socket: no closures per
// connection (memory per idle connection is a headline figure).
const kHandler = Symbol('junction.linkHandler');
type HandledSocket = net.Socket & { [kHandler]: LinkHandler };

function onSocketData(this: HandledSocket, chunk: Buffer): void {
  this[kHandler].onData(chunk);
}
function onSocketDrain(this: HandledSocket): void {
  this[kHandler].onDrain();
}
function onSocketError(): void {
  /* reported through 'close' */
}
function onSocketClose(this: HandledSocket, hadError: boolean): void {
  this[kHandler].onClose(hadError);
}

/** Wires one accepted socket to its protocol handler. */
export function attachSocket(socket: net.Socket, transport: TransportName, accept: LinkAcceptor): void {
  socket.setNoDelay(true);
  const link = new SocketLink(socket, transport);
  const handler = accept(link);
  if (handler === null) {
    socket.destroy();
    return;
  }
  (socket as HandledSocket)[kHandler] = handler;
  socket.on('data', onSocketData);
  socket.on('drain', onSocketDrain);
  socket.on('error', onSocketError);
  socket.on('close', onSocketClose);
}

/** Starts a TCP listener; resolves once it is bound. */
export function listenTcp(options: TcpListenerOptions, accept: LinkAcceptor): Promise<BoundServer> {
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => attachSocket(socket, 'tcp', accept));
  return bindServer(server, options, 'tcp');
}

/** Listens with the options' backlog, connection cap and accept pacing (TCP and TLS alike). */
export function bindServer(server: net.Server, options: TcpListenerOptions, transport: TransportName): Promise<BoundServer> {
  server.maxConnections = options.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, backlog: options.pacing.backlog }, () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      // An accept can fail (EMFILE when out of descriptors): say so, once a second at most;
      // the server listens on.
      let loggedAt = 0;
      server.on('error', (err: Error) => {
        const now = Date.now();
        if (now - loggedAt < 1000) return;
        loggedAt = now;
        options.pacing.log.warn('listener error (accepting goes on)', { transport, port, error: err.message });
      });
      const gate = options.pacing.ratePerSecond > 0 ? new AcceptGate(server, options.pacing, { host: options.host, port }, `${transport}:${port}`) : null;
      resolve({
        port,
        close: () => {
          gate?.close();
          server.close();
        },
      });
    });
  });
}
